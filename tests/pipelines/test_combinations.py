"""Guideline-presumed combination codes: every example in rules/combinations.yaml is a test."""

from __future__ import annotations

import pytest

from pipelines.combinations import combinations, load_rules, redundant

EXAMPLES = [(r.id, r.group, codes, expect) for r in load_rules() for codes, expect in r.examples]


def test_rules_have_ids_policies_and_examples() -> None:
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert r.policy and r.examples and r.when and r.replaces


@pytest.mark.parametrize(("rule_id", "group", "codes", "expect"), EXAMPLES, ids=[f"{e[0]}-{'+'.join(e[2])}" for e in EXAMPLES])
def test_rule_examples(rule_id: str, group: str, codes: tuple[str, ...], expect: str | None) -> None:
    got = [code for rule, code, _ in combinations(codes) if rule.group == group]
    assert got == ([expect] if expect else [])


def test_one_combination_per_group_and_triggers_reported() -> None:
    out = combinations(["I10", "N18.4", "I50.9", "E11.9"])
    assert [(r.id, c) for r, c, _ in out] == [("htn_heart_ckd", "I13.0"), ("t2dm_ckd", "E11.22")]
    assert set(out[0][2]) == {"I10", "N18.4", "I50.9"}


def test_billed_combination_makes_its_components_redundant() -> None:
    assert redundant("I10", ["I12.9"]) and redundant("E11.9", ["E11.22"])
    assert not redundant("E11.65", ["E11.22"])  # another complication is still coded
    assert not redundant("N18.30", ["I12.9"])  # the CKD stage is still coded
    assert not redundant("I10", [])
    # coronary atherosclerosis with angina: the I25.11- code carries both
    assert redundant("I20.9", ["I25.119"]) and redundant("I25.10", ["I25.118"]) and redundant("I20.89", ["I25.118"])


def test_unknown_rule_key_is_an_error(rejects_unknown_keys) -> None:
    import pipelines.combinations as pc
    import pipelines.rules as rules_pkg

    rejects_unknown_keys(rules_pkg, pc.load_rules, {"rules": [{"id": "x", "group": "g", "policy": "p",
                                                               "when": [["I10"]], "code": "I10", "colour": 1}]})
