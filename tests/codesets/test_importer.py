"""The importer reads the official CMS/CDC formats; here they are built from FY2026 data."""

from pathlib import Path

import pytest

from codesets import load_codesets, reset_codesets
from codesets.importer import ImportError_, import_release, parse_order_file

TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular><version>2027</version>
<chapter><name>4</name><desc>Endocrine, nutritional and metabolic diseases (E00-E89)</desc>
 <section id="E08-E13"><desc>Diabetes mellitus (E08-E13)</desc>
  <diag><name>E11</name><desc>Type 2 diabetes mellitus</desc>
   <excludes1><note>type 1 diabetes mellitus (E10.-)</note><note>neonatal diabetes mellitus (P70.2)</note></excludes1>
   <diag><name>E11.65</name><desc>Type 2 diabetes mellitus with hyperglycemia</desc></diag>
  </diag>
 </section>
</chapter>
</ICD10CM.tabular>
"""


def _order_file(path: Path, drop: set[str]) -> Path:
    cs = load_codesets()
    lines = []
    n = 0
    for key, entry in sorted(cs.icd.codes.items()):
        flag = entry.flags.get(2026)
        if not flag or key in drop:
            continue
        n += 1
        desc = entry.description
        lines.append(f"{n:05d} {key:<7} {'1' if flag == 'B' else '0'} {desc[:60]:<60} {desc}")
    path.write_text("\n".join(lines) + "\n", encoding="latin-1", errors="replace")
    return path


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDCODE_CODESETS_DIR", str(tmp_path / "cs"))
    reset_codesets()
    yield tmp_path / "cs"
    monkeypatch.delenv("MEDCODE_CODESETS_DIR")
    reset_codesets()


def test_import_new_fiscal_year(tmp_path, user_dir):
    assert load_codesets().lookup("E11.65", dos="2026-11-20").status == "stale_codeset"
    order = _order_file(tmp_path / "icd10cm-order-2027.txt", drop={"E1169"})
    xml = tmp_path / "icd10cm-tabular-2027.xml"
    xml.write_text(TABULAR)
    summary = import_release(order, 2027, tabular=xml)
    assert summary["fiscal_year"] == 2027 and summary["deleted"] == 1 and summary["tabular_notes"] == 2
    cs = load_codesets()
    assert cs.icd.fiscal_years[-1] == 2027
    assert cs.lookup("E11.65", dos="2026-11-20").status == "valid"
    assert cs.lookup("E11", dos="2026-11-20").status == "header"
    gone = cs.lookup("E11.69", dos="2026-11-20")
    assert gone.status == "deleted" and gone.deleted_in_fy == 2027
    assert cs.lookup("E11.65", dos="2027-10-02").status == "stale_codeset"
    note = cs.icd.excludes1_conflict("E1165", "P702")
    assert note is not None and "neonatal" in note.text


def test_bad_order_file_is_rejected(tmp_path, user_dir):
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not an order file\n")
    with pytest.raises(ImportError_, match=r"bad\.txt:1"):
        parse_order_file(bad)
    with pytest.raises(ImportError_):
        import_release(bad, 2027)
