"""Maintainer script: extract ICD-10-CM inclusion terms and chapter/block structure.

Source: PyPI `simple-icd-10-cm==1.5.0` (CDC icd10cm-tabular-April-1-2026.xml, public domain).
Writes codesets/data/icd10cm_inclusion_terms.csv.gz and codesets/data/icd10cm_structure.csv.gz.
Run once after `pip install simple-icd-10-cm==1.5.0`; the outputs are committed, so the
package never needs simple-icd-10-cm at run time.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import simple_icd_10_cm as cm  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "codesets" / "data"


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    (OUT / name).write_bytes(gzip.compress(buf.getvalue().encode(), mtime=0))


def _block_id(name: str) -> str:
    return name if "-" in name or cm.is_chapter(name) else f"{name}-{name}"


def main() -> None:
    incl: list[list[str]] = []
    struct: list[list[str]] = []
    seen_blocks: set[str] = set()
    for item in cm.get_all_codes(with_dots=True):
        if cm.is_chapter(item):
            struct.append([f"CH{item}", "chapter", "", cm.get_description(item)])
            continue
        if cm.is_block(item) and "-" in item:
            parent = cm.get_parent(item)
            struct.append([item, "block", f"CH{parent}" if cm.is_chapter(parent) else _block_id(parent),
                           cm.get_description(item)])
            continue
        if cm.is_block(item) and item not in seen_blocks:
            seen_blocks.add(item)  # its second occurrence in the listing is the category
            # a one-category block shares its name with its category (B10, C50, O09...):
            # name the block B10-B10 so the hierarchy has no self-loop
            parent = cm.get_ancestors(item)[1]  # [the block itself, its parent, ...]
            struct.append([f"{item}-{item}", "block", f"CH{parent}" if cm.is_chapter(parent) else _block_id(parent),
                           cm.get_description(item)])
            continue
        key = item.replace(".", "")
        if cm.is_category(item):
            struct.append([key, "category", _block_id(cm.get_parent(item)), ""])
        for term in cm.get_inclusion_term(item):
            incl.append([key, "inclusion", term.strip()])
        for term in cm.get_includes(item):
            incl.append([key, "includes", term.strip()])
    _write("icd10cm_inclusion_terms.csv.gz", ["code", "kind", "term"], incl)
    _write("icd10cm_structure.csv.gz", ["id", "kind", "parent", "description"], struct)
    print(f"{len(incl)} inclusion terms, {len(struct)} structure rows")


if __name__ == "__main__":
    main()
