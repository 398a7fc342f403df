"""Validator behaviour on hand-made claims: findings, fixes, pointers and malformed input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from validator import Claim, ClaimError, ValidationResult, validate
from validator.ruleset import Ruleset

DATA = Path(__file__).parent / "data"
DOS = "2026-03-02"


def claim(dx: list[str], lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"date_of_service": DOS, "patient": {"age": 55, "sex": "F"}, "icd10cm": dx,
                            "cpt_lines": lines}
    base.update(kw)
    return base


def rules(res: ValidationResult, severity: str | None = None) -> set[str]:
    return {f.rule for f in res.findings if severity is None or f.severity == severity}


def test_contract_sample_claim(ruleset: Ruleset) -> None:
    data = json.loads((DATA / "contract_claim.json").read_text())
    res = validate(data, ruleset=ruleset)
    out = res.model_dump()
    assert set(out) == {"status", "findings", "cpt_lines", "ruleset_version"}
    assert res.ruleset_version == ruleset.version
    # pointers normalised to dotted codes; the empty one on 36415 assigned
    assert [line.dx for line in res.cpt_lines][:2] == [["E11.65", "I10"], ["E11.65"]]
    assert res.cpt_lines[2].dx and "missing_dx_pointer" in rules(res)
    assert res.status in ("pass", "warn")
    for f in out["findings"]:
        assert set(f) >= {"rule", "severity", "codes", "line", "message", "fix"}


def test_accepts_claim_model_and_dict_alike(ruleset: Ruleset) -> None:
    d = claim(["E11.65"], [{"code": "83036", "dx": [1]}])
    assert validate(d, ruleset=ruleset) == validate(Claim.model_validate(d), ruleset=ruleset)


def test_deleted_code_names_the_fiscal_year(ruleset: Ruleset) -> None:
    res = validate(claim(["T78.1XXA"], [{"code": "99283", "dx": [1]}]), ruleset=ruleset)
    f = next(f for f in res.findings if f.rule == "deleted_code")
    assert "FY2026" in f.message and f.codes == ["T78.1XXA"]
    # the same code is valid a year earlier
    assert "deleted_code" not in rules(validate(claim(["T78.1XXA"], [{"code": "99283", "dx": [1]}],
                                                     date_of_service="2025-03-02"), ruleset=ruleset))


def test_header_code_lists_billable_children(ruleset: Ruleset) -> None:
    res = validate(claim(["E11.6"], [{"code": "99213", "dx": [1]}]), ruleset=ruleset)
    f = next(f for f in res.findings if f.rule == "non_billable_code")
    assert "E11.65" in f.fix and f.severity == "error"


def test_stale_codeset_is_a_warning_not_a_silent_pass(ruleset: Ruleset) -> None:
    res = validate(claim(["I10"], [{"code": "99213", "dx": [1]}], date_of_service="2026-11-02"), ruleset=ruleset)
    stale = [f for f in res.findings if f.rule == "stale_codeset"]
    assert stale and all(f.severity == "warning" for f in stale)
    assert res.status == "warn"


def test_medical_necessity_counts_only_pointed_diagnoses(ruleset: Ruleset) -> None:
    dx = ["J06.9", "E11.65"]
    bad = validate(claim(dx, [{"code": "99213", "dx": [1, 2]}, {"code": "83036", "dx": [1]}]), ruleset=ruleset)
    f = next(f for f in bad.findings if f.rule == "dx_not_supporting_procedure")
    assert f.line == 2 and f.severity == "error" and "83036" in f.codes and "J06.9" in f.codes
    assert "190.21" in f.policy
    good = validate(claim(dx, [{"code": "99213", "dx": [1, 2]}, {"code": "83036", "dx": [2]}]), ruleset=ruleset)
    assert "dx_not_supporting_procedure" not in rules(good)


def test_unsupported_line_without_pointers_is_reported(ruleset: Ruleset) -> None:
    res = validate(claim(["J06.9"], [{"code": "83036"}]), ruleset=ruleset)
    assert "dx_not_supporting_procedure" in rules(res, "error")
    assert res.cpt_lines[0].dx == []


def test_ncci_never_together_and_message_names_outpatient_table(ruleset: Ruleset) -> None:
    res = validate(claim(["E78.5"], [{"code": "80053", "dx": [1]}, {"code": "80048", "dx": [1]}]), ruleset=ruleset)
    f = next(f for f in res.findings if f.rule == "ncci_ptp_conflict")
    assert f.severity == "error" and f.codes == ["80053", "80048"]
    assert "outpatient-hospital" in f.message and "never" in f.message


def test_ncci_bypass_modifier_on_column_two(ruleset: Ruleset) -> None:
    lines = [{"code": "93000", "dx": [1]}, {"code": "93005", "dx": [1]}]
    assert "ncci_ptp_conflict" in rules(validate(claim(["R94.31"], lines), ruleset=ruleset), "error")
    lines[1]["modifiers"] = ["59"]
    res = validate(claim(["R94.31"], lines), ruleset=ruleset)
    f = next(f for f in res.findings if f.rule == "ncci_ptp_conflict")
    assert f.severity == "info" and "59" in f.message
    # the modifier on the column-1 code does not bypass the edit
    lines[1]["modifiers"], lines[0]["modifiers"] = [], ["59"]
    assert "ncci_ptp_conflict" in rules(validate(claim(["R94.31"], lines), ruleset=ruleset), "error")


def test_em_with_procedure_needs_25(ruleset: Ruleset) -> None:
    lines: list[dict[str, Any]] = [{"code": "99214", "dx": [1]}, {"code": "96372", "dx": [1]}]
    res = validate(claim(["E11.65"], lines), ruleset=ruleset)
    assert {"missing_modifier", "ncci_ptp_conflict"} <= rules(res, "error")
    mm = next(f for f in res.findings if f.rule == "missing_modifier")
    assert mm.line == 1 and "25" in mm.fix
    lines[0]["modifiers"] = ["25"]
    res = validate(claim(["E11.65"], lines), ruleset=ruleset)
    assert not rules(res, "error")


def test_em_with_lab_needs_no_25(ruleset: Ruleset) -> None:
    res = validate(claim(["E11.65"], [{"code": "99214", "dx": [1]}, {"code": "36415", "dx": [1]},
                                      {"code": "83036", "dx": [1]}]), ruleset=ruleset)
    assert res.status == "pass", [f.message for f in res.findings]


def test_telehealth_by_place_of_service(ruleset: Ruleset) -> None:
    res = validate(claim(["I10"], [{"code": "99213", "dx": [1]}], place_of_service="02"), ruleset=ruleset)
    assert "missing_modifier" in rules(res, "error")
    ok = validate(claim(["I10"], [{"code": "99213", "modifiers": ["93"], "dx": [1]}], place_of_service="02"),
                  ruleset=ruleset)
    assert "missing_modifier" not in rules(ok)


def test_addon_with_and_without_primary(ruleset: Ruleset) -> None:
    lone = validate(claim(["L97.412"], [{"code": "11045", "dx": [1]}]), ruleset=ruleset)
    f = next(f for f in lone.findings if f.rule == "addon_without_primary")
    assert "11042" in f.message
    assert "addon_without_primary" not in rules(
        validate(claim(["L97.412"], [{"code": "11042", "dx": [1]}, {"code": "11045", "dx": [1]}]), ruleset=ruleset))


def test_excludes1_both_orders_and_range_note(ruleset: Ruleset) -> None:
    a = validate(claim(["E11.9", "R73.9"], [{"code": "99213", "dx": [1]}]), ruleset=ruleset)
    b = validate(claim(["R73.9", "E11.9"], [{"code": "99213", "dx": [1]}]), ruleset=ruleset)
    fa = [f for f in a.findings if f.rule == "excludes1_conflict"]
    fb = [f for f in b.findings if f.rule == "excludes1_conflict"]
    assert fa and fa[0].codes == fb[0].codes  # the note's host is named first, whatever the order


def test_excludes1_note_exception_and_policy_exception(ruleset: Ruleset) -> None:
    from codesets import load_codesets
    from validator.engine import _cs_id, _note_exception

    cid = _cs_id(load_codesets())
    # an "except <condition>" clause: excluded codes naming that condition are allowed
    assert _note_exception(cid, "disorders of cervix, except hypertrophic elongation (N86-N88)", "N884")
    assert not _note_exception(cid, "disorders of cervix, except hypertrophic elongation (N86-N88)", "N880")
    assert not _note_exception(cid, "noninflammatory disorders of cervix (N86-N88)", "N884")
    res = validate(claim(["N85.8", "N88.0"], [{"code": "99213", "dx": [1, 2]}]), ruleset=ruleset)
    assert "excludes1_conflict" in rules(res)
    # policy.yaml exception (guideline I.A.12.a example): the pair is an Excludes1 pair in the data
    assert load_codesets().icd.excludes1_conflict("F458", "G4763") is not None
    res = validate(claim(["F45.8", "G47.63"], [{"code": "99213", "dx": [1, 2]}]), ruleset=ruleset)
    assert "excludes1_conflict" not in rules(res)


def test_age_conflict_for_procedure_range(ruleset: Ruleset) -> None:
    res = validate(claim(["R50.9"], [{"code": "36410", "dx": [1]}], patient={"age": 1, "sex": "M"}),
                   ruleset=ruleset)
    assert any(f.rule == "age_conflict" and f.codes == ["36410"] for f in res.findings)


def test_sex_conflict_is_only_a_warning(ruleset: Ruleset) -> None:
    res = validate(claim(["N40.0"], [{"code": "99213", "dx": [1]}], patient={"age": 70, "sex": "F"}),
                   ruleset=ruleset)
    assert res.status == "warn" and rules(res) == {"sex_conflict_warning"}


def test_pointer_findings(ruleset: Ruleset) -> None:
    res = validate(claim(["E11.65", "I10"], [{"code": "99214", "dx": [5]}]), ruleset=ruleset)
    f = next(f for f in res.findings if f.rule == "invalid_pointer")
    assert "outside 1..2" in f.message
    assert res.cpt_lines[0].dx  # invalid pointer dropped, supporting diagnoses assigned
    res = validate(claim(["E11.65", "I10", "E78.5", "N18.31", "Z79.4"],
                         [{"code": "99214", "dx": [1, 2, 3, 4, 5]}]), ruleset=ruleset)
    assert "too_many_pointers" in rules(res, "error")
    res = validate(claim(["E11.65", "I10"], [{"code": "99214", "dx": ["e1165", "2", 1]}]), ruleset=ruleset)
    assert res.cpt_lines[0].dx == ["E11.65", "I10"] and not res.findings


def test_thirteen_diagnoses_is_a_finding(ruleset: Ruleset) -> None:
    dx = ["E11.65", "I10", "E78.5", "N18.31", "Z79.4", "J06.9", "M54.50", "R51.9", "K21.9", "F41.1",
          "G47.00", "E66.9", "J45.909"]
    res = validate(claim(dx, [{"code": "99214", "dx": [13]}]), ruleset=ruleset)
    assert "too_many_diagnoses" in rules(res, "error")


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"date_of_service": "2026-02-30"}, "not a date"),
        ({"date_of_service": "03/02/2026"}, "not a date"),
        ({"date_of_service": "2019-01-01"}, "precedes the oldest loaded code set"),
        ({"icd10cm": ["99213"]}, "unknown code system.*CPT/HCPCS"),
        ({"icd10cm": "E11.65"}, "malformed claim: icd10cm"),
        ({"cpt_lines": [{"code": "0DTJ4ZZ", "dx": [1]}]}, "unknown code system"),
        ({"cpt_lines": [{"code": "99213", "system": "icd10pcs", "dx": [1]}]}, "unknown code system"),
        ({"cpt_lines": [{"code": "99213", "dx": [1.5]}]}, "pointer must be"),
        ({"cpt_lines": [{"code": "99213", "units": "many", "dx": [1]}]}, "malformed claim: cpt_lines.0.units"),
        ({"patient": {"age": 40, "sex": "X"}}, "malformed claim: patient.sex"),
    ],
)
def test_malformed_claims_raise_claim_error(bad: dict[str, Any], match: str, ruleset: Ruleset) -> None:
    c = claim(["E11.65"], [{"code": "99213", "dx": [1]}])
    c.update(bad)
    with pytest.raises(ClaimError, match=match):
        validate(c, ruleset=ruleset)


def test_not_an_object_raises_claim_error() -> None:
    with pytest.raises(ClaimError):
        validate(["E11.65"])  # type: ignore[arg-type]
