"""Reads the validator's medical-necessity table (validator/rules/medical_necessity.csv) so that
generated diagnosis pointers satisfy it. Optional: without the file every pointer passes."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_PATH = Path(__file__).resolve().parents[2] / "validator" / "rules" / "medical_necessity.csv"


def _proc_num(code: str) -> tuple[str, int] | None:
    digits = "".join(ch for ch in code if ch.isdigit())
    prefix = "".join(ch for ch in code if not ch.isdigit())
    return (prefix, int(digits)) if digits else None


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    patterns: tuple[str, ...]

    def allows(self, dx: str) -> bool:
        d = dx.upper()
        for p in self.patterns:
            if p == "*":
                return True
            if "-" in p and not p.endswith("*"):
                lo, hi = p.split("-", 1)
                if lo[:3] <= d[:3] <= hi[:3]:
                    return True
                continue
            if p.endswith("*"):
                if d.startswith(p[:-1]):
                    return True
            elif d == p or d.replace(".", "") == p.replace(".", ""):
                return True
        return False


@lru_cache(maxsize=1)
def load_rules(path: str = str(RULES_PATH)) -> dict[str, Rule]:
    """CPT/HCPCS code -> rule (ranges expanded lazily by `rule_for`)."""
    p = Path(path)
    rules: dict[str, Rule] = {}
    if not p.is_file():
        return rules
    with p.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pats = tuple(x.strip() for x in (row.get("dx_patterns") or "").split("|") if x.strip())
            rule = Rule(row.get("rule_id", ""), pats or ("*",))
            for item in (row.get("codes") or "").split("|"):
                item = item.strip()
                if item:
                    rules.setdefault(item, rule)
    return rules


@lru_cache(maxsize=20_000)
def rule_for(code: str) -> Rule | None:
    rules = load_rules()
    if code in rules:
        return rules[code]
    num = _proc_num(code)
    if num is None:
        return None
    for item, rule in rules.items():
        if "-" in item:
            lo, hi = item.split("-", 1)
            a, b = _proc_num(lo), _proc_num(hi)
            if a and b and a[0] == b[0] == num[0] and a[1] <= num[1] <= b[1] and len(lo) == len(code):
                return rule
    return None


def supported(code: str, dx: str) -> bool:
    rule = rule_for(code)
    return True if rule is None else rule.allows(dx)
