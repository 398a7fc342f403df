"""A light, deterministic stand-in suggester for API tests, load benchmarks and demos.

It finds a few phrases by keyword (no NLP stack, no trained model) and can spend a fixed
amount of CPU or wall time per call so that load and overload behaviour can be measured
without the real model:

    MEDCODE_SUGGESTER_FACTORY=serving.testing:make_keyword_suggester
    MEDCODE_FAKE_WORK_MS=20    # CPU-bound work per suggest call (holds the GIL, like the real model)
    MEDCODE_FAKE_SLEEP_MS=0    # wall time per call without CPU (releases the GIL)
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

from pipelines.schemas import (
    CptSuggestion,
    Evidence,
    IcdSuggestion,
    Ranked,
    ScoredCode,
    SuggestionSet,
    SuggestRequest,
    Validation,
)

# (pattern, system, code, our own plain-language description)
_RULES: tuple[tuple[str, str, str, str], ...] = (
    (r"type 2 diabetes", "icd10cm", "E11.9", "Type 2 diabetes mellitus without complications"),
    (r"hyperglyc", "icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia"),
    (r"hypertension", "icd10cm", "I10", "Essential (primary) hypertension"),
    (r"strep(tococcal)? pharyngitis", "icd10cm", "J02.0", "Streptococcal pharyngitis"),
    (r"osteoarthritis", "icd10cm", "M17.11", "Unilateral primary osteoarthritis, right knee"),
    (r"depress", "icd10cm", "F33.1", "Major depressive disorder, recurrent, moderate"),
    (r"anxiety", "icd10cm", "F41.1", "Generalized anxiety disorder"),
    (r"a1c", "cpt", "83036", "Hemoglobin A1c test"),
    (r"rapid strep", "cpt", "87880", "Rapid strep antigen test"),
    (r"inject", "cpt", "20610", "Large joint injection or aspiration"),
)


def _burn(ms: float) -> None:
    end = time.perf_counter() + ms / 1000.0
    x = 0
    while time.perf_counter() < end:
        x += 1


class KeywordSuggester:
    """Suggests the codes of `_RULES` whose phrase occurs in the note."""

    def __init__(self, model_version: str = "keyword-fake/1", work_ms: float = 0.0, sleep_ms: float = 0.0,
                 gate: threading.Event | None = None) -> None:
        self.model_version = model_version
        self.work_ms = work_ms
        self.sleep_ms = sleep_ms
        self.gate = gate  # tests: block every call until set
        self.calls = 0
        self._lock = threading.Lock()

    def suggest(self, text: str, context: SuggestRequest | dict[str, Any] | None = None) -> SuggestionSet:
        with self._lock:
            self.calls += 1
        if self.gate is not None:
            self.gate.wait(30)
        if self.work_ms:
            _burn(self.work_ms)
        if self.sleep_ms:
            time.sleep(self.sleep_ms / 1000.0)
        low = text.lower()
        icd: list[IcdSuggestion] = []
        cpt: list[CptSuggestion] = []
        for pattern, system, code, desc in _RULES:
            m = re.search(pattern, low)
            if not m:
                continue
            ev = [Evidence(start=m.start(), end=m.end(), text=text[m.start():m.end()], section="unknown",
                           assertion="present")]
            if system == "icd10cm":
                icd.append(IcdSuggestion(code=code, description=desc, confidence=0.9 - 0.05 * len(icd),
                                         rank=len(icd) + 1, billable=True, evidence=ev))
            else:
                cpt.append(CptSuggestion(code=code, description=desc, confidence=0.8 - 0.05 * len(cpt),
                                         rank=len(cpt) + 1, evidence=ev, dx=[i.code for i in icd[:1]]))
        return SuggestionSet(
            request_id="",
            model_version=self.model_version,
            codeset_version="fake-codesets",
            ruleset_version="fake-rules",
            icd10cm=icd,
            cpt=cpt,
            validation=Validation(status="pass", findings=[]),
            ranked=Ranked(icd10cm=[ScoredCode(code=i.code, score=i.confidence) for i in icd],
                          cpt=[ScoredCode(code=c.code, score=c.confidence) for c in cpt]),
        )


def make_keyword_suggester() -> KeywordSuggester:
    """Factory for MEDCODE_SUGGESTER_FACTORY (reads MEDCODE_FAKE_WORK_MS / MEDCODE_FAKE_SLEEP_MS)."""
    return KeywordSuggester(work_ms=float(os.environ.get("MEDCODE_FAKE_WORK_MS", "0") or 0),
                            sleep_ms=float(os.environ.get("MEDCODE_FAKE_SLEEP_MS", "0") or 0))
