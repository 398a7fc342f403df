"""Code normalisation and code-system detection (no data needed)."""

from __future__ import annotations

import re
from typing import Literal

System = Literal["icd10cm", "cpt", "hcpcs"]
SYSTEMS: tuple[System, ...] = ("icd10cm", "cpt", "hcpcs")

_CLEAN = re.compile(r"[\s.\-]")
_ICD_RE = re.compile(r"^[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])[0-9A-Z]{0,4}$")  # QA0x: FY2026 genetic codes
_CPT_RE = re.compile(r"^[0-9]{4}[0-9FTUM]$")
_HCPCS_RE = re.compile(r"^[A-V][0-9]{4}$")


class CodeFormatError(ValueError):
    """The text cannot be any ICD-10-CM, CPT or HCPCS code."""


def clean(code: str) -> str:
    """Upper-case and strip dots, dashes and whitespace: ' e11.65 ' -> 'E1165'."""
    if not isinstance(code, str):
        raise CodeFormatError(f"code must be a string, got {type(code).__name__}")
    return _CLEAN.sub("", code).upper()


def icd_key(code: str) -> str:
    """Dotless upper-case ICD-10-CM key ('E11.65' -> 'E1165'); raises on bad format."""
    c = clean(code)
    if not _ICD_RE.match(c):
        raise CodeFormatError(f"{code!r} is not an ICD-10-CM code (expected e.g. E11.65)")
    return c


def dotted(code: str) -> str:
    """Dotted display form of an ICD-10-CM code: 'E1165' -> 'E11.65', 'I10' -> 'I10'."""
    c = clean(code)
    return c if len(c) <= 3 else f"{c[:3]}.{c[3:]}"


def normalize_icd(code: str) -> str:
    """Normalised ICD-10-CM code as used in every contract: dotted upper case."""
    return dotted(icd_key(code))


def proc_key(code: str) -> str:
    """Normalised CPT/HCPCS code (upper case, no spaces)."""
    c = clean(code)
    if not (_CPT_RE.match(c) or _HCPCS_RE.match(c)):
        raise CodeFormatError(f"{code!r} is not a CPT or HCPCS code (expected e.g. 99213, 0001F, J1100)")
    return c


def proc_system(code: str) -> System:
    c = proc_key(code)
    return "cpt" if _CPT_RE.match(c) else "hcpcs"


def candidate_systems(code: str) -> list[System]:
    """Systems whose format the code fits, most likely first. Dotted input is ICD-10-CM."""
    raw = code.strip() if isinstance(code, str) else ""
    c = clean(raw) if raw else ""
    out: list[System] = []
    if "." in raw:
        return ["icd10cm"] if _ICD_RE.match(c) else []
    if _ICD_RE.match(c):
        out.append("icd10cm")
    if _CPT_RE.match(c):
        out.append("cpt")
    if _HCPCS_RE.match(c):
        out.append("hcpcs")
    return out


def normalize(code: str, system: str | None = None) -> str:
    """Normalise a code of the given (or detected) system to its contract form."""
    systems = [system] if system else candidate_systems(code)
    if not systems:
        raise CodeFormatError(f"{code!r} is not an ICD-10-CM, CPT or HCPCS code")
    if systems[0] == "icd10cm":
        return normalize_icd(code)
    if systems[0] in ("cpt", "hcpcs"):
        return proc_key(code)
    raise CodeFormatError(f"unknown code system {system!r} (expected icd10cm, cpt or hcpcs)")
