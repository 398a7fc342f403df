"""Fiscal years (1 October - 30 September) and date parsing."""

from __future__ import annotations

import datetime as dt


class DateOfServiceError(ValueError):
    """A date of service that is malformed or outside every loaded code set."""


def parse_dos(value: str | dt.date | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DateOfServiceError(f"date of service {value!r} is not a date (expected YYYY-MM-DD)") from exc


def fiscal_year(day: dt.date) -> int:
    """US federal fiscal year: FY2026 runs 2025-10-01 .. 2026-09-30."""
    return day.year + 1 if day.month >= 10 else day.year


def fy_start(fy: int) -> dt.date:
    return dt.date(fy - 1, 10, 1)


def fy_end(fy: int) -> dt.date:
    return dt.date(fy, 9, 30)
