"""Claim and finding shapes (DESIGN.md section 4.3). Binding names: do not rename fields."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RULE_IDS: tuple[str, ...] = (
    "invalid_code",
    "deleted_code",
    "non_billable_code",
    "stale_codeset",
    "dx_not_supporting_procedure",
    "ncci_ptp_conflict",
    "addon_without_primary",
    "missing_modifier",
    "excludes1_conflict",
    "age_conflict",
    "sex_conflict_warning",
    "manifestation_as_first_listed",
    "e_code_first_listed",
    "missing_dx_pointer",
    "too_many_pointers",
    "invalid_pointer",
    "too_many_diagnoses",
)
Severity = Literal["error", "warning", "info"]


class Patient(BaseModel):
    model_config = ConfigDict(extra="ignore")
    age: int | None = Field(None, ge=0, le=130)
    sex: Literal["F", "M", "U"] = "U"


class ServiceLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    modifiers: list[str] = Field(default_factory=list)
    units: int = Field(1, ge=1, le=9999)
    dx: list[str | int] = Field(default_factory=list, description="pointers: dx codes or 1-based indexes")


class Claim(BaseModel):
    model_config = ConfigDict(extra="ignore")
    date_of_service: str | None = Field(None, description="YYYY-MM-DD")
    patient: Patient = Field(default_factory=lambda: Patient(age=None))
    setting: str | None = None
    place_of_service: str | None = None
    icd10cm: list[str] = Field(default_factory=list, description="ordered, first-listed first, at most 12")
    cpt_lines: list[ServiceLine] = Field(default_factory=list)


class Finding(BaseModel):
    rule: str
    severity: Severity
    codes: list[str] = Field(default_factory=list)
    line: int | None = Field(None, description="1-based service line index, or null for claim-level findings")
    message: str
    fix: str
    policy: str = ""


class ValidationResult(BaseModel):
    status: Literal["pass", "warn", "fail"]
    findings: list[Finding] = Field(default_factory=list)
    cpt_lines: list[ServiceLine] = Field(default_factory=list)
    ruleset_version: str
