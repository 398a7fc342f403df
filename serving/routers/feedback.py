"""POST /v1/feedback: a reviewer's verdicts on suggested codes (stored for retraining)."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse

from codesets import CodeFormatError, CodeSets
from serving.deps import CodeSetsDep, MetricsDep, SettingsDep, WriterDep, require_api_key
from serving.routers import ERROR_RESPONSES
from serving.schemas import FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/v1", tags=["feedback"], dependencies=[Depends(require_api_key)])
log = logging.getLogger("medcode.feedback")


@lru_cache(maxsize=65536)
def _status(cs: CodeSets, system: str, code: str) -> str:
    return cs.lookup(code, system=system).status


def unknown_codes(req: FeedbackRequest, cs: CodeSets) -> list[dict[str, Any]]:
    """Errors (FastAPI 422 detail shape) for codes the loaded code sets do not know."""
    errors: list[dict[str, Any]] = []
    for i, it in enumerate(req.items):
        for field in ("code", "replacement"):
            code = getattr(it, field)
            if code is None:
                continue
            system = "icd10cm" if it.system == "icd10cm" else ("cpt" if code[0].isdigit() else "hcpcs")
            try:
                status = _status(cs, system, code)
            except CodeFormatError as exc:
                errors.append({"loc": ["body", "items", i, field], "msg": str(exc), "type": "value_error"})
                continue
            if status == "invalid":
                errors.append({"loc": ["body", "items", i, field],
                               "msg": f"{code} is not a known {system} code", "type": "unknown_code"})
    return errors


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    summary="Store a reviewer's accept / reject / replace verdicts",
    responses=ERROR_RESPONSES,
)
def post_feedback(req: FeedbackRequest, writer: WriterDep, cs: CodeSetsDep, settings: SettingsDep,
                  metrics: MetricsDep) -> Any:
    if req.text is not None and len(req.text) > settings.max_note_chars:
        raise HTTPException(413, f"note text has {len(req.text)} characters; the limit is {settings.max_note_chars}")
    errors = unknown_codes(req, cs)
    if errors:
        msg = "; ".join(f"items.{e['loc'][2]}.{e['loc'][3]}: {e['msg']}" for e in errors)
        return JSONResponse({"detail": errors, "message": msg}, status_code=422)
    fid, n = writer.submit(req)  # returns once committed (group commit with concurrent reviews)
    for it in req.items:
        metrics.feedback_items.labels("icd10cm" if it.system == "icd10cm" else "cpt", it.verdict).inc()
    log.info("feedback stored", extra={"feedback_id": fid, "items": n, "reviewer_id": req.reviewer_id,
                                       "model_version": req.model_version, "for_request_id": req.request_id})
    return FeedbackResponse(feedback_id=fid, stored=n)
