"""The code-set facade: one object that answers lookups for ICD-10-CM, CPT and HCPCS by date."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal

from codesets._data import resource_digest
from codesets.fiscal import DateOfServiceError, fiscal_year, fy_end, fy_start, parse_dos
from codesets.icd10cm import Icd10cm
from codesets.normalize import CodeFormatError, System, candidate_systems, clean, dotted, proc_key
from codesets.procedures import Procedures

Status = Literal["valid", "header", "deleted", "invalid", "stale_codeset"]


@dataclass(slots=True)
class LookupResult:
    code: str
    system: System
    status: Status
    billable: bool
    description: str
    fiscal_year: int | None = None  # ICD-10-CM fiscal year used
    date_of_service: str | None = None
    level: str | None = None  # CPT_I / CPT_II / CPT_III / CPT_PLA / HCPCS_II
    children: list[str] = field(default_factory=list)  # billable children of a header
    deleted_in_fy: int | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    message: str = ""

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CodeSets:
    """All code sets, loaded lazily piece by piece (ICD, procedures, notes, NCCI...)."""

    @cached_property
    def icd(self) -> Icd10cm:
        return Icd10cm()

    @cached_property
    def procedures(self) -> Procedures:
        return Procedures()

    @cached_property
    def version(self) -> str:
        fys = self.icd.fiscal_years
        ioce = self.procedures.newest_version.isoformat()
        digest = resource_digest("icd10cm_codes_fy2024_fy2026.csv.gz", "hcpcs_cpt_codes_ioce.csv.gz", "cpt_catalog.csv")
        return f"icd10cm-FY{fys[0]}-FY{fys[-1]}+ioce-{ioce}+{digest}"

    @property
    def newest_fy(self) -> int:
        return self.icd.fiscal_years[-1]

    def check_dos(self, dos: str | dt.date | None) -> dt.date | None:
        """Parse a date of service; raise if it precedes every loaded code set."""
        day = parse_dos(dos)
        if day is not None and fiscal_year(day) < self.icd.fiscal_years[0]:
            first = self.icd.fiscal_years[0]
            raise DateOfServiceError(
                f"date of service {day.isoformat()} precedes the oldest loaded code set "
                f"(FY{first} starts {fy_start(first).isoformat()})"
            )
        return day

    # ---- lookup ----------------------------------------------------------------------
    def lookup(self, code: str, system: str | None = None, dos: str | dt.date | None = None) -> LookupResult:
        """Status of `code` on the date of service (default: newest loaded code sets).

        Raises CodeFormatError for text that cannot be a code of the system, and
        DateOfServiceError for a malformed date or one before every loaded code set.
        """
        day = self.check_dos(dos)
        systems: list[System]
        if system is not None:
            if system not in ("icd10cm", "cpt", "hcpcs"):
                raise CodeFormatError(f"unknown code system {system!r} (expected icd10cm, cpt or hcpcs)")
            systems = [system]  # type: ignore[list-item]
        else:
            systems = candidate_systems(code)
        if not systems:
            raise CodeFormatError(f"{code!r} is not an ICD-10-CM, CPT or HCPCS code")
        results = []
        for s in systems:
            try:
                r = self._lookup_icd(code, day) if s == "icd10cm" else self._lookup_proc(code, s, day)
            except CodeFormatError:
                if system is not None:
                    raise
                continue
            if r.status != "invalid" or system is not None:
                others = [o for o in systems if o != s]
                if others and system is None:
                    r.message = (r.message + " " if r.message else "") + (
                        f"{clean(code)} also fits the {others[0]} format; pass system={others[0]} to look it up there")
                return r
            results.append(r)
        if not results:
            raise CodeFormatError(f"{code!r} is not a {system} code")
        return results[0]

    def _lookup_icd(self, code: str, day: dt.date | None) -> LookupResult:
        from codesets.normalize import icd_key

        key = icd_key(code)
        icd = self.icd
        newest = icd.fiscal_years[-1]
        fy = fiscal_year(day) if day else newest
        disp = dotted(key)
        desc = icd.description(key)
        base: dict[str, Any] = {"code": disp, "system": "icd10cm", "date_of_service": day.isoformat() if day else None}
        if fy > newest:
            flag = icd.flag(key, newest)
            return LookupResult(
                **base,
                status="stale_codeset",
                billable=flag == "B",
                description=desc,
                fiscal_year=newest,
                message=(
                    f"date of service falls in FY{fy}, after the newest loaded ICD-10-CM code set "
                    f"FY{newest} (ends {fy_end(newest).isoformat()}); import FY{fy} with "
                    "`medcode codesets import`"
                ),
            )
        flag = icd.flag(key, fy)
        if flag == "B":
            return LookupResult(**base, status="valid", billable=True, description=desc, fiscal_year=fy)
        if flag == "H":
            kids = list(self._dotted_children(key, fy))
            return LookupResult(
                **base,
                status="header",
                billable=False,
                description=desc,
                fiscal_year=fy,
                children=kids,
                message=f"{disp} is a header code in FY{fy}; report one of its {len(kids)} billable codes",
            )
        entry = icd.codes.get(key)
        if entry is not None and any(y < fy for y in entry.flags):
            last = max(y for y in entry.flags if y < fy)
            deleted = last + 1
            return LookupResult(
                **base,
                status="deleted",
                billable=False,
                description=desc,
                fiscal_year=fy,
                deleted_in_fy=deleted,
                message=f"{disp} was deleted in FY{deleted} (last valid FY{last})",
            )
        if entry is not None:
            first = min(entry.flags)
            msg = f"{disp} is not valid until FY{first}"
        else:
            msg = f"{disp} is not an ICD-10-CM code in any loaded fiscal year"
        return LookupResult(**base, status="invalid", billable=False, description=desc, fiscal_year=fy, message=msg)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one CodeSets per process
    def _dotted_children(self, key: str, fy: int) -> tuple[str, ...]:
        return tuple(dotted(k) for k in self.icd.billable_descendants(key, fy))

    def _lookup_proc(self, code: str, system: str, day: dt.date | None) -> LookupResult:
        key = proc_key(code)
        sys_: System = "cpt" if key[0].isdigit() else "hcpcs"
        if system in ("cpt", "hcpcs") and sys_ != system:
            raise CodeFormatError(f"{code!r} is not a {system} code")
        procs = self.procedures
        desc = procs.description(key)
        base: dict[str, Any] = {"code": key, "system": sys_, "date_of_service": day.isoformat() if day else None}
        probe = day or procs.coverage_end
        last = procs.last_span(key)
        if last is None:
            return LookupResult(**base, status="invalid", billable=False, description=desc,
                                message=f"{key} is not a {sys_.upper()} code in the loaded I/OCE data")
        span_info: dict[str, Any] = {"level": last.level, "valid_from": None if last.valid_from.year == 1900 else last.valid_from.isoformat(),
                     "valid_to": None if last.valid_to.year == 9999 else last.valid_to.isoformat()}
        if day is not None and day > procs.coverage_end:
            return LookupResult(
                **base, **span_info, status="stale_codeset", billable=last.valid_to >= procs.coverage_end,
                description=desc,
                message=(f"date of service is after the newest loaded CPT/HCPCS release "
                         f"(I/OCE {procs.newest_version.isoformat()}, covers to {procs.coverage_end.isoformat()})"),
            )
        span = procs.span_on(key, probe)
        if span is not None:
            return LookupResult(**base, **span_info, status="valid", billable=True, description=desc)
        if last.valid_to < probe:
            return LookupResult(**base, **span_info, status="deleted", billable=False, description=desc,
                                message=f"{key} was terminated on {last.valid_to.isoformat()}")
        return LookupResult(**base, **span_info, status="invalid", billable=False, description=desc,
                            message=f"{key} is not valid until {last.valid_from.isoformat()}")

    # ---- search ----------------------------------------------------------------------
    @cached_property
    def _searcher(self) -> Any:
        from codesets.search import Searcher

        return Searcher(self)

    def search(self, text: str, system: str | None = None, k: int = 10) -> list[Any]:
        """Ranked codes for a phrase (see codesets.search)."""
        return self._searcher.search(text, system=system, k=k)  # type: ignore[no-any-return]


_LOCK = threading.Lock()
_INSTANCE: CodeSets | None = None


def load_codesets() -> CodeSets:
    """The process-wide CodeSets (lazy parts, thread-safe creation)."""
    global _INSTANCE
    with _LOCK:
        if _INSTANCE is None:
            _INSTANCE = CodeSets()
        return _INSTANCE


def reset_codesets() -> None:
    """Drop the cached instance (after importing a new fiscal year)."""
    global _INSTANCE
    with _LOCK:
        _INSTANCE = None


__all__ = ["CodeSets", "LookupResult", "clean", "load_codesets", "reset_codesets"]
