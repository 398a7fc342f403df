"""Assertion accuracy on the labelled sentence set (tests/nlp/data/assertion_cases.jsonl)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pipelines.nlp import ASSERTIONS, NlpPipeline

CASES = Path(__file__).parent / "data" / "assertion_cases.jsonl"
# every cue the issue asks for must be covered by at least one labelled sentence
REQUIRED_CUES = [
    "denies", "no ", "negative for", "is negative for", "without", "free of", "ruled out", "r/o",
    "no evidence of", "resolved", "s/p", "history of", "mother had", "father had", "sibling had",
    "return if", "possible", "probable", " vs ", "cannot exclude",
]


def _cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_case_file_is_well_formed() -> None:
    cases = _cases()
    assert len(cases) >= 300
    for c in cases:
        assert set(c) == {"text", "target", "start", "expected", "group"}
        assert c["text"][c["start"] : c["start"] + len(c["target"])] == c["target"]
        assert c["expected"] in ASSERTIONS
    texts = " ".join(c["text"].lower() for c in cases)
    missing = [cue for cue in REQUIRED_CUES if cue not in texts]
    assert not missing, f"cues without a labelled sentence: {missing}"
    groups = Counter(c["group"].split(":")[0] for c in cases)
    for needed in ("double negation", "pseudo", "no inside word", "scope"):
        assert groups[needed] >= 5, needed
    # every assertion value is exercised
    assert {c["expected"] for c in cases} == set(ASSERTIONS)


def test_assertion_accuracy(nlp: NlpPipeline) -> None:
    cases = _cases()
    texts = [c["text"] for c in cases]
    analyses = nlp.analyze_batch(texts)
    correct = 0
    errors: list[str] = []
    for case, analysis in zip(cases, analyses, strict=True):
        s, e = case["start"], case["start"] + len(case["target"])
        hits = [m for m in analysis.mentions if m.start < e and s < m.end]
        got = hits[0].assertion if hits else "<no mention>"
        if got == case["expected"]:
            correct += 1
        else:
            errors.append(f"{case['group']}: {case['target']!r} expected {case['expected']}, got {got}")
    accuracy = correct / len(cases)
    print(f"assertion accuracy: {accuracy:.4f} ({correct}/{len(cases)})")
    assert accuracy >= 0.95, "\n".join(errors[:30])
