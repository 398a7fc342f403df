"""Code look-up and phrase search (ICD-10-CM, CPT, HCPCS)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from codesets import CodeFormatError, DateOfServiceError
from serving.deps import CodeSetsDep, require_api_key
from serving.schemas import CodeLookup, CodeSearchHit

router = APIRouter(prefix="/v1/codes", tags=["codes"], dependencies=[Depends(require_api_key)])

System = Literal["icd10cm", "cpt", "hcpcs"]


@router.get("/search", response_model=list[CodeSearchHit], summary="Ranked codes for a phrase")
def search(
    cs: CodeSetsDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="words to search for")],
    system: Annotated[System | None, Query(description="restrict to one code system")] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[CodeSearchHit]:
    if not q.strip():
        return []  # only blanks/control characters: nothing to match (the picker clears its list)
    return [
        CodeSearchHit(code=h.code, system=h.system, description=h.description, score=h.score, matched=h.matched)
        for h in cs.search(q, system=system, k=k)
    ]


@router.get(
    "/{system}/{code}",
    response_model=CodeLookup,
    summary="Status of a code on a date of service",
    responses={
        404: {"description": "the code contains path characters ('/', '.' or '..' alone) so no route matches"},
        422: {"description": "malformed code or date, or a date before the oldest loaded code set"},
    },
)
def lookup(
    cs: CodeSetsDep,
    system: System,
    code: Annotated[str, Path(min_length=1, max_length=20)],
    dos: Annotated[str | None, Query(description="date of service YYYY-MM-DD (default: newest code sets)")] = None,
) -> CodeLookup:
    try:
        r = cs.lookup(code, system=system, dos=dos)
    except (CodeFormatError, DateOfServiceError) as exc:
        raise HTTPException(422, str(exc)) from None
    return CodeLookup.model_validate(r.to_dict())
