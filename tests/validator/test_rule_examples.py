"""Every rule's positive and negative examples (validator/rules/rules.yaml) become tests."""

from __future__ import annotations

from typing import Any

import pytest

from validator import RULE_IDS, validate
from validator.ruleset import Ruleset, load_ruleset

_RS = load_ruleset()
CASES: list[Any] = []
for rid, rule in _RS.rules.items():
    for i, ex in enumerate(rule.positive):
        CASES.append(pytest.param(rid, True, ex["claim"], id=f"{rid}-pos{i}"))
    for i, ex in enumerate(rule.negative):
        CASES.append(pytest.param(rid, False, ex["claim"], id=f"{rid}-neg{i}"))


def test_every_rule_has_positive_and_negative_examples() -> None:
    assert set(_RS.rules) == set(RULE_IDS)
    for rid, rule in _RS.rules.items():
        assert rule.positive, f"{rid} has no positive example"
        assert rule.negative, f"{rid} has no negative example"


@pytest.mark.parametrize(("rule_id", "fires", "claim"), CASES)
def test_rule_example(rule_id: str, fires: bool, claim: dict[str, Any], ruleset: Ruleset) -> None:
    res = validate(claim, ruleset=ruleset)
    raised = [f for f in res.findings if f.rule == rule_id]
    if fires:
        assert raised, f"{rule_id} not raised; got {[f.rule for f in res.findings]}"
        for f in raised:
            assert f.message and f.fix and f.policy
            assert "{" not in f.message and "{" not in f.fix
            assert f.severity in ("error", "warning", "info")
    else:
        assert not [f for f in raised if f.severity != "info"], [f.message for f in raised]


def test_status_follows_severities(ruleset: Ruleset) -> None:
    for rule in ruleset.rules.values():
        for ex in (*rule.positive, *rule.negative):
            res = validate(ex["claim"], ruleset=ruleset)
            sev = {f.severity for f in res.findings}
            expected = "fail" if "error" in sev else "warn" if "warning" in sev else "pass"
            assert res.status == expected
