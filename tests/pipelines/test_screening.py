"""Screening codes for screening tests at a preventive visit: every example in rules/preventive_screening.yaml is a test."""

from __future__ import annotations

import pytest

from codesets import load_codesets
from pipelines.screening import load_rules, screening_codes

EXAMPLES = [(r.id, p, d, e) for r in load_rules() for p, d, e in r.examples]


@pytest.mark.parametrize(("rule_id", "procedures", "dx", "expect"), EXAMPLES,
                         ids=[f"{e[0]}-{'+'.join(e[1])}-{'+'.join(e[2])}" for e in EXAMPLES])
def test_rule_examples(rule_id: str, procedures: tuple[str, ...], dx: tuple[str, ...], expect: str | None) -> None:
    got = [code for rule, code, _ in screening_codes(procedures, dx) if rule.id == rule_id]
    assert got == ([expect] if expect else [])


def test_rules_are_complete_and_name_real_codes() -> None:
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules)
    cs = load_codesets()
    for r in rules:
        assert r.policy and r.examples and r.procedures
        assert cs.icd.is_billable(r.code.replace(".", ""), 2026), r.code
        assert all(p in cs.procedures.catalog for p in r.procedures), r.id
        # a rule's own code among its `unless` prefixes: never coded twice
        assert r.code.replace(".", "") in r.unless


def test_the_tests_behind_a_code_are_reported() -> None:
    out = screening_codes(["99396", "80061", "83036", "36415"], ["Z00.00"])
    assert [(r.id, c, t) for r, c, t in out] == [("lipid_screening", "Z13.220", ["80061"]),
                                                  ("diabetes_screening", "Z13.1", ["83036"])]


def test_unknown_rule_key_is_an_error(rejects_unknown_keys) -> None:
    import pipelines.rules as rules_pkg
    import pipelines.screening as ps

    rejects_unknown_keys(rules_pkg, ps.load_rules, {"rules": [{"id": "x", "policy": "p", "procedures": ["80061"],
                                                               "code": "Z13.220", "unless": [], "colour": 1}]})
