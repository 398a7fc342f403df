"""The dev-note benchmarks that swap in unseen names (family D) and templates (family C) change
only what they say and restore the generator afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_family_d  # noqa: E402
import family_d  # noqa: E402

from pipelines.synthetic.knowledge import load_knowledge  # noqa: E402


def test_family_d_names_are_swapped_in_and_restored() -> None:
    k = load_knowledge()
    htn = k.concepts["htn"]
    derived = next(c for c in k.concepts.values() if c.derived)
    proc = next(p for p in k.procedures.values() if p.code in family_d.PROCEDURE_NAMES_D)
    before = (htn.names["A"], derived.names["A"], proc.names["A"], k.uncertain[0]["dx"]["A"])
    with bench_family_d.family_d_names():
        assert htn.names["A"] == tuple(family_d.CONDITION_NAMES_D["htn"])
        assert proc.names["A"] == tuple(family_d.PROCEDURE_NAMES_D[proc.code])
        assert list(k.uncertain[0]["dx"]["A"]) == family_d.UNCERTAIN_NAMES_D[0]
        assert derived.names["A"] and derived.names["A"] != before[1]
    assert (htn.names["A"], derived.names["A"], proc.names["A"], k.uncertain[0]["dx"]["A"]) == before


def test_family_d_names_differ_from_family_a_and_keep_placeholders() -> None:
    k = load_knowledge()
    for cid, names in family_d.CONDITION_NAMES_D.items():
        a_names = {n.lower() for n in k.concepts[cid].names["A"]}
        assert names and not a_names & {n.lower() for n in names}, cid
        assert any("{v}" in n for n in names) == any("{v}" in n for n in k.concepts[cid].names["A"]), cid
    assert family_d.paraphrase_d("Malignant neoplasm of upper lobe, left bronchus or lung")
    assert family_d.paraphrase_d("Fracture of shaft of left femur, initial encounter") != (
        "Fracture of shaft of left femur, initial encounter")


def test_family_d_dev_notes_keep_valid_gold() -> None:
    plain = bench_family_d.dev_notes(4, names_d=False, templates_c=False)
    notes = bench_family_d.dev_notes(4, names_d=True, templates_c=True)
    assert len(notes) == 4
    assert all(n["split"] == "dev" and n["text"] and (n["icd10cm"] or n["cpt"]) for n in notes)
    assert [n["text"] for n in notes] != [n["text"] for n in plain]
    # the generator is restored: family A's notes come back unchanged
    assert bench_family_d.dev_notes(4, names_d=False, templates_c=False) == plain
