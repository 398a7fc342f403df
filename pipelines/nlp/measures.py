"""Measurements that map to codes by value, not by wording: body mass index -> Z68.

ICD-10-CM Z68: adult BMI codes (Z68.1-Z68.45) by value band, pediatric codes (Z68.51-Z68.54) by
percentile for age. Whether a BMI code is reportable (only with an associated weight diagnosis,
ICD-10-CM guideline I.B.14) is left to the ranker; this only says which code a documented value
is.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

_BMI = re.compile(
    r"\b(?:bmi|body mass index)\b\s*(?:\[bmi\]\s*)?(?:is|of|was|=|:|today|now|at)?\s*(?:the\s*)?"
    r"(\d{1,3}(?:\.\d+)?)\s*(th|st|nd|rd)?\s*(percentile|%ile|centile)?",
    re.IGNORECASE,
)


# (lowest value of the band, code); None: the 20.0-39.9 bands, one code per whole number (Z68.20-Z68.39)
ADULT_BANDS: tuple[tuple[float, str | None], ...] = (
    (5.0, "Z68.1"), (20.0, None), (40.0, "Z68.41"), (45.0, "Z68.42"), (50.0, "Z68.43"), (60.0, "Z68.44"),
    (70.0, "Z68.45"),
)
# (lowest percentile for age, code)
PEDIATRIC_BANDS: tuple[tuple[float, str], ...] = ((0.0, "Z68.51"), (5.0, "Z68.52"), (85.0, "Z68.53"), (95.0, "Z68.54"))


def _band(value: float, lows: list[float]) -> int:
    return bisect.bisect_right(lows, value) - 1


def adult_bmi_code(value: float) -> str | None:
    """Z68 code of an adult BMI value (one-decimal bands as in the code titles)."""
    v = round(value, 1)
    i = _band(v, [lo for lo, _ in ADULT_BANDS])
    if i < 0 or v > 150:
        return None  # not a BMI
    code = ADULT_BANDS[i][1]
    return code if code is not None else f"Z68.{int(v)}"


def pediatric_bmi_code(percentile: float) -> str | None:
    if percentile > 100:
        return None
    i = _band(percentile, [lo for lo, _ in PEDIATRIC_BANDS])
    return PEDIATRIC_BANDS[i][1] if i >= 0 else None


def bmi_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, Z68 code) for each documented BMI value or percentile."""
    for m in _BMI.finditer(text):
        value = float(m.group(1))
        code = pediatric_bmi_code(value) if m.group(3) else adult_bmi_code(value)
        if code is not None:
            yield m.start(), m.end(3) if m.group(3) else m.end(1), code
