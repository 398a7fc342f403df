"""X-ray codes by number of views: the catalog's own descriptions give each code's site and view
range ("Chest x-ray, two views", "Wrist x-ray, three or more views"); the documented view count
("2 views", "PA and lateral", "single view") picks the code of that site whose range covers it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_NUM = {"one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_DESC = re.compile(r"^(?P<site>[^,]*x-ray[^,]*), (?P<lo>one|two|three|four|five)(?: or (?P<hi>two|three|four|five|more))? views?\b",
                   re.IGNORECASE)
_VIEWS = re.compile(r"\b(?P<n>one|single|two|three|four|five|[1-5])[- ]?(?:views?|vws?|v)\b", re.IGNORECASE)
_TWO_VIEW = re.compile(r"\b(?:pa|ap)\s*(?:and|&|/|\+)\s*lat(?:eral)?\b", re.IGNORECASE)


def view_ranges(catalog: Mapping[str, Any]) -> dict[str, tuple[str, int, float]]:
    """code -> (site, fewest views, most views) for the catalog's x-ray codes counted by views."""
    out: dict[str, tuple[str, int, float]] = {}
    for code, entry in catalog.items():
        m = _DESC.match(getattr(entry, "description", "") or "")
        if m:
            lo = _NUM[m.group("lo").lower()]
            hi_word = (m.group("hi") or "").lower()
            hi = float("inf") if hi_word == "more" else _NUM.get(hi_word, lo)
            out[code] = (m.group("site").lower(), lo, hi)
    return out


def documented_views(text: str) -> int | None:
    """The number of views a phrase documents ("2 views", "PA/lat", "single view"), or None."""
    m = _VIEWS.search(text)
    if m:
        return _NUM[m.group("n").lower()]
    if _TWO_VIEW.search(text):
        return 2
    return None


def code_for_views(code: str, views: int | None, ranges: Mapping[str, tuple[str, int, float]]) -> str:
    """The code of `code`'s site whose view range covers `views` (`code` itself when it already
    does, when no view count is documented, or when the site has no such code)."""
    if views is None or code not in ranges:
        return code
    site, lo, hi = ranges[code]
    if lo <= views <= hi:
        return code
    return next((c for c, (s, a, b) in sorted(ranges.items()) if s == site and a <= views <= b), code)
