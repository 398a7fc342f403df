"""Deterministic claim validator (DESIGN.md 4.3). Rules are data in validator/rules/."""

from validator.schemas import RULE_IDS, Claim, Finding, Patient, ServiceLine, ValidationResult

__all__ = ["RULE_IDS", "Claim", "Finding", "Patient", "ServiceLine", "ValidationResult"]
