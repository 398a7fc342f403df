"""Import an official ICD-10-CM release (CMS/CDC files) as a new fiscal year.

Inputs are the files CMS and CDC publish every year:
- `icd10cm-order-YYYY.txt`: fixed width. Columns (1-based): 1-5 order number, 7-13 code
  (dotless, left-justified), 15 header flag (0 = header, 1 = billable), 17-76 short description,
  78-end long description.
- `icd10cm-tabular-YYYY.xml` (optional): the tabular list; its excludes1/excludes2/codeFirst/
  useAdditionalCode/codeAlso notes replace the packaged FY2026 notes for that year.

Output goes to MEDCODE_CODESETS_DIR (default ~/.medcode/codesets) as
`icd10cm_fyYYYY.csv.gz` (code, flag, description) and `icd10cm_fyYYYY_tabular_notes.csv.gz`;
`codesets.load_codesets()` merges them after a `reset_codesets()` / restart.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from codesets._data import user_codesets_dir

_CODE_RE = re.compile(r"^[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])[0-9A-Z]{0,4}$")
_REF_RE = re.compile(r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]{0,4})?(?:\s*-\s*[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]{0,4})?)?)\)")
NOTE_TAGS = ("excludes1", "excludes2", "codeFirst", "useAdditionalCode", "codeAlso")


class ImportError_(ValueError):
    """The release file is not in the expected official format."""


def parse_order_file(path: Path) -> list[tuple[str, str, str]]:
    """(code, flag 'B'|'H', long description) per line of an icd10cm-order file."""
    rows: list[tuple[str, str, str]] = []
    with open(path, encoding="latin-1") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if len(line) < 16 or not line[:5].strip().isdigit():
                raise ImportError_(f"{path.name}:{lineno}: not an icd10cm-order line (expected order number in columns 1-5)")
            code = line[6:13].strip()
            flag = line[14:15]
            if not _CODE_RE.match(code) or flag not in ("0", "1"):
                raise ImportError_(f"{path.name}:{lineno}: bad code {code!r} or header flag {flag!r}")
            desc = line[77:].strip() or line[16:76].strip()
            rows.append((code, "B" if flag == "1" else "H", desc))
    if not rows:
        raise ImportError_(f"{path.name}: no codes found")
    return rows


def _refs(note: str) -> str:
    out = []
    for m in _REF_RE.finditer(note):
        ref = m.group(1).replace(" ", "")
        if "-" in ref.rstrip("-") and not ref.endswith(".-"):
            lo, hi = ref.split("-", 1)
            out.append(f"{lo.replace('.', '')}..{hi.replace('.', '')}")
        else:
            base = ref.rstrip("-").rstrip(".").replace(".", "")
            out.append(f"{base}*" if ref.endswith("-") else base)
    return " ".join(out)


def parse_tabular_xml(path: Path) -> list[dict[str, str]]:
    """Tabular notes in the packaged notes format (host, host_kind, note_type, note, refs)."""
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise ImportError_(f"{path.name}: not valid XML ({exc})") from None
    rows: list[dict[str, str]] = []

    def emit(host: str, kind: str, elem: ET.Element) -> None:
        for tag in NOTE_TAGS:
            for block in elem.findall(tag):
                for note in block.findall("note"):
                    text = (note.text or "").strip()
                    rows.append({"host": host, "host_kind": kind, "note_type": tag, "note": text, "refs": _refs(text)})

    root = tree.getroot()
    for ch in root.iter("chapter"):
        num = (ch.findtext("name") or "").strip()
        emit(f"CH{num}", "chapter", ch)
        for sec in ch.findall("section"):
            emit(sec.get("id", ""), "block", sec)
    for diag in root.iter("diag"):
        name = (diag.findtext("name") or "").strip().replace(".", "")
        if name:
            emit(name, "code", diag)
    return rows


def _write_gz(path: Path, header: list[str], rows: list[list[str]] | list[dict[str, str]]) -> None:
    buf = io.StringIO()
    if rows and isinstance(rows[0], dict):
        w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    else:
        cw = csv.writer(buf, lineterminator="\n")
        cw.writerow(header)
        cw.writerows(rows)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), mtime=0))
    tmp.replace(path)


def import_release(order_file: Path, fiscal_year: int, *, tabular: Path | None = None,
                   out_dir: Path | None = None) -> dict[str, Any]:
    """Import one fiscal year; returns a summary (counts, added/deleted billable codes vs newest)."""
    from codesets.lookup import load_codesets, reset_codesets

    if not 2016 <= fiscal_year <= 2100:
        raise ImportError_(f"fiscal year {fiscal_year} is out of range")
    rows = parse_order_file(Path(order_file))
    out = Path(out_dir) if out_dir else user_codesets_dir()
    out.mkdir(parents=True, exist_ok=True)
    _write_gz(out / f"icd10cm_fy{fiscal_year}.csv.gz", ["code", "flag", "description"], [list(r) for r in rows])
    n_notes = 0
    if tabular is not None:
        notes = parse_tabular_xml(Path(tabular))
        n_notes = len(notes)
        _write_gz(out / f"icd10cm_fy{fiscal_year}_tabular_notes.csv.gz",
                  ["host", "host_kind", "note_type", "note", "refs"], notes)
    cs = load_codesets()
    prev = max((fy for fy in cs.icd.fiscal_years if fy < fiscal_year), default=None)
    new_b = {c for c, f, _ in rows if f == "B"}
    summary: dict[str, Any] = {"fiscal_year": fiscal_year, "codes": len(rows), "billable": len(new_b),
                               "tabular_notes": n_notes, "written_to": str(out)}
    if prev is not None:
        old_b = set(cs.icd.billable_codes(prev))
        summary.update({"compared_with": f"FY{prev}", "added": len(new_b - old_b), "deleted": len(old_b - new_b)})
    reset_codesets()
    return summary
