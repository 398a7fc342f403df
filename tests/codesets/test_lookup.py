import pytest

from codesets import CodeFormatError, DateOfServiceError, load_codesets, normalize_icd


@pytest.fixture(scope="module")
def cs():
    return load_codesets()


@pytest.mark.parametrize(
    ("code", "dos", "status", "billable"),
    [
        ("E11.65", "2026-03-01", "valid", True),
        ("E11", "2026-03-01", "header", False),
        ("G35", "2025-06-01", "valid", True),
        ("G35", "2026-03-01", "header", False),
        ("S30.1XXA", "2025-03-01", "valid", True),
        ("S30.1XXA", "2026-03-01", "deleted", False),
        ("E11.65", "2026-11-20", "stale_codeset", True),
    ],
)
def test_icd_status_by_date(cs, code, dos, status, billable):
    r = cs.lookup(code, dos=dos)
    assert (r.status, r.billable, r.system) == (status, billable, "icd10cm")


def test_header_lists_billable_children(cs):
    r = cs.lookup("E11", dos="2026-03-01")
    assert "E11.65" in r.children and "E11" not in r.children
    assert all(cs.lookup(c, dos="2026-03-01").status == "valid" for c in r.children[:20])


def test_deleted_names_fiscal_year(cs):
    r = cs.lookup("S30.1XXA", dos="2026-03-01")
    assert r.deleted_in_fy == 2026 and "FY2026" in r.message


def test_stale_codeset_never_silent(cs):
    r = cs.lookup("E11.65", dos="2026-11-20")
    assert r.status == "stale_codeset" and "FY2027" in r.message
    assert cs.lookup("99213", system="cpt", dos="2027-01-15").status == "stale_codeset"


def test_fy2024_headers_inferred(cs):
    assert cs.lookup("E11", dos="2024-03-01").status == "header"
    assert cs.lookup("E11.65", dos="2024-03-01").status == "valid"


@pytest.mark.parametrize("raw", ["E11.65", "e11.65", "E1165", " e1165 ", "E11-65"])
def test_normalisation(cs, raw):
    assert normalize_icd(raw) == "E11.65"
    assert cs.lookup(raw, dos="2026-03-01").code == "E11.65"


@pytest.mark.parametrize(("code", "level"), [("0001F", "CPT_II"), ("0042T", "CPT_III"), ("99213", "CPT_I"), ("G0439", "HCPCS_II")])
def test_procedure_levels(cs, code, level):
    r = cs.lookup(code, system="hcpcs" if code[0].isalpha() else None, dos="2025-03-01")
    assert r.status == "valid" and r.level == level and r.system in ("cpt", "hcpcs")


def test_cpt_unknown_is_invalid(cs):
    assert cs.lookup("99999", system="cpt", dos="2025-03-01").status == "invalid"


def test_ambiguous_code_is_explained(cs):
    r = cs.lookup("J1100")
    assert r.system == "icd10cm" and "hcpcs" in r.message
    assert cs.lookup("J1100", system="hcpcs").system == "hcpcs"


@pytest.mark.parametrize("garbage", ["garbage", "", "12", "E11.6500000", "99213X"])
def test_garbage_is_a_typed_error(cs, garbage):
    with pytest.raises(CodeFormatError):
        cs.lookup(garbage)


@pytest.mark.parametrize("dos", ["2026-13-01", "yesterday", "2019-01-01"])
def test_bad_dates(cs, dos):
    with pytest.raises(DateOfServiceError):
        cs.lookup("E11.65", dos=dos)


def test_unknown_system(cs):
    with pytest.raises(CodeFormatError):
        cs.lookup("E11.65", system="snomed")


def test_excludes1_expanded_from_category_note(cs):
    note = cs.icd.excludes1_conflict("E1165", "E1010")
    assert note is not None and note.note_type == "excludes1"
    assert cs.icd.excludes1_conflict("E1165", "I10") is None
    assert "E1010" in cs.icd.expand_refs(note, 2026)


def test_block_and_chapter_notes_apply(cs):
    assert cs.icd.chapter("E1165") == "CH4"
    # A15-A19 block note: congenital tuberculosis P37.0 is excludes1 for every tuberculosis code
    assert cs.icd.excludes1_conflict("A150", "P370") is not None


def test_mce_attributes(cs):
    # V-codes are external causes; O-codes are maternity-only (9-64); G01 is a manifestation code
    assert cs.icd.mce("V0001XA").external_cause
    assert cs.icd.mce("G01").manifestation or cs.icd.mce("G02").manifestation
    assert not cs.icd.mce("E1165").external_cause
    assert cs.icd.mce("O80").age_lo >= 9


def test_ncci_and_addons(cs):
    procs = cs.procedures
    assert procs.is_ptp_bypass("59") and procs.is_ptp_bypass("XS") and not procs.is_ptp_bypass("95")
    assert "11102" in procs.addons["11103"][1]
    edit = procs.ptp_edit("99213", "96372")
    assert edit is None or edit.modifier_indicator in (0, 1)


def test_version_string(cs):
    assert cs.version.startswith("icd10cm-FY2024-FY2026")


@pytest.mark.parametrize(("key", "chapter"), [("O0900", "CH15"), ("C50911", "CH2"), ("B1081", "CH1"), ("E1165", "CH4")])
def test_one_category_blocks_have_no_cycle(cs, key, chapter):
    assert cs.icd.chapter(key) == chapter
    assert len(cs.icd.containers(key)) == len(set(cs.icd.containers(key)))
    cs.icd.notes(key)  # terminates
