"""Loading the suggestion model, with fallbacks, and saying where it came from.

Order tried by `ModelProvider.load()`:

1. ``registry``      - `settings.model_uri` (``models:/medcode-suggester@champion`` by default;
                       ``local_path`` when it names a local directory). A registry model that
                       loads is copied to the local cache.
2. ``local_cache``   - the last good copy in `settings.model_cache_dir` (registry URIs only).
3. ``default_build`` - the default model, built or loaded in-process (`load_suggester(None)`).
4. ``unavailable``   - nothing worked: /ready answers 503 with the reason, /v1/suggest 503.

The registry being unreachable or empty is never an error to the caller: the state records
why the next source was used. The seam to the pipeline is `pipelines.suggest.load_suggester`;
`settings.suggester_factory` (``module:callable``) replaces the whole chain (tests, benchmarks).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pipelines.schemas import SuggestionSet, SuggestRequest
from serving.settings import Settings

log = logging.getLogger("medcode.model")

Source = Literal["registry", "local_path", "local_cache", "default_build", "override", "unavailable", "loading"]
CACHE_META = "medcode-cache.json"


@runtime_checkable
class Suggester(Protocol):
    model_version: str

    def suggest(self, text: str, context: dict[str, Any] | SuggestRequest | None = None) -> SuggestionSet: ...


Loader = Callable[[str | None], Suggester]


@dataclass(frozen=True)
class ModelState:
    source: Source
    suggester: Suggester | None = None
    uri: str | None = None
    version: str | None = None
    reason: str | None = None
    loaded_at: str | None = None
    attempts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        return self.suggester is not None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _describe(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {msg[:300]}" if msg else type(exc).__name__


def default_loader(uri: str | None) -> Suggester:
    """`pipelines.suggest.load_suggester` (imported late: it pulls in the NLP stack)."""
    from pipelines.suggest import load_suggester

    return load_suggester(uri)


def import_factory(spec: str) -> Callable[[], Suggester]:
    mod, _, attr = spec.partition(":")
    if not mod or not attr:
        raise ValueError(f"suggester factory {spec!r} must look like 'package.module:callable'")
    fn = getattr(importlib.import_module(mod), attr)
    if not callable(fn):
        raise TypeError(f"{spec!r} is not callable")
    return fn  # type: ignore[no-any-return]


class ModelProvider:
    """Holds the current ModelState; thread-safe swaps; loads with fallbacks."""

    def __init__(self, settings: Settings, loader: Loader | None = None,
                 on_change: Callable[[ModelState], None] | None = None) -> None:
        self.settings = settings
        self.loader: Loader = loader or default_loader
        self.on_change = on_change
        self._lock = threading.Lock()
        self._state = ModelState(source="loading", reason="model loading has not finished")
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._retry_thread: threading.Thread | None = None

    @property
    def state(self) -> ModelState:
        return self._state

    def set_state(self, state: ModelState) -> None:
        with self._lock:
            self._state = state
        if self.on_change is not None:
            self.on_change(state)

    # -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Load according to settings.model_load (in a background thread, or now)."""
        if self.settings.model_load == "blocking":
            self.load()
            return
        self._thread = threading.Thread(target=self._load_quietly, name="medcode-model-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the registry retry loop (app shutdown)."""
        self._stop.set()

    def _maybe_retry_registry(self, state: ModelState) -> None:
        """Serving a fallback for a registry URI: keep trying the registry in the background."""
        uri = self.settings.model_uri
        if (state.source not in ("local_cache", "default_build") or not uri.startswith("models:/")
                or self.settings.registry_retry_s <= 0 or self._retry_thread is not None):
            return
        self._retry_thread = threading.Thread(target=self._retry_loop, args=(uri,), name="medcode-registry-retry",
                                              daemon=True)
        self._retry_thread.start()

    def _retry_loop(self, uri: str) -> None:
        while not self._stop.wait(self.settings.registry_retry_s):
            try:
                sugg = self.loader(uri)
            except Exception as exc:
                log.info("registry still unavailable", extra={"uri": uri, "error": _describe(exc)})
                continue
            previous = self.state
            self.set_state(ModelState("registry", sugg, uri, str(sugg.model_version),
                                      f"registry back; replaced the {previous.source} model {previous.version}", _now()))
            self._save_cache(uri, sugg)
            log.info("model state", extra={"source": "registry", "model_version": str(sugg.model_version),
                                           "uri": uri, "reason": "registry back"})
            return

    def wait(self, timeout: float | None = None) -> ModelState:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state

    def _load_quietly(self) -> None:
        try:
            self.load()
        except BaseException as exc:  # never let a loader bug kill the process silently
            log.exception("model loading crashed")
            self.set_state(ModelState(source="unavailable", reason=_describe(exc)))

    def load(self) -> ModelState:
        s = self.settings
        t0 = time.perf_counter()
        if s.suggester_factory:
            try:
                sugg = import_factory(s.suggester_factory)()
                state = ModelState("override", sugg, s.suggester_factory, str(sugg.model_version), None, _now())
            except Exception as exc:
                state = ModelState("unavailable", reason=f"suggester factory failed: {_describe(exc)}")
            self._finish(state, t0)
            return state

        uri = (s.model_uri or "").strip()
        if uri.lower() in ("", "none", "off"):
            state = ModelState("unavailable", reason="model loading is disabled (MEDCODE_MODEL_URI=none)")
            self._finish(state, t0)
            return state
        attempts: list[str] = []
        if uri.lower() != "default":
            self._configure_mlflow()
            try:
                sugg = self.loader(uri)
                src: Source = "registry" if ":/" in uri else "local_path"
                state = ModelState(src, sugg, uri, str(sugg.model_version), None, _now())
                self._save_cache(uri, sugg)
                self._finish(state, t0)
                return state
            except Exception as exc:
                attempts.append(f"{uri}: {_describe(exc)}")
                log.warning("model source failed", extra={"source": "registry", "uri": uri, "error": _describe(exc)})
            cached = self.cache_path()
            if cached is not None:
                try:
                    sugg = self.loader(str(cached))
                    meta = self._cache_meta()
                    version = str(sugg.model_version or meta.get("model_version", ""))
                    state = ModelState(
                        "local_cache", sugg, str(cached), version,
                        f"registry unavailable ({attempts[-1]}); using the last good copy saved "
                        f"{meta.get('saved_at', '?')} from {meta.get('uri', '?')}",
                        _now(), tuple(attempts),
                    )
                    self._finish(state, t0)
                    return state
                except Exception as exc:
                    attempts.append(f"{cached}: {_describe(exc)}")
                    log.warning("model source failed", extra={"source": "local_cache", "error": _describe(exc)})
            else:
                attempts.append(f"local cache {s.model_cache_dir}: empty")
            if not s.fallback_to_default:
                state = ModelState("unavailable", reason="; ".join(attempts), attempts=tuple(attempts))
                self._finish(state, t0)
                return state
        try:
            sugg = self.loader(None)
            reason = f"registry and cache unavailable ({'; '.join(attempts)}); built the default model" if attempts else None
            state = ModelState("default_build", sugg, "default", str(sugg.model_version), reason, _now(), tuple(attempts))
        except Exception as exc:
            attempts.append(f"default model: {_describe(exc)}")
            state = ModelState("unavailable", reason="; ".join(attempts), attempts=tuple(attempts))
        self._finish(state, t0)
        return state

    def _finish(self, state: ModelState, t0: float) -> None:
        self.set_state(state)
        self._maybe_retry_registry(state)
        log.info("model state", extra={"source": state.source, "model_version": state.version, "uri": state.uri,
                                       "reason": state.reason, "seconds": round(time.perf_counter() - t0, 3)})

    # ---- registry and cache -------------------------------------------------------------------
    def _configure_mlflow(self) -> None:
        """Point MLflow at the configured store; keep a remote registry from retrying for minutes."""
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(self.settings.registry_timeout_s)))
        if not self.settings.model_uri.startswith("models:/"):
            return
        try:
            import mlflow

            mlflow.set_tracking_uri(self.settings.tracking_uri)
            mlflow.set_registry_uri(self.settings.tracking_uri)
        except Exception as exc:  # mlflow missing or broken: the loader will fail and we fall back
            log.warning("mlflow configuration failed", extra={"error": _describe(exc)})

    def cache_path(self) -> Path | None:
        p = Path(self.settings.model_cache_dir) / "model"
        return p if p.is_dir() and any(p.iterdir()) else None

    def _cache_meta(self) -> dict[str, Any]:
        try:
            return dict(json.loads((Path(self.settings.model_cache_dir) / CACHE_META).read_text()))
        except (OSError, ValueError):
            return {}

    def _save_cache(self, uri: str, sugg: Suggester) -> None:
        """Keep a local copy of a registry model so a later start survives a registry outage."""
        if not uri.startswith("models:/"):
            return
        root = Path(self.settings.model_cache_dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=root))
            try:
                save = getattr(sugg, "save", None)
                if callable(save):
                    save(str(tmp / "model"))
                else:
                    import mlflow.artifacts

                    mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp / "model"))
                final = root / "model"
                old = root / ".previous"
                shutil.rmtree(old, ignore_errors=True)
                if final.exists():
                    final.rename(old)
                (tmp / "model").rename(final)
                shutil.rmtree(old, ignore_errors=True)
                meta = {"uri": uri, "model_version": str(sugg.model_version), "saved_at": _now()}
                (root / CACHE_META).write_text(json.dumps(meta, indent=2))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except Exception as exc:
            log.warning("could not save the local model copy", extra={"error": _describe(exc)})
