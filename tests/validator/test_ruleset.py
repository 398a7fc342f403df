"""Rule files: closed keys, clear load errors, version string."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml

from validator import RULESET_VERSION, load_ruleset
from validator.necessity import parse_necessity_csv
from validator.ruleset import RulesetError, build_ruleset


def _raw(name: str) -> bytes:
    return resources.files("validator.rules").joinpath(name).read_bytes()


def _rules_with(mutate) -> bytes:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(_raw("rules.yaml"))
    mutate(data)
    return yaml.safe_dump(data).encode()


def test_version_format_and_module_constant() -> None:
    rs = load_ruleset()
    assert re.fullmatch(r"rules-\d+\.\d+\.\d+\+[0-9a-f]{8}", rs.version)
    assert rs.version == RULESET_VERSION


def test_version_changes_when_a_rule_file_changes() -> None:
    base = build_ruleset(_raw("rules.yaml"), _raw("policy.yaml"), None)
    changed = build_ruleset(_raw("rules.yaml"), _raw("policy.yaml") + b"\n# edited\n", None)
    assert base.version != changed.version
    assert base.version == build_ruleset(_raw("rules.yaml"), _raw("policy.yaml"), None).version


def test_unknown_rule_key_is_rejected_with_file_and_key() -> None:
    raw = _rules_with(lambda d: d["rules"][0].__setitem__("severty", "error"))
    with pytest.raises(RulesetError) as exc:
        build_ruleset(raw, _raw("policy.yaml"), None)
    msg = str(exc.value)
    assert msg.startswith("rules.yaml: rules[0]: unknown key 'severty'")


def test_unknown_top_level_key_is_rejected() -> None:
    raw = _rules_with(lambda d: d.__setitem__("extra", 1))
    with pytest.raises(RulesetError, match=r"rules.yaml: unknown key 'extra'"):
        build_ruleset(raw, _raw("policy.yaml"), None)


def test_unknown_policy_key_is_rejected() -> None:
    data = yaml.safe_load(_raw("policy.yaml"))
    data["telehealth"]["modifers"] = ["95"]
    with pytest.raises(RulesetError, match=r"policy.yaml: telehealth: unknown key 'modifers'"):
        build_ruleset(_raw("rules.yaml"), yaml.safe_dump(data).encode(), None)


def test_unknown_rule_id_severity_and_placeholder_are_rejected() -> None:
    raw = _rules_with(lambda d: d["rules"][0].__setitem__("id", "made_up_rule"))
    with pytest.raises(RulesetError, match="unknown rule id 'made_up_rule'"):
        build_ruleset(raw, _raw("policy.yaml"), None)
    raw = _rules_with(lambda d: d["rules"][0].__setitem__("severity", "fatal"))
    with pytest.raises(RulesetError, match="severity 'fatal'"):
        build_ruleset(raw, _raw("policy.yaml"), None)
    raw = _rules_with(lambda d: d["rules"][0].__setitem__("message", "bad {nope}"))
    with pytest.raises(RulesetError, match=r"unknown placeholder \{nope\}"):
        build_ruleset(raw, _raw("policy.yaml"), None)


def test_missing_rule_definition_is_rejected() -> None:
    raw = _rules_with(lambda d: d.__setitem__("rules", d["rules"][1:]))
    with pytest.raises(RulesetError, match="no definition for rule id 'invalid_code'"):
        build_ruleset(raw, _raw("policy.yaml"), None)


def test_example_with_unknown_key_is_rejected() -> None:
    raw = _rules_with(lambda d: d["rules"][0]["examples"]["positive"][0].__setitem__("expect", []))
    with pytest.raises(RulesetError, match="unknown key 'expect'"):
        build_ruleset(raw, _raw("policy.yaml"), None)


def test_necessity_unknown_column_and_bad_patterns_are_rejected() -> None:
    with pytest.raises(RulesetError, match=r"medical_necessity.csv: unknown column 'payer'"):
        parse_necessity_csv("rule_id,codes,dx_patterns,payer\nx,83036,E11*,1\n")
    with pytest.raises(RulesetError, match="bad ICD-10-CM range pattern"):
        parse_necessity_csv("rule_id,codes,dx_patterns\nx,83036,E13-E08\n")
    with pytest.raises(RulesetError, match="is not a CPT/HCPCS code"):
        parse_necessity_csv("rule_id,codes,dx_patterns\nx,E11.9,E11*\n")
