"""Deterministic claim validator (DESIGN.md 4.3). Rules are data in validator/rules/.

    from validator import validate, assign_pointers, supports, load_ruleset, RULESET_VERSION
    result = validate({"date_of_service": "2026-03-02", "icd10cm": ["E11.65"],
                       "cpt_lines": [{"code": "83036", "dx": [1]}]})
    result.status            # "pass" | "warn" | "fail"

`ClaimError` (a ValueError) is raised for claims that cannot be evaluated; see
validator.engine for the split between structural errors and findings.
"""

from __future__ import annotations

from typing import Any

from validator.engine import ClaimError, assign_pointers, supports, validate
from validator.ruleset import Ruleset, RulesetError, load_ruleset
from validator.schemas import RULE_IDS, Claim, Finding, Patient, ServiceLine, ValidationResult

__all__ = [
    "RULESET_VERSION",
    "RULE_IDS",
    "Claim",
    "ClaimError",
    "Finding",
    "Patient",
    "Ruleset",
    "RulesetError",
    "ServiceLine",
    "ValidationResult",
    "assign_pointers",
    "load_ruleset",
    "supports",
    "validate",
]


def __getattr__(name: str) -> Any:
    # RULESET_VERSION is computed from the rule files on first use (no load at import time)
    if name == "RULESET_VERSION":
        return load_ruleset().version
    raise AttributeError(f"module 'validator' has no attribute {name!r}")
