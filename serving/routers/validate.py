"""POST /v1/validate: claim -> findings (DESIGN.md 4.3)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException

from codesets import CodeFormatError, DateOfServiceError
from serving.concurrency import Overloaded
from serving.deps import LimiterDep, MetricsDep, ValidateDep, require_api_key
from serving.routers import ERROR_RESPONSES, client_errors
from validator.schemas import Claim, ValidationResult

router = APIRouter(prefix="/v1", tags=["validate"], dependencies=[Depends(require_api_key)])
log = logging.getLogger("medcode.validate")


@router.post(
    "/validate",
    response_model=ValidationResult,
    summary="Check a claim (diagnoses + service lines) for what payers deny",
    responses=ERROR_RESPONSES,
)
async def validate(claim: Claim, validate_fn: ValidateDep, limiter: LimiterDep, metrics: MetricsDep) -> ValidationResult:
    bad_input: tuple[type[Exception], ...] = (DateOfServiceError, CodeFormatError, *client_errors())
    try:
        result = await limiter.run(validate_fn, claim)
    except Overloaded:
        raise
    except bad_input as exc:
        raise HTTPException(422, str(exc)) from None
    if not isinstance(result, ValidationResult):
        result = ValidationResult.model_validate(result if isinstance(result, dict) else result.model_dump())
    metrics.validations.labels(result.status).inc()
    log.info("validated", extra={"status": result.status, "n_findings": len(result.findings)})
    return result
