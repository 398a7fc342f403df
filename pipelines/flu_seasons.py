"""Influenza vaccine valence by US season (`rules/influenza_seasons.yaml`).

In the seasons the file lists, every US influenza vaccine had one valence (all quadrivalent from
2021-22 through 2023-24, all trivalent from 2024-25). `season_code(code, day, text)` bills a
product with its season's valence: a quadrivalent code on a 2025 date of service becomes the
trivalent code of the same formulation, unless the note itself names the valence it was given
("quadrivalent", "IIV4"). Unlisted dates, an unknown date of service and products without a
counterpart keep their code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.rules import check_keys, read_rule_file

_TOP_KEYS = frozenset({"version", "seasons", "pairs", "examples"})
_SEASON_KEYS = frozenset({"id", "policy", "from", "until", "valence"})
_EXAMPLE_KEYS = frozenset({"code", "date", "text", "expect"})
VALENCES = ("trivalent", "quadrivalent")
# words that name a valence in a note: the word itself or the ACIP abbreviations (IIV4, RIV3, ccIIV4, LAIV4...)
_SAYS = {
    "trivalent": re.compile(r"\btrivalent\b|\b(?:cc|a)?[ilr]iv3\b|\blaiv3\b", re.IGNORECASE),
    "quadrivalent": re.compile(r"\bquadrivalent\b|\b(?:cc|a)?[ilr]iv4\b|\blaiv4\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Season:
    id: str
    policy: str
    start: dt.date
    end: dt.date | None
    valence: str

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class SeasonRules:
    seasons: tuple[Season, ...]
    counterpart: dict[str, tuple[str, str]]  # code -> (its valence, the other valence's code)
    examples: tuple[tuple[str, dt.date | None, str, str], ...]


@lru_cache(maxsize=1)
def load_rules() -> SeasonRules:
    data = check_keys(read_rule_file("influenza_seasons.yaml"), _TOP_KEYS, "influenza_seasons.yaml")
    seasons = []
    for s in data["seasons"]:
        check_keys(s, _SEASON_KEYS, f"influenza season {s.get('id')!r}")
        if s["valence"] not in VALENCES:
            raise ValueError(f"influenza_seasons.yaml season {s['id']!r}: valence {s['valence']!r} not in {VALENCES}")
        seasons.append(Season(s["id"], s["policy"], s["from"], s.get("until"), s["valence"]))
    counterpart: dict[str, tuple[str, str]] = {}
    for tri, quad in data["pairs"]:
        counterpart[tri] = ("trivalent", quad)
        counterpart[quad] = ("quadrivalent", tri)
    examples = []
    for e in data.get("examples") or ():
        check_keys(e, _EXAMPLE_KEYS, "influenza season example")
        examples.append((e["code"], e.get("date"), e["text"], e["expect"]))
    return SeasonRules(tuple(seasons), counterpart, tuple(examples))


def season_code(code: str, day: dt.date | None, text: str) -> tuple[str, str | None]:
    """(the code to bill, the id of the season rule that changed it or None)."""
    rules = load_rules()
    if day is None or code not in rules.counterpart:
        return code, None
    valence, other = rules.counterpart[code]
    season = next((s for s in rules.seasons if s.holds(day)), None)
    if season is None or season.valence == valence or _SAYS[valence].search(text):
        return code, None
    return other, season.id
