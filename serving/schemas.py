"""API shapes owned by serving/: feedback, readiness, examples, code search hits.

The suggestion and claim shapes live in pipelines/schemas.py and validator/schemas.py
(DESIGN.md 4.2 / 4.3); this module only adds what the service itself defines.

Feedback request (``POST /v1/feedback``)::

    {"request_id": "3f2c...", "model_version": "medcode-suggester/3", "reviewer_id": "coder-17",
     "note_id": "note-0001" | null, "text": "<note text>" | null,
     "patient": {"age": 54, "sex": "F"} | null, "date_of_service": "2026-03-01" | null,
     "items": [{"system": "icd10cm", "code": "E11.65", "verdict": "accept"},
               {"system": "icd10cm", "code": "E11.9", "verdict": "replace", "replacement": "E11.65"},
               {"system": "cpt", "code": "99214", "verdict": "reject", "comment": "level 3 visit"}]}

Response: ``{"feedback_id": "...", "stored": 3}``.

Rules (422 when broken): ``code`` and ``replacement`` must be well-formed codes of ``system``
(``cpt`` also accepts HCPCS Level II codes) and known to the loaded code sets; ``replace``
needs a ``replacement``; ``accept``/``reject`` must not carry one. ``text`` is stored only so
``medcode feedback export`` can write gold lines: it is never logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codesets.normalize import CodeFormatError, normalize_icd, proc_key
from validator.schemas import Patient

FeedbackSystem = Literal["icd10cm", "cpt", "hcpcs"]
Verdict = Literal["accept", "reject", "replace"]


def normalize_code(system: str, code: str) -> str:
    """Contract form of a code of `system` ('e11.65' -> 'E11.65'); CodeFormatError if malformed."""
    if system == "icd10cm":
        return normalize_icd(code)
    if "." in code:
        raise CodeFormatError(f"{code!r} is not a CPT or HCPCS code (dotted codes are ICD-10-CM)")
    return proc_key(code)


class FeedbackItem(BaseModel):
    """A coder's verdict on one suggested code."""

    model_config = ConfigDict(extra="forbid")
    system: FeedbackSystem = Field(description="icd10cm, or cpt for CPT/HCPCS service lines (hcpcs accepted)")
    code: str = Field(min_length=1, max_length=16, description="the suggested code the verdict is about")
    verdict: Verdict
    replacement: str | None = Field(default=None, max_length=16, description="the code to use instead (verdict=replace)")
    comment: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _check(self) -> FeedbackItem:
        try:
            self.code = normalize_code(self.system, self.code)
        except CodeFormatError as exc:
            raise ValueError(f"code: {exc}") from None
        if self.verdict == "replace":
            if not self.replacement:
                raise ValueError("verdict 'replace' needs a replacement code")
            try:
                self.replacement = normalize_code(self.system, self.replacement)
            except CodeFormatError as exc:
                raise ValueError(f"replacement: {exc}") from None
        elif self.replacement:
            raise ValueError(f"verdict {self.verdict!r} cannot carry a replacement (use verdict 'replace')")
        else:
            self.replacement = None
        return self


class FeedbackRequest(BaseModel):
    """A reviewer's verdicts on the suggestions of one `/v1/suggest` response."""

    model_config = ConfigDict(extra="ignore")
    request_id: str = Field(min_length=1, max_length=200, description="request_id of the suggest response")
    model_version: str = Field(min_length=1, max_length=200, description="model_version of that response")
    reviewer_id: str = Field(min_length=1, max_length=200)
    note_id: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, description="the note text (optional; stored for gold export, never logged)")
    patient: Patient | None = None
    date_of_service: str | None = Field(default=None, description="YYYY-MM-DD")
    items: list[FeedbackItem] = Field(min_length=1, max_length=500)

    @field_validator("date_of_service")
    @classmethod
    def _dos(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            return dt.date.fromisoformat(v.strip()).isoformat()
        except ValueError:
            raise ValueError(f"date_of_service {v!r} is not a date (expected YYYY-MM-DD)") from None


class FeedbackResponse(BaseModel):
    feedback_id: str
    stored: int = Field(description="number of verdicts stored")


class CodeSearchHit(BaseModel):
    code: str
    system: str
    description: str
    score: float
    matched: str


class CodeLookup(BaseModel):
    """Status of a code on a date of service (same fields as `medcode codes lookup --format json`)."""

    code: str
    system: str
    status: Literal["valid", "header", "deleted", "invalid", "stale_codeset"]
    billable: bool
    description: str
    fiscal_year: int | None = None
    date_of_service: str | None = None
    level: str | None = None
    children: list[str] = Field(default_factory=list)
    deleted_in_fy: int | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    message: str = ""


class Example(BaseModel):
    """A bundled synthetic note for the review page's example picker."""

    id: str
    title: str
    text: str
    patient: Patient | None = None
    date_of_service: str | None = None
    setting: str | None = None
    specialty: str | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    model_version: str | None = None
    source: Literal["registry", "local_path", "local_cache", "default_build", "override", "unavailable", "loading"]
    model_uri: str | None = Field(default=None, description="where the loaded model came from")
    reason: str | None = Field(default=None, description="why the preferred source was not used, or why not ready")
    codeset_version: str | None = None
    loaded_at: str | None = None


class ErrorBody(BaseModel):
    detail: str
