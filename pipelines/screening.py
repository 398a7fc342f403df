"""Screening diagnoses for screening tests billed at a preventive visit (`rules/preventive_screening.yaml`).

`screening_codes(procedures, dx)` returns, for the billed procedure codes of a preventive visit
and its coded diagnoses, the encounter-for-screening codes their tests call for (Z13.220 for a
lipid panel, Z13.1 for an A1c...) with the rule and the procedures behind each; a diagnosis that
explains the test (E78.5 for the lipid panel) means it is not screening.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from codesets.normalize import icd_key
from pipelines.rules import rule_records

_KEYS = frozenset({"id", "policy", "procedures", "code", "unless", "examples"})


@dataclass(frozen=True)
class ScreeningRule:
    id: str
    policy: str
    procedures: frozenset[str]
    code: str
    unless: tuple[str, ...]  # ICD keys (no dot) of code prefixes
    examples: tuple[tuple[tuple[str, ...], tuple[str, ...], str | None], ...]


@lru_cache(maxsize=1)
def load_rules() -> tuple[ScreeningRule, ...]:
    out = []
    for r in rule_records("preventive_screening.yaml", _KEYS, "screening rule"):
        out.append(ScreeningRule(
            id=r["id"], policy=r["policy"], procedures=frozenset(r["procedures"]), code=r["code"],
            unless=tuple(icd_key(p) for p in r["unless"]),
            examples=tuple((tuple(e["procedures"]), tuple(e["dx"]), e.get("expect")) for e in r.get("examples") or ()),
        ))
    return tuple(out)


def screening_codes(procedures: Iterable[str], dx: Iterable[str]) -> list[tuple[ScreeningRule, str, list[str]]]:
    """(rule, screening code, the billed procedures that call for it), in file order."""
    billed = list(dict.fromkeys(procedures))
    keys = [icd_key(d) for d in dx]
    out = []
    for rule in load_rules():
        tests = [p for p in billed if p in rule.procedures]
        if tests and not any(k.startswith(rule.unless) for k in keys):
            out.append((rule, rule.code, tests))
    return out
