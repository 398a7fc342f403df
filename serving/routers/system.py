"""Process and model status, Prometheus metrics (open even when API keys are set)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from serving.deps import MetricsDep, ServiceDep
from serving.schemas import Health, Readiness

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="The process is up")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="A suggestion model is loaded: which version and where it came from",
    responses={503: {"model": Readiness, "description": "no model loaded (yet); `reason` says why"}},
)
def ready(svc: ServiceDep) -> Response:
    state = svc.provider.state
    body = Readiness(
        ready=state.ready,
        model_version=state.version,
        source=state.source,
        model_uri=state.uri,
        reason=state.reason,
        codeset_version=svc.codeset_version(),
        loaded_at=state.loaded_at,
    )
    headers = {"Retry-After": str(max(1, svc.settings.retry_after_s * 5))} if state.source == "loading" else None
    return JSONResponse(body.model_dump(), status_code=200 if state.ready else 503, headers=headers)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(m: MetricsDep) -> Response:
    return Response(m.render(), media_type=m.content_type)
