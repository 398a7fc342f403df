"""Suggestion request and response (DESIGN.md section 4.2). Binding names: do not rename fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from validator.schemas import Finding, Patient


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str
    patient: Patient | None = None
    date_of_service: str | None = Field(None, description="YYYY-MM-DD")
    setting: str | None = None
    specialty: str | None = None


class Evidence(BaseModel):
    start: int
    end: int
    text: str
    section: str
    assertion: str


class Alternative(BaseModel):
    code: str
    confidence: float


class IcdSuggestion(BaseModel):
    code: str
    description: str
    confidence: float
    rank: int
    billable: bool
    evidence: list[Evidence] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    specificity: str | None = Field(None, description="documentation that would allow a more specific code")


class CptSuggestion(BaseModel):
    code: str
    description: str
    modifiers: list[str] = Field(default_factory=list)
    units: int = 1
    confidence: float
    rank: int
    evidence: list[Evidence] = Field(default_factory=list)
    dx: list[str] = Field(default_factory=list)


class Validation(BaseModel):
    status: str
    findings: list[Finding] = Field(default_factory=list)


class ScoredCode(BaseModel):
    code: str
    score: float


class Ranked(BaseModel):
    icd10cm: list[ScoredCode] = Field(default_factory=list)
    cpt: list[ScoredCode] = Field(default_factory=list)


class SuggestionSet(BaseModel):
    request_id: str
    model_version: str
    codeset_version: str
    ruleset_version: str
    icd10cm: list[IcdSuggestion] = Field(default_factory=list)
    cpt: list[CptSuggestion] = Field(default_factory=list)
    validation: Validation
    ranked: Ranked = Field(default_factory=Ranked)
