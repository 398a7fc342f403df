"""Terminology, no ML: ICD-10-CM by fiscal year, CPT/HCPCS validity by date, the CPT catalog,
tabular notes, MCE edits, NCCI PTP and add-on tables, lookup and search.

    from codesets import load_codesets
    cs = load_codesets()
    cs.lookup("E11.65", dos="2026-03-01").status   # 'valid'
"""

from codesets.fiscal import DateOfServiceError, fiscal_year, parse_dos
from codesets.lookup import CodeSets, LookupResult, load_codesets, reset_codesets
from codesets.normalize import CodeFormatError, candidate_systems, dotted, normalize, normalize_icd, proc_key

__all__ = [
    "CodeFormatError",
    "CodeSets",
    "DateOfServiceError",
    "LookupResult",
    "candidate_systems",
    "dotted",
    "fiscal_year",
    "load_codesets",
    "normalize",
    "normalize_icd",
    "parse_dos",
    "proc_key",
    "reset_codesets",
]
