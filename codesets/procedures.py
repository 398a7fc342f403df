"""CPT/HCPCS validity by date of service (CMS I/OCE extract), add-on codes, modifiers, NCCI PTP
edits and the project's own CPT catalog (plain-language descriptions, no AMA text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from codesets._data import has_resource, read_rows, read_tuples

_MIN = dt.date(1900, 1, 1)
_MAX = dt.date(9999, 12, 31)
# The extract holds I/OCE versions 25.3 (2024-10-01) to 27.1 (2026-04-01). Spans that start
# before the first loaded version are "on or before" that date (the earlier history is not in
# the extract), so they are extended back.
IOCE_FIRST_VERSION = dt.date(2024, 10, 1)


def _date(s: str, default: dt.date) -> dt.date:
    return dt.date.fromisoformat(s) if s else default


@dataclass(frozen=True, slots=True)
class ProcSpan:
    valid_from: dt.date
    valid_to: dt.date
    level: str
    age_lo: int
    age_hi: int
    description: str  # HCPCS Level II only (CMS text)
    non_covered: bool


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    code: str
    system: str
    category: str
    description: str
    synonyms: tuple[str, ...]
    specialties: tuple[str, ...]
    addon_primary: tuple[str, ...]
    laterality: bool
    units_basis: str


@dataclass(frozen=True, slots=True)
class PtpEdit:
    column1: str
    column2: str
    modifier_indicator: int  # 0 never together, 1 allowed with a PTP-bypass modifier


class Procedures:
    def __init__(self) -> None:
        self.spans: dict[str, list[ProcSpan]] = {}
        newest = _MIN
        for r in read_rows("hcpcs_cpt_codes_ioce.csv.gz"):
            start = _date(r["valid_from"], _MIN)
            if start < IOCE_FIRST_VERSION:
                start = _MIN
            span = ProcSpan(
                start,
                _date(r["valid_to"], _MAX),
                r["level"],
                int(r["age_lo"] or 0),
                int(r["age_hi"] or 124),
                r["hcpcs_ii_short_description"],
                r["non_covered"] == "1",
            )
            self.spans.setdefault(r["code"], []).append(span)
            newest = max(newest, _date(r["valid_from"], _MIN))
        self.newest_version = newest
        # a quarterly I/OCE release covers its quarter; later dates need a newer release
        q_end_month = ((newest.month - 1) // 3) * 3 + 3
        nxt = dt.date(newest.year + (q_end_month == 12), q_end_month % 12 + 1, 1)
        self.coverage_end = nxt - dt.timedelta(days=1)

    def span_on(self, code: str, day: dt.date) -> ProcSpan | None:
        for s in self.spans.get(code, ()):
            if s.valid_from <= day <= s.valid_to:
                return s
        return None

    def last_span(self, code: str) -> ProcSpan | None:
        spans = self.spans.get(code)
        return max(spans, key=lambda s: s.valid_to) if spans else None

    def level(self, code: str) -> str:
        s = self.last_span(code)
        return s.level if s else ""

    # ---- add-ons and modifiers -----------------------------------------------------
    @cached_property
    def addons(self) -> dict[str, tuple[int, frozenset[str]]]:
        """add-on code -> (AOC type, primary codes; empty for type 2)."""
        acc: dict[str, tuple[int, set[str]]] = {}
        for r in read_rows("ncci_addon_codes_ioce.csv.gz"):
            if r["in_ioce_to"]:
                continue
            _aoc, prim = acc.setdefault(r["addon_code"], (int(r["aoc_type"]), set()))
            if r["primary_code"]:
                prim.add(r["primary_code"])
        return {k: (t, frozenset(p)) for k, (t, p) in acc.items()}

    @cached_property
    def modifiers(self) -> dict[str, dict[str, bool]]:
        out: dict[str, dict[str, bool]] = {}
        for r in read_rows("modifiers_ioce.csv.gz"):
            out[r["modifier"]] = {
                "ptp_bypass": r["ncci_ptp_bypass"] == "1",
                "telehealth": r["telehealth"] == "1",
            }
        return out

    def is_ptp_bypass(self, modifier: str) -> bool:
        return self.modifiers.get(modifier.upper(), {}).get("ptp_bypass", False)

    # ---- NCCI PTP --------------------------------------------------------------------
    @cached_property
    def _ptp(self) -> dict[tuple[str, str], list[tuple[str, str, int]]]:
        """(column1, column2) -> [(from, to, modifier indicator)], dates kept as ISO strings
        (they compare correctly as text; parsing 228k rows of dates dominated load time)."""
        out: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
        rows = read_tuples("ncci_ptp_ioce_subset.csv.gz")
        header = next(rows)
        if header[:5] != ["column1", "column2", "modifier_indicator", "in_ioce_from", "in_ioce_to"]:
            raise ValueError(f"unexpected NCCI PTP columns: {header}")
        for c1, c2, mi, start, end in rows:
            out.setdefault((c1, c2), []).append((start or "0000-00-00", end or "9999-12-31", int(mi)))
        return out

    def ptp_edit(self, a: str, b: str, day: dt.date | None = None) -> PtpEdit | None:
        """The NCCI PTP edit between two codes (either order) active on `day`, if any."""
        iso = day.isoformat() if day is not None else None
        first = IOCE_FIRST_VERSION.isoformat()
        for c1, c2 in ((a, b), (b, a)):
            for start, end, mi in self._ptp.get((c1, c2), ()):
                if iso is None or start <= iso <= end or (iso < start and start <= first):
                    return PtpEdit(c1, c2, mi)
        return None

    # ---- catalog ---------------------------------------------------------------------
    @cached_property
    def catalog(self) -> dict[str, CatalogEntry]:
        if not has_resource("cpt_catalog.csv"):
            return {}
        out: dict[str, CatalogEntry] = {}
        for r in read_rows("cpt_catalog.csv"):
            out[r["code"]] = CatalogEntry(
                code=r["code"],
                system=r["system"],
                category=r["category"],
                description=r["description"],
                synonyms=tuple(s.strip() for s in r["synonyms"].split("|") if s.strip()),
                specialties=tuple(s for s in r["specialties"].split("|") if s),
                addon_primary=tuple(s for s in r["addon_primary"].split("|") if s),
                laterality=r["laterality"] == "1",
                units_basis=r["units_basis"],
            )
        return out

    def description(self, code: str) -> str:
        entry = self.catalog.get(code)
        if entry:
            return entry.description
        s = self.last_span(code)
        if s and s.description:
            return s.description
        return ""
