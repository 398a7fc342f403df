"""The medical-necessity table: patterns, supports(), pointer assignment, the table's examples."""

from __future__ import annotations

from typing import Any

import pytest

from validator import assign_pointers, load_ruleset, supports
from validator.necessity import ANY, EXACT, NONE, PREFIX, RANGE, parse_patterns
from validator.ruleset import Ruleset
from validator.schemas import ServiceLine


def test_pattern_kinds_and_strengths() -> None:
    p = parse_patterns("E11.65|R73*|E08-E10|*")
    assert p.strength("E1165") == EXACT
    assert p.strength("R7303") == PREFIX
    assert p.strength("E0900") == RANGE
    assert p.strength("J069") == ANY
    assert parse_patterns("E11.65").strength("E119") == NONE
    # a header named exactly covers its descendants; subcategory ranges compare prefixes
    assert parse_patterns("E11.6").strength("E1165") == EXACT
    assert parse_patterns("M17.0-M17.1").strength("M1711") == RANGE
    assert parse_patterns("M17.0-M17.1").strength("M172") == NONE


def test_supports_with_fixture_table(fixture_ruleset: Ruleset) -> None:
    rs = fixture_ruleset
    assert supports("83036", "E11.65", ruleset=rs)
    assert supports("83036", "Z79.4", ruleset=rs)
    assert not supports("83036", "J06.9", ruleset=rs)
    assert supports("99213", "J06.9", ruleset=rs)  # E/M: any valid diagnosis
    assert not supports("99213", "E11.99", ruleset=rs)  # not an ICD-10-CM code
    assert supports("73562", "M17.11", ruleset=rs)
    assert not supports("73562", "E11.9", ruleset=rs)
    # a code the table does not cover: no known restriction
    assert supports("97110", "J06.9", ruleset=rs)
    assert not supports("nonsense", "E11.9", ruleset=rs)


def test_assign_pointers_most_specific_first_and_at_most_four(fixture_ruleset: Ruleset) -> None:
    rs = fixture_ruleset
    dx = ["I10", "E11.65", "R73.9", "J06.9", "Z79.4", "E78.5", "M17.11"]
    lines = [ServiceLine(code="83036"), ServiceLine(code="99214"), ServiceLine(code="73562"),
             ServiceLine(code="80061", dx=[6]), ServiceLine(code="71046")]
    out = assign_pointers(dx, lines, "2026-03-02", ruleset=rs)
    assert out[0].dx == ["E11.65", "R73.9", "Z79.4"]  # specific first, Z codes after; no I10/J06.9
    assert out[1].dx[0] == "I10" and len(out[1].dx) == 4  # E/M: first-listed first, max 4
    assert out[2].dx == ["M17.11"]
    assert out[3].dx == ["E78.5"]  # given pointers are normalised to codes, not reassigned
    assert len(out[4].dx) == 4  # not in the table: any diagnosis, first-listed first
    none = assign_pointers(["J06.9"], [ServiceLine(code="83036")], ruleset=rs)
    assert none[0].dx == []


def _table_examples() -> list[Any]:
    rs = load_ruleset()
    out = []
    for row in rs.necessity.rows:
        for code in row.covered_codes():
            out += [pytest.param(code, dx, True, id=f"{row.rule_id}-{code}-{dx}-yes") for dx in row.example_supported]
            out += [pytest.param(code, dx, False, id=f"{row.rule_id}-{code}-{dx}-no") for dx in row.example_unsupported]
    return out


@pytest.mark.parametrize(("code", "dx", "expected"), _table_examples())
def test_packaged_table_examples(code: str, dx: str, expected: bool) -> None:
    """The curated table's own example_supported / example_unsupported columns."""
    assert supports(code, dx) is expected
