"""The per-app service container and the typed FastAPI dependencies built on it.

Tests replace any of these with ``app.dependency_overrides[get_suggester] = lambda: fake``.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from codesets import CodeSets, load_codesets
from serving.concurrency import WorkLimiter
from serving.feedback_store import FeedbackStore, GroupCommitter
from serving.metrics import Metrics
from serving.model import ModelProvider, Suggester
from serving.settings import Settings
from validator.schemas import Claim, ValidationResult

API_KEY_HEADER = "X-API-Key"


@dataclass
class Service:
    """Everything one app instance owns (no module-level state, so apps can coexist)."""

    settings: Settings
    metrics: Metrics
    provider: ModelProvider
    limiter: WorkLimiter
    _store: FeedbackStore | None = None
    _writer: GroupCommitter | None = None
    _store_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> FeedbackStore:
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = FeedbackStore.open(self.settings.database_url, self.settings.sqlite_synchronous)
        return self._store

    @property
    def writer(self) -> GroupCommitter:
        store = self.store
        if self._writer is None:
            with self._store_lock:
                if self._writer is None:
                    self._writer = GroupCommitter(store, on_batch=self.metrics.feedback_batch.observe)
        return self._writer

    def warm_codesets(self) -> None:
        """Load the code sets and the search index now (background thread at start-up)."""
        try:
            cs = load_codesets()
            cs.search("warm up", k=1)
        except Exception:
            pass

    def codeset_version(self) -> str | None:
        try:
            return load_codesets().version
        except Exception:
            return None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._store is not None:
            self._store.close()
            self._store = None


def get_service(request: Request) -> Service:
    return request.app.state.medcode  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(get_service)]


def get_settings(svc: ServiceDep) -> Settings:
    return svc.settings


def get_metrics(svc: ServiceDep) -> Metrics:
    return svc.metrics


def get_limiter(svc: ServiceDep) -> WorkLimiter:
    return svc.limiter


def get_suggester(svc: ServiceDep) -> Suggester | None:
    """The loaded suggester, or None while none is available (the route answers 503).

    Not raising here lets a malformed body be reported as 422 before the model state is.
    """
    return svc.provider.state.suggester


def model_unavailable(svc: Service) -> HTTPException:
    """503 (never 500) saying why no model is loaded."""
    state = svc.provider.state
    headers = {"Retry-After": str(max(1, svc.settings.retry_after_s * 5))} if state.source == "loading" else None
    return HTTPException(503, f"no suggestion model is loaded ({state.source}): {state.reason}", headers=headers)


def get_feedback_store(svc: ServiceDep) -> FeedbackStore:
    try:
        return svc.store
    except Exception as exc:
        raise HTTPException(503, f"feedback store unavailable: {type(exc).__name__}") from None


def get_feedback_writer(svc: ServiceDep) -> GroupCommitter:
    try:
        return svc.writer
    except Exception as exc:
        raise HTTPException(503, f"feedback store unavailable: {type(exc).__name__}") from None


def get_codesets() -> CodeSets:
    return load_codesets()


ValidateFn = Callable[[Claim], ValidationResult]


def get_validate_fn() -> ValidateFn:
    try:
        from validator import validate
    except ImportError:
        raise HTTPException(503, "the claim validator is not installed in this build") from None
    return validate


_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                               description="required on /v1/ routes when MEDCODE_API_KEYS is set")


def require_api_key(svc: ServiceDep, key: Annotated[str | None, Security(_api_key_header)] = None) -> None:
    """401 without a key, 403 with a wrong one; keys compared in constant time."""
    keys = svc.settings.api_keys
    if not keys:
        return
    if not key:
        raise HTTPException(401, f"missing {API_KEY_HEADER} header", headers={"WWW-Authenticate": "ApiKey"})
    given = key.encode("utf-8", "surrogatepass")
    ok = False
    for k in keys:  # every key is compared, so timing does not say which one nearly matched
        ok |= hmac.compare_digest(given, k.get_secret_value().encode("utf-8"))
    if not ok:
        raise HTTPException(403, "invalid API key")


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
LimiterDep = Annotated[WorkLimiter, Depends(get_limiter)]
SuggesterDep = Annotated[Suggester | None, Depends(get_suggester)]
StoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
WriterDep = Annotated[GroupCommitter, Depends(get_feedback_writer)]
CodeSetsDep = Annotated[CodeSets, Depends(get_codesets)]
ValidateDep = Annotated[ValidateFn, Depends(get_validate_fn)]
