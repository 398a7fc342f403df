"""POST /v1/suggest: note -> SuggestionSet (DESIGN.md 4.2)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request

from codesets import CodeFormatError, DateOfServiceError, parse_dos
from pipelines.schemas import SuggestionSet, SuggestRequest
from serving.concurrency import Overloaded
from serving.deps import (
    LimiterDep,
    MetricsDep,
    ServiceDep,
    SettingsDep,
    SuggesterDep,
    model_unavailable,
    require_api_key,
)
from serving.logs import guard_note
from serving.routers import ERROR_RESPONSES, client_errors

router = APIRouter(prefix="/v1", tags=["suggest"], dependencies=[Depends(require_api_key)])
log = logging.getLogger("medcode.suggest")


@router.post(
    "/suggest",
    response_model=SuggestionSet,
    summary="Suggest ICD-10-CM and CPT/HCPCS codes for a visit note",
    responses=ERROR_RESPONSES,
)
async def suggest(
    body: SuggestRequest,
    request: Request,
    suggester: SuggesterDep,
    limiter: LimiterDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    svc: ServiceDep,
) -> SuggestionSet:
    n = len(body.text)
    if n > settings.max_note_chars:
        raise HTTPException(413, f"note text has {n} characters; the limit is {settings.max_note_chars}")
    if not body.text.strip():
        raise HTTPException(422, "text is empty")
    try:
        parse_dos(body.date_of_service)
    except DateOfServiceError as exc:
        raise HTTPException(422, str(exc)) from None
    if suggester is None:
        raise model_unavailable(svc)
    version = str(getattr(suggester, "model_version", "unknown"))
    bad_input: tuple[type[Exception], ...] = (DateOfServiceError, CodeFormatError, *client_errors())
    with guard_note(body.text):
        try:
            result = await limiter.run(suggester.suggest, body.text, body)
        except Overloaded:
            raise
        except bad_input as exc:
            metrics.suggest_requests.labels(version, "rejected").inc()
            raise HTTPException(422, str(exc)) from None
        except Exception as exc:
            # logged inside the note guard, so the filter can redact the note from the traceback
            metrics.suggest_requests.labels(version, "error").inc()
            log.error("suggester failed", exc_info=exc, extra={"model_version": version})
            raise HTTPException(500, "the suggester failed on this note; see the server log for the request id") from None
    if not isinstance(result, SuggestionSet):
        result = SuggestionSet.model_validate(result if isinstance(result, dict) else result.model_dump())
    result = result.model_copy(update={"request_id": request.state.request_id})
    metrics.suggest_requests.labels(result.model_version, "ok").inc()
    metrics.suggestions.labels("icd10cm").inc(len(result.icd10cm))
    metrics.suggestions.labels("cpt").inc(len(result.cpt))
    log.info("suggested", extra={"model_version": result.model_version, "n_icd10cm": len(result.icd10cm),
                                 "n_cpt": len(result.cpt), "note_chars": n, "status": result.validation.status})
    return result
