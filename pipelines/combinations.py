"""Guideline-presumed ICD-10-CM combination codes (`rules/combinations.yaml`).

`combinations(codes)` returns the combination codes two or more documented conditions call
for, each with the rule and the documented codes that trigger it; `redundant(code, billed)` says
whether a billed combination code makes `code` redundant (I10 once I12.9 is billed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from codesets.normalize import icd_key
from pipelines.rules import rule_records

_KEYS = frozenset({"id", "group", "policy", "when", "code", "alt", "replaces", "examples"})


@dataclass(frozen=True)
class CombinationRule:
    id: str
    group: str
    policy: str
    when: tuple[tuple[str, ...], ...]
    code: str
    alt: tuple[tuple[str, str], ...]
    replaces: tuple[str, ...]
    examples: tuple[tuple[tuple[str, ...], str | None], ...]


@lru_cache(maxsize=1)
def load_rules() -> tuple[CombinationRule, ...]:
    out = []
    for r in rule_records("combinations.yaml", _KEYS, "combination rule"):
        out.append(CombinationRule(
            id=r["id"], group=r["group"], policy=r["policy"],
            when=tuple(tuple(icd_key(p) for p in g) for g in r["when"]), code=r["code"],
            alt=tuple((icd_key(k), v) for k, v in (r.get("alt") or {}).items()),
            replaces=tuple(icd_key(p) for p in r.get("replaces") or ()),
            examples=tuple((tuple(e["codes"]), e.get("expect")) for e in r.get("examples") or ()),
        ))
    return tuple(out)


def combinations(codes: Iterable[str]) -> list[tuple[CombinationRule, str, list[str]]]:
    """(rule, combination code, triggering codes) for the documented `codes`: one per group."""
    present = list(dict.fromkeys(codes))
    keys = [icd_key(c) for c in present]
    out: list[tuple[CombinationRule, str, list[str]]] = []
    done: set[str] = set()
    for rule in load_rules():
        if rule.group in done:
            continue
        hits: list[str] = []
        for group in rule.when:
            found = [c for c, k in zip(present, keys, strict=True) if k.startswith(group)]
            if not found:
                break
            hits.extend(found)
        else:
            code = next((v for prefix, v in rule.alt for k in keys if k.startswith(prefix)), rule.code)
            out.append((rule, code, list(dict.fromkeys(hits))))
            done.add(rule.group)
    return out


@lru_cache(maxsize=1)
def combination_codes() -> frozenset[str]:
    """Every code a rule can bill (its `code` and `alt` codes)."""
    return frozenset({r.code for r in load_rules()} | {v for r in load_rules() for _, v in r.alt})


def redundant(code: str, billed_combinations: Iterable[str]) -> bool:
    """Whether `code` is made redundant by one of the billed combination codes."""
    k = icd_key(code)
    for rule in load_rules():
        for c in billed_combinations:
            if c in ({rule.code} | {v for _, v in rule.alt}) and icd_key(c) != k and any(k.startswith(p) for p in rule.replaces):
                return True
    return False
