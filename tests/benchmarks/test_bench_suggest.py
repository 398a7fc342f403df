"""bench_suggest's CodiEsp scoring: strict matching, and the edition crosswalk for gold codes that
the loaded code sets no longer bill (split into children since the gold's 2018 edition)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_suggest as B  # noqa: E402


def test_split_codes_are_those_no_loaded_year_bills_but_whose_children_it_does() -> None:
    split = B.split_since({"R51", "R05", "M545", "I10", "R52", "ZZZ9", "S0180X"})
    assert {"R51", "R05", "M545"} <= split  # headache, cough, low back pain: split in FY2021-FY2022
    assert not split & {"I10", "R52", "ZZZ9", "S0180X"}  # billable, billable, no such code, no children


def _result(codes: list[str]) -> types.SimpleNamespace:
    items = [types.SimpleNamespace(code=c, score=1.0 - i / 10) for i, c in enumerate(codes)]
    return types.SimpleNamespace(icd10cm=items, ranked=types.SimpleNamespace(icd10cm=items))


def test_the_edition_crosswalk_counts_a_child_of_a_split_gold_code_once() -> None:
    notes = [{"icd10cm": ["R51", "I10"]}]
    res = [_result(["R51.9", "R51.0", "I10", "E11.9"])]
    strict = B._score(notes, res, "icd10cm")
    mapped = B._score(notes, res, "icd10cm", B.split_since({"R51", "I10"}))
    assert strict["recall_micro"] == pytest.approx(0.5) and strict["precision_micro"] == pytest.approx(0.25)
    # R51.9 stands for R51; R51.0, a second child of the same gold code, is not a false positive,
    # but the gold code is found once (2 true positives, 1 false positive) and ranked once
    assert mapped["recall_micro"] == pytest.approx(1.0) and mapped["precision_micro"] == pytest.approx(2 / 3, abs=1e-4)
    assert mapped["map"] == pytest.approx((1 / 1 + 2 / 3) / 2, abs=1e-4)
    assert B._match("R51.9".replace(".", ""), {"R51"}) is None  # strict: no match
