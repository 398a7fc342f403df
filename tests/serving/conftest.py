"""Fixtures for the API tests: apps built with temp databases and a fake suggester."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.deps import get_suggester
from serving.settings import Settings
from serving.testing import KeywordSuggester

NOTE = (
    "ASSESSMENT: Type 2 diabetes with hyperglycemia, A1c 9.1 today. Essential hypertension, stable.\n"
    "PLAN: continue metformin."
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for k in list(os.environ):
        if k.startswith("MEDCODE_"):
            monkeypatch.delenv(k)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**kw: Any) -> Settings:
        base: dict[str, Any] = {
            "model_uri": "none",
            "database_url": f"sqlite:///{tmp_path / 'fb.db'}",
            "model_cache_dir": tmp_path / "model-cache",
            "model_load": "blocking",
        }
        base.update(kw)
        return Settings(**base)

    return make


@pytest.fixture
def fake() -> KeywordSuggester:
    return KeywordSuggester(model_version="fake/7")


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], fake: KeywordSuggester) -> Callable[..., FastAPI]:
    def make(suggester: Any = fake, **kw: Any) -> FastAPI:
        app = create_app(make_settings(**kw))
        if suggester is not None:
            app.dependency_overrides[get_suggester] = lambda: suggester
        return app

    return make


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c
