"""Measurements that map to codes by value, not by wording: body mass index -> Z68.

ICD-10-CM Z68: adult BMI codes (Z68.1-Z68.45) by value band, pediatric codes (Z68.51-Z68.54) by
percentile for age. Whether a BMI code is reportable (only with an associated weight diagnosis,
ICD-10-CM guideline I.B.14) is left to the ranker; this only says which code a documented value
is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_BMI = re.compile(
    r"\b(?:bmi|body mass index)\b\s*(?:\[bmi\]\s*)?(?:is|of|was|=|:|today|now|at)?\s*(?:the\s*)?"
    r"(\d{1,3}(?:\.\d+)?)\s*(th|st|nd|rd)?\s*(percentile|%ile|centile)?",
    re.IGNORECASE,
)


def adult_bmi_code(value: float) -> str | None:
    """Z68 code of an adult BMI value (one-decimal bands as in the code titles)."""
    v = round(value, 1)
    if v < 5 or v > 150:
        return None  # not a BMI
    if v < 20:
        return "Z68.1"
    if v < 40:
        return f"Z68.{int(v)}"
    if v < 45:
        return "Z68.41"
    if v < 50:
        return "Z68.42"
    if v < 60:
        return "Z68.43"
    if v < 70:
        return "Z68.44"
    return "Z68.45"


def pediatric_bmi_code(percentile: float) -> str | None:
    if percentile < 0 or percentile > 100:
        return None
    if percentile < 5:
        return "Z68.51"
    if percentile < 85:
        return "Z68.52"
    if percentile < 95:
        return "Z68.53"
    return "Z68.54"


def bmi_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, Z68 code) for each documented BMI value or percentile."""
    for m in _BMI.finditer(text):
        value = float(m.group(1))
        code = pediatric_bmi_code(value) if m.group(3) else adult_bmi_code(value)
        if code is not None:
            yield m.start(), m.end(3) if m.group(3) else m.end(1), code
