"""Application factory: `create_app()` builds one independent app (settings, metrics, model,
feedback store and worker pool are per app; nothing is read or started at import).

    uvicorn serving.app:create_app --factory         # or: medcode serve
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.concurrency import Overloaded, WorkLimiter
from serving.deps import Service
from serving.metrics import Metrics
from serving.middleware import RequestContextMiddleware, route_template
from serving.model import Loader, ModelProvider
from serving.routers import codes, examples, feedback, suggest, system, validate
from serving.settings import Settings

log = logging.getLogger("medcode.app")

STATIC_DIR = Path(__file__).parent / "static"
VERSION = "0.1.0"


def readable(errors: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """FastAPI/pydantic errors without echoed input, plus a one-line message."""
    out, parts = [], []
    for e in errors:
        loc = [p for p in e.get("loc", ()) if p is not None]
        msg = str(e.get("msg", "invalid"))
        ctx_err = (e.get("ctx") or {}).get("error")
        if e.get("type") == "json_invalid" and ctx_err:
            msg = f"malformed JSON: {ctx_err}"
        out.append({"loc": loc, "msg": msg, "type": e.get("type", "value_error")})
        if e.get("type") == "json_invalid":
            where = f"body at character {loc[1]}" if len(loc) > 1 else "body"
        else:
            where = ".".join(str(p) for p in (loc[1:] if loc and loc[0] == "body" else loc)) or "body"
        parts.append(f"{where}: {msg}")
    return out, "; ".join(parts)


def create_app(settings: Settings | None = None, *, loader: Loader | None = None) -> FastAPI:
    """Build the API. `loader` replaces `pipelines.suggest.load_suggester` (tests)."""
    settings = settings or Settings()
    metrics = Metrics()
    provider = ModelProvider(settings, loader=loader,
                             on_change=lambda st: metrics.set_model(st.version, st.source, st.uri))
    limiter = WorkLimiter(settings.max_concurrency, settings.max_queue, settings.queue_timeout_s,
                          settings.retry_after_s, metrics)
    svc = Service(settings=settings, metrics=metrics, provider=provider, limiter=limiter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("starting", extra={"settings": settings.public()})
        try:
            svc.store  # noqa: B018 - open and migrate the feedback database now, not on first use
        except Exception as exc:
            log.error("feedback store unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
        threading.Thread(target=svc.warm_codesets, name="medcode-codesets-warm", daemon=True).start()
        provider.start()
        try:
            yield
        finally:
            provider.stop()
            svc.close()
            log.info("stopped")

    app = FastAPI(
        title="medcode",
        version=VERSION,
        summary="Suggest and validate ICD-10-CM and CPT/HCPCS codes for clinical visit notes",
        description=(
            "Send a de-identified or synthetic visit note to `/v1/suggest`; check a claim with "
            "`/v1/validate`; store a coder's verdicts with `/v1/feedback`. When `MEDCODE_API_KEYS` is "
            "set every `/v1/` route needs the `X-API-Key` header. Every response carries `X-Request-ID`."
        ),
        lifespan=lifespan,
    )
    app.state.medcode = svc

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, message = readable(list(exc.errors()))
        return JSONResponse({"detail": detail, "message": message}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # undecodable bytes (not UTF-8 JSON): the same 422 as any other malformed JSON
            msg = "body: malformed JSON (not valid UTF-8 JSON text)"
            return JSONResponse({"detail": [{"loc": ["body"], "msg": msg, "type": "json_invalid"}], "message": msg},
                                status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(Overloaded)
    async def _overloaded(request: Request, exc: Overloaded) -> JSONResponse:
        metrics.overload.labels(route_template(request.scope)).inc()
        return JSONResponse({"detail": f"server busy: {exc.reason}; retry later"}, status_code=503,
                            headers={"Retry-After": str(exc.retry_after)})

    for r in (suggest, validate, feedback, codes, examples, system):
        app.include_router(r.router)

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False, response_model=None)
    def index() -> Response:
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse("<!doctype html><title>medcode</title><p>medcode API: see <a href='/docs'>/docs</a>.</p>")

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"], expose_headers=["X-Request-ID"])
    app.add_middleware(RequestContextMiddleware, metrics=metrics, body_limit=settings.body_limit, limiter=limiter,
                       shed_paths=frozenset({"/v1/suggest", "/v1/validate"}))
    return app
