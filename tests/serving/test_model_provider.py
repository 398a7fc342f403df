"""The model-loading fallback chain: registry -> last good local copy -> default build -> unavailable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.model import ModelProvider
from serving.settings import Settings
from serving.testing import KeywordSuggester

REGISTRY = "models:/medcode-suggester@champion"


class SavingSuggester(KeywordSuggester):
    """A fake that can be saved to and loaded from a folder, like the real Suggester."""

    def save(self, path: str) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "config.json").write_text(json.dumps({"model_version": self.model_version}))


class FakeLoader:
    def __init__(self, registry_ok: bool = True, default_ok: bool = True) -> None:
        self.registry_ok = registry_ok
        self.default_ok = default_ok
        self.calls: list[str | None] = []

    def __call__(self, uri: str | None) -> KeywordSuggester:
        self.calls.append(uri)
        if uri is None:
            if not self.default_ok:
                raise RuntimeError("no training data")
            return SavingSuggester(model_version="default/0")
        if uri.startswith("models:/"):
            if not self.registry_ok:
                raise ConnectionError("registry unreachable: connection refused")
            return SavingSuggester(model_version="medcode-suggester/4")
        cfg = Path(uri) / "config.json"
        if not cfg.is_file():
            raise FileNotFoundError(f"no Suggester artifact at {uri}")
        return SavingSuggester(model_version=json.loads(cfg.read_text())["model_version"])


def test_registry_loads_and_saves_last_good_copy(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    s = make_settings(model_uri=REGISTRY)
    state = ModelProvider(s, loader=FakeLoader()).load()
    assert state.source == "registry" and state.version == "medcode-suggester/4" and state.reason is None
    assert (tmp_path / "model-cache" / "model" / "config.json").is_file()
    meta = json.loads((tmp_path / "model-cache" / "medcode-cache.json").read_text())
    assert meta["uri"] == REGISTRY and meta["model_version"] == "medcode-suggester/4"


def test_registry_down_uses_local_copy(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(model_uri=REGISTRY)
    ModelProvider(s, loader=FakeLoader()).load()  # earlier good start saved a copy
    loader = FakeLoader(registry_ok=False)
    state = ModelProvider(s, loader=loader).load()
    assert state.source == "local_cache" and state.version == "medcode-suggester/4"
    assert "registry unavailable" in (state.reason or "") and "connection refused" in (state.reason or "")
    assert None not in loader.calls  # no default build needed


def test_registry_down_no_cache_builds_default(make_settings: Callable[..., Settings]) -> None:
    state = ModelProvider(make_settings(model_uri=REGISTRY), loader=FakeLoader(registry_ok=False)).load()
    assert state.source == "default_build" and state.version == "default/0"
    assert "cache" in (state.reason or "")


def test_nothing_works_is_unavailable_not_error(make_settings: Callable[..., Settings]) -> None:
    loader = FakeLoader(registry_ok=False, default_ok=False)
    app = create_app(make_settings(model_uri=REGISTRY), loader=loader)
    with TestClient(app) as c:
        r = c.get("/ready")
        assert r.status_code == 503
        assert r.json()["source"] == "unavailable" and "no training data" in r.json()["reason"]
        r = c.post("/v1/suggest", json={"text": "type 2 diabetes"})
        assert r.status_code == 503 and "unavailable" in r.json()["detail"]
        assert c.get("/health").status_code == 200


def test_no_fallback_to_default_when_disabled(make_settings: Callable[..., Settings]) -> None:
    loader = FakeLoader(registry_ok=False)
    state = ModelProvider(make_settings(model_uri=REGISTRY, fallback_to_default=False), loader=loader).load()
    assert state.source == "unavailable" and None not in loader.calls


def test_ready_reports_local_cache_over_http(make_settings: Callable[..., Settings]) -> None:
    s = make_settings(model_uri=REGISTRY)
    ModelProvider(s, loader=FakeLoader()).load()
    with TestClient(create_app(s, loader=FakeLoader(registry_ok=False))) as c:
        body = c.get("/ready").json()
        assert body["ready"] and body["source"] == "local_cache" and body["model_version"] == "medcode-suggester/4"
        assert c.post("/v1/suggest", json={"text": "type 2 diabetes"}).json()["model_version"] == "medcode-suggester/4"


def test_local_directory_uri(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    d = tmp_path / "art"
    SavingSuggester(model_version="local/2").save(str(d))
    state = ModelProvider(make_settings(model_uri=str(d)), loader=FakeLoader()).load()
    assert state.source == "local_path" and state.version == "local/2"


def test_background_load_reports_loading_then_ready(make_settings: Callable[..., Settings]) -> None:
    import threading

    gate = threading.Event()

    def slow_loader(uri: str | None) -> KeywordSuggester:
        gate.wait(10)
        return KeywordSuggester(model_version="slow/1")

    app = create_app(make_settings(model_uri="default", model_load="background"), loader=slow_loader)
    with TestClient(app) as c:
        r = c.get("/ready")
        assert r.status_code == 503 and r.json()["source"] == "loading" and "retry-after" in r.headers
        assert c.post("/v1/suggest", json={"text": "x"}).status_code == 503
        gate.set()
        app.state.medcode.provider.wait(10)
        assert c.get("/ready").json()["source"] == "default_build"


def test_suggester_factory_override(make_settings: Callable[..., Settings]) -> None:
    state = ModelProvider(make_settings(suggester_factory="serving.testing:make_keyword_suggester")).load()
    assert state.source == "override" and state.version == "keyword-fake/1"
    bad = ModelProvider(make_settings(suggester_factory="nope.module:make")).load()
    assert bad.source == "unavailable" and "factory" in (bad.reason or "")


@pytest.mark.slow
def test_real_registry_empty_falls_back(make_settings: Callable[..., Settings], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty MLflow registry (no model, no alias) must not raise: the default build is used."""
    pytest.importorskip("mlflow")
    import mlflow.tracking._model_registry.utils as reg_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils

    # the provider points MLflow at the configured store (process-global): restore it afterwards
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(tracking_utils, "_tracking_uri", tracking_utils._tracking_uri)
    monkeypatch.setattr(reg_utils, "_registry_uri", reg_utils._registry_uri)
    calls: list[Any] = []

    def default_only(uri: str | None) -> KeywordSuggester:
        calls.append(uri)
        if uri is None:
            return KeywordSuggester(model_version="default/0")
        from serving.model import default_loader

        return default_loader(uri)

    s = make_settings(model_uri=REGISTRY, mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    state = ModelProvider(s, loader=default_only).load()
    assert state.source == "default_build", state
    assert calls[0] == REGISTRY and calls[-1] is None


def test_settings_not_read_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import serving.app

    monkeypatch.setenv("MEDCODE_MAX_QUEUE", "not-a-number")
    importlib.reload(serving.app)  # importing never builds Settings
    with pytest.raises(ValueError):
        serving.app.create_app()


def test_registry_retried_in_background_after_fallback(make_settings: Callable[..., Settings]) -> None:
    import time

    loader = FakeLoader(registry_ok=False)
    provider = ModelProvider(make_settings(model_uri=REGISTRY, registry_retry_s=0.05), loader=loader)
    try:
        assert provider.load().source == "default_build"
        loader.registry_ok = True  # the registry comes back
        deadline = time.monotonic() + 5
        while provider.state.source != "registry" and time.monotonic() < deadline:
            time.sleep(0.02)
        state = provider.state
        assert state.source == "registry" and state.version == "medcode-suggester/4"
        assert "replaced the default_build model default/0" in (state.reason or "")
        assert provider.cache_path() is not None  # the registry model is now the last good copy
    finally:
        provider.stop()
