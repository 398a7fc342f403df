"""Influenza vaccine valence by season: every example in rules/influenza_seasons.yaml is a test."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from codesets import load_codesets
from pipelines.flu_seasons import load_rules, season_code

EXAMPLES = load_rules().examples


@pytest.mark.parametrize(("code", "day", "text", "expect"), EXAMPLES, ids=[f"{e[0]}-{e[1]}-{e[3]}" for e in EXAMPLES])
def test_rule_examples(code: str, day: dt.date | None, text: str, expect: str) -> None:
    got, rule = season_code(code, day, text)
    assert got == expect
    assert (rule is not None) == (expect != code)


def test_seasons_have_policies_and_pairs_are_influenza_vaccines_of_the_catalog() -> None:
    rules = load_rules()
    assert len({s.id for s in rules.seasons}) == len(rules.seasons)
    assert all(s.policy for s in rules.seasons)
    catalog = load_codesets().procedures.catalog
    for code, (valence, other) in rules.counterpart.items():
        assert code in catalog and other in catalog
        assert catalog[code].category == "vaccine" and "influenza" in catalog[code].description.lower()
        # a pair is one formulation in both valences: the catalog names the valence only where it differs
        assert rules.counterpart[other] == ({"trivalent": "quadrivalent", "quadrivalent": "trivalent"}[valence], code)


def test_seasons_do_not_overlap() -> None:
    seasons = sorted(load_rules().seasons, key=lambda s: s.start)
    for a, b in itertools.pairwise(seasons):
        assert a.end is not None and a.end <= b.start


@pytest.mark.parametrize("text", ["IIV4 given", "ccIIV4 administered", "LAIV4 intranasal", "quadrivalent vaccine"])
def test_an_abbreviated_valence_in_the_note_is_kept(text: str) -> None:
    assert season_code("90686", dt.date(2025, 10, 1), text) == ("90686", None)


def test_unknown_key_is_an_error(rejects_unknown_keys) -> None:
    import pipelines.flu_seasons as fs

    rejects_unknown_keys(fs, fs.load_rules, {"seasons": [{"id": "x", "policy": "p", "from": dt.date(2024, 7, 1),
                                                          "valence": "trivalent", "colour": 1}], "pairs": []})
