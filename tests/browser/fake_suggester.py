"""A deterministic stand-in for the suggestion model, for the browser tests.

The server loads it through its own seam: ``MEDCODE_SUGGESTER_FACTORY=tests.browser.fake_suggester:make``.
It finds a handful of phrases with regular expressions, so the page gets every shape it must
render (affirmed, negated, family and historical evidence; a non-billable header code with a
specificity prompt and alternatives; CPT lines with modifiers, units and diagnosis pointers;
validator findings with a fix) without loading the NLP stack or a trained model.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from codesets import load_codesets
from pipelines.schemas import (
    Alternative,
    CptSuggestion,
    Evidence,
    IcdSuggestion,
    Ranked,
    ScoredCode,
    SuggestionSet,
    SuggestRequest,
    Validation,
)
from validator.schemas import Finding

MODEL_VERSION = "fake-suggester/1"
RULESET_VERSION = "fake-rules/1"

# The project's own plain-language wording (never AMA descriptor text) in case the CPT catalog
# has no summary for a code yet.
_CPT_FALLBACK = {
    "99214": "Office visit, established patient, moderate medical decision making",
    "83036": "Hemoglobin A1c blood test",
    "99213": "Office visit, established patient, low medical decision making",
}


@dataclass(frozen=True)
class _Rule:
    system: str
    code: str
    pattern: str
    assertion: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    specificity: str | None = None
    modifiers: tuple[str, ...] = ()
    units: int = 1
    dx: tuple[str, ...] = ()
    section_evidence: bool = False  # evidence is the whole section from the match on (like E/M lines)


RULES: tuple[_Rule, ...] = (
    _Rule("icd10cm", "E11.65", r"type 2 diabetes(?: mellitus)?|hyperglycemia", "present", 0.91,
          alternatives=(("E11.9", 0.31), ("E11.69", 0.12))),
    _Rule("icd10cm", "I10", r"(?<!of )hypertension", "present", 0.84),
    _Rule("icd10cm", "Z86.010", r"history of colon polyps", "historical", 0.58,
          alternatives=(("Z86.0100", 0.41), ("Z86.0101", 0.22)),
          specificity="Document the polyp type (hyperplastic, adenomatous or other) to pick a billable Z86.010x code."),
    _Rule("icd10cm", "Z82.49", r"family history of hypertension", "family", 0.47),
    _Rule("icd10cm", "R07.9", r"chest pain", "negated", 0.21, alternatives=(("R07.89", 0.08),)),
    _Rule("cpt", "99214", r"established patient|office visit", "present", 0.77, modifiers=("25",),
          dx=("E11.65", "I10")),
    _Rule("cpt", "99213", r"assessment and plan:", "present", 0.66, dx=("I10",), section_evidence=True),
    _Rule("cpt", "83036", r"(?:hemoglobin|hb) ?a1c", "present", 0.88, units=1, dx=("E11.65",)),
)


def _context(context: dict[str, Any] | SuggestRequest | None) -> dict[str, Any]:
    if context is None:
        return {}
    if isinstance(context, SuggestRequest):
        return context.model_dump()
    return dict(context)


def _section(text: str, pos: int) -> str:
    heads = [(m.start(), m.group(1).lower()) for m in re.finditer(r"(?im)^([A-Za-z][A-Za-z /]{1,40}):", text)]
    name = "unknown"
    for start, head in heads:
        if start <= pos:
            name = head
    return name


class FakeSuggester:
    model_version = MODEL_VERSION

    def __init__(self) -> None:
        self.cs = load_codesets()

    def _describe(self, system: str, code: str) -> tuple[str, bool]:
        res = self.cs.lookup(code, system="icd10cm" if system == "icd10cm" else "cpt")
        desc = res.description or _CPT_FALLBACK.get(code, "")
        return desc, res.billable

    def suggest(self, text: str, context: dict[str, Any] | SuggestRequest | None = None) -> SuggestionSet:
        ctx = _context(context)
        icd: list[IcdSuggestion] = []
        cpt: list[CptSuggestion] = []
        for rule in RULES:
            evidence = []
            for m in re.finditer(rule.pattern, text, flags=re.IGNORECASE):
                end = m.end()
                if rule.section_evidence:
                    blank = text.find("\n\n", m.start())
                    end = len(text) if blank < 0 else blank
                evidence.append(Evidence(start=m.start(), end=end, text=text[m.start():end],
                                         section=_section(text, m.start()), assertion=rule.assertion))
            if not evidence:
                continue
            desc, billable = self._describe(rule.system, rule.code)
            if rule.system == "icd10cm":
                icd.append(IcdSuggestion(
                    code=rule.code, description=desc, confidence=rule.confidence, rank=len(icd) + 1,
                    billable=billable, evidence=evidence,
                    alternatives=[Alternative(code=c, confidence=p) for c, p in rule.alternatives],
                    specificity=rule.specificity,
                ))
            else:
                found = {s.code for s in icd}
                cpt.append(CptSuggestion(
                    code=rule.code, description=desc, modifiers=list(rule.modifiers), units=rule.units,
                    confidence=rule.confidence, rank=len(cpt) + 1, evidence=evidence,
                    dx=[d for d in rule.dx if d in found],
                ))
        findings: list[Finding] = []
        for s in icd:
            if not s.billable:
                children = self.cs.lookup(s.code, system="icd10cm").children
                findings.append(Finding(
                    rule="non_billable_code", severity="error", codes=[s.code], line=None,
                    message=f"{s.code} is a category header, not a billable code: the claim would be rejected.",
                    fix=f"Replace it with one of its billable codes: {', '.join(children[:4])}.",
                    policy="ICD-10-CM Official Guidelines I.A.3",
                ))
        for i, line in enumerate(cpt, start=1):
            if "25" in line.modifiers and len(cpt) < 2:
                findings.append(Finding(
                    rule="missing_modifier", severity="info", codes=[line.code], line=i,
                    message="Modifier 25 is only needed when a separate procedure is billed the same day.",
                    fix="Remove modifier 25 unless another procedure is on the claim.",
                ))
        if ctx.get("setting") == "telehealth":
            findings.append(Finding(
                rule="missing_modifier", severity="warning", codes=[c.code for c in cpt], line=1 if cpt else None,
                message="Telehealth visits need a telehealth modifier on the visit line.",
                fix="Add modifier 95 to the office visit line.",
            ))
        status = "fail" if any(f.severity == "error" for f in findings) else (
            "warn" if any(f.severity == "warning" for f in findings) else "pass")
        return SuggestionSet(
            request_id=uuid.uuid4().hex,
            model_version=MODEL_VERSION,
            codeset_version=self.cs.version,
            ruleset_version=RULESET_VERSION,
            icd10cm=icd,
            cpt=cpt,
            validation=Validation(status=status, findings=findings),
            ranked=Ranked(
                icd10cm=[ScoredCode(code=s.code, score=s.confidence) for s in icd],
                cpt=[ScoredCode(code=s.code, score=s.confidence) for s in cpt],
            ),
        )


def make() -> FakeSuggester:
    return FakeSuggester()
