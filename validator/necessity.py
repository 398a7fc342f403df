"""The medical-necessity table: which ICD-10-CM diagnoses support a CPT/HCPCS code.

File ``validator/rules/medical_necessity.csv``, closed columns::

    rule_id,codes,dx_patterns,policy,payer_specific,note,example_supported,example_unsupported

- ``codes``: CPT/HCPCS codes the row covers, separated by ``|`` ``;`` ``,`` or spaces; an
  inclusive range of same-shaped codes is written ``73560-73564``.
- ``dx_patterns``: ICD-10-CM patterns, same separators:
  ``E11.65`` a code (and, when it is a header, its descendants), ``E11*`` / ``E11.6*`` a prefix,
  ``E08-E13`` an inclusive range of categories (or of equally long prefixes: ``M17.0-M17.9``),
  ``*`` any ICD-10-CM code that exists in the loaded code sets.
- ``payer_specific``: 1/true/yes when the row is a payer (LCD/commercial) rule rather than a
  national coverage determination.
- ``example_supported`` / ``example_unsupported``: dx codes (same separators) that the tests
  check against the row.

Several rows may cover one code: a diagnosis supports the code when any row accepts it.
A code that no row covers has no known restriction: `supports()` answers True and the
validator raises no `dx_not_supporting_procedure` for it (documented choice: an unknown
policy must not deny a claim).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

NECESSITY_COLUMNS = (
    "rule_id",
    "codes",
    "dx_patterns",
    "policy",
    "payer_specific",
    "note",
    "example_supported",
    "example_unsupported",
)
_SPLIT = re.compile(r"[|;,\s]+")
_PROC_RE = re.compile(r"^(?:[0-9]{4}[0-9FTUM]|[A-V][0-9]{4})$")
_ICD_PART = re.compile(r"^[A-Z][0-9][0-9A-Z]{0,5}$")

# match strengths (used to order pointers: most specific first)
EXACT, PREFIX, RANGE, ANY, NONE = 3, 2, 1, 0, -1


def _from_ruleset_error(msg: str) -> Exception:
    from validator.ruleset import RulesetError

    return RulesetError(msg)


def _split(text: str) -> list[str]:
    return [x for x in _SPLIT.split(text.strip()) if x]


def _dotless(code: str) -> str:
    return code.replace(".", "").strip().upper()


@dataclass(frozen=True, slots=True)
class DxPatterns:
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    ranges: tuple[tuple[str, str], ...] = ()
    any_dx: bool = False

    def strength(self, key: str) -> int:
        """How specifically the patterns accept dotless ICD key `key` (NONE if they do not)."""
        if key in self.exact:
            return EXACT
        for n in range(len(key) - 1, 2, -1):
            if key[:n] in self.exact:
                return EXACT  # a header named exactly covers its descendants
        best = NONE
        for p in self.prefixes:
            if key.startswith(p):
                best = PREFIX
                break
        if best == NONE:
            for lo, hi in self.ranges:
                if lo <= key[: len(lo)] <= hi:
                    best = RANGE
                    break
        if best == NONE and self.any_dx:
            best = ANY
        return best


def parse_patterns(text: str, fname: str = "medical_necessity.csv", ctx: str = "") -> DxPatterns:
    exact: set[str] = set()
    prefixes: list[str] = []
    ranges: list[tuple[str, str]] = []
    any_dx = False
    for raw in _split(text):
        p = raw.strip().upper()
        if p == "*":
            any_dx = True
        elif p.endswith("*"):
            k = _dotless(p[:-1])
            if not _ICD_PART.match(k) and not re.match(r"^[A-Z][0-9]?$", k):
                raise _from_ruleset_error(f"{fname}: {ctx}: bad ICD-10-CM prefix pattern {raw!r}")
            prefixes.append(k)
        elif "-" in p:
            lo, hi = (_dotless(x) for x in p.split("-", 1))
            if len(lo) != len(hi) or lo > hi or not _ICD_PART.match(lo) or not _ICD_PART.match(hi):
                raise _from_ruleset_error(f"{fname}: {ctx}: bad ICD-10-CM range pattern {raw!r}")
            ranges.append((lo, hi))
        else:
            k = _dotless(p)
            if not _ICD_PART.match(k) or len(k) < 3:
                raise _from_ruleset_error(f"{fname}: {ctx}: bad ICD-10-CM code pattern {raw!r}")
            exact.add(k)
    return DxPatterns(frozenset(exact), tuple(prefixes), tuple(ranges), any_dx)


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "y", "x", "payer"}


@dataclass(frozen=True, slots=True)
class NecessityRow:
    rule_id: str
    codes: frozenset[str]
    code_ranges: tuple[tuple[str, str], ...]
    patterns: DxPatterns
    policy: str
    payer_specific: bool
    note: str
    example_supported: tuple[str, ...]
    example_unsupported: tuple[str, ...]

    def covers(self, code: str) -> bool:
        return code in self.codes or any(len(lo) == len(code) and lo <= code <= hi for lo, hi in self.code_ranges)

    def covered_codes(self) -> list[str]:
        """The codes named one by one plus the ends of each range (for examples and docs)."""
        out = set(self.codes)
        for lo, hi in self.code_ranges:
            out.update((lo, hi))
        return sorted(out)


@dataclass
class NecessityTable:
    rows: tuple[NecessityRow, ...] = ()
    _by_code: dict[str, tuple[NecessityRow, ...]] = field(default_factory=dict, repr=False)

    def rows_for(self, code: str) -> tuple[NecessityRow, ...]:
        hit = self._by_code.get(code)
        if hit is None:
            hit = tuple(r for r in self.rows if r.covers(code))
            self._by_code[code] = hit
        return hit

    def covers(self, code: str) -> bool:
        return bool(self.rows_for(code))

    def best(self, code: str, key: str) -> tuple[int, NecessityRow | None]:
        """(strength, row) of the row that accepts dotless dx `key` for `code` most specifically."""
        best: tuple[int, NecessityRow | None] = (NONE, None)
        for r in self.rows_for(code):
            s = r.patterns.strength(key)
            if s > best[0]:
                best = (s, r)
        return best

    def __len__(self) -> int:
        return len(self.rows)


def parse_necessity_csv(text: str, fname: str = "medical_necessity.csv") -> NecessityTable:
    """Parse the table; unknown or missing columns and malformed patterns raise RulesetError."""
    if not text.strip():
        return NecessityTable()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    unknown = [h for h in header if h not in NECESSITY_COLUMNS]
    if unknown:
        raise _from_ruleset_error(
            f"{fname}: unknown column {unknown[0]!r} (allowed: {', '.join(NECESSITY_COLUMNS)})"
        )
    missing = [c for c in ("rule_id", "codes", "dx_patterns") if c not in header]
    if missing:
        raise _from_ruleset_error(f"{fname}: missing column {missing[0]!r}")
    rows: list[NecessityRow] = []
    for i, raw in enumerate(reader, start=2):
        r = {(k or "").strip(): (v or "") for k, v in raw.items() if k is not None}
        if None in raw:
            raise _from_ruleset_error(f"{fname}: line {i}: more fields than columns")
        if not r.get("codes", "").strip():
            continue
        ctx = f"line {i} ({r.get('rule_id', '')})"
        codes: set[str] = set()
        cranges: list[tuple[str, str]] = []
        for c in _split(r["codes"]):
            c = c.upper()
            if "-" in c:
                lo, hi = c.split("-", 1)
                if not (_PROC_RE.match(lo) and _PROC_RE.match(hi)) or lo > hi:
                    raise _from_ruleset_error(f"{fname}: {ctx}: bad code range {c!r}")
                cranges.append((lo, hi))
            elif _PROC_RE.match(c):
                codes.add(c)
            else:
                raise _from_ruleset_error(f"{fname}: {ctx}: {c!r} is not a CPT/HCPCS code")
        rows.append(
            NecessityRow(
                rule_id=r["rule_id"].strip(),
                codes=frozenset(codes),
                code_ranges=tuple(cranges),
                patterns=parse_patterns(r["dx_patterns"], fname, ctx),
                policy=r.get("policy", "").strip(),
                payer_specific=_truthy(r.get("payer_specific", "")),
                note=r.get("note", "").strip(),
                example_supported=tuple(_split(r.get("example_supported", ""))),
                example_unsupported=tuple(_split(r.get("example_unsupported", ""))),
            )
        )
    return NecessityTable(tuple(rows))
