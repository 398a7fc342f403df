"""API keys: every /v1/ route needs X-API-Key when MEDCODE_API_KEYS is set."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

V1 = [
    ("post", "/v1/suggest", {"text": "type 2 diabetes"}),
    ("post", "/v1/validate", {"icd10cm": ["E11.65"]}),
    ("post", "/v1/feedback", {"request_id": "r", "model_version": "m", "reviewer_id": "c",
                              "items": [{"system": "icd10cm", "code": "E11.65", "verdict": "accept"}]}),
    ("get", "/v1/codes/icd10cm/E11.65", None),
    ("get", "/v1/codes/search?q=diabetes", None),
    ("get", "/v1/examples", None),
]


@pytest.fixture
def secured(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app(api_keys="alpha-key-1, beta-key-2")) as c:
        yield c


@pytest.mark.parametrize(("method", "url", "body"), V1)
def test_missing_key_401(secured: TestClient, method: str, url: str, body: object) -> None:
    r = secured.request(method, url, json=body)
    assert r.status_code == 401
    assert "X-API-Key" in r.json()["detail"]


@pytest.mark.parametrize(("method", "url", "body"), V1)
def test_wrong_key_403(secured: TestClient, method: str, url: str, body: object) -> None:
    r = secured.request(method, url, json=body, headers={"X-API-Key": "alpha-key-2"})
    assert r.status_code == 403


@pytest.mark.parametrize(("method", "url", "body"), V1)
def test_right_key_passes(secured: TestClient, method: str, url: str, body: object) -> None:
    for key in ("alpha-key-1", "beta-key-2"):
        r = secured.request(method, url, json=body, headers={"X-API-Key": key})
        assert r.status_code not in (401, 403), (url, r.status_code, r.text)


@pytest.mark.parametrize("url", ["/health", "/ready", "/metrics", "/docs", "/openapi.json", "/"])
def test_open_routes(secured: TestClient, url: str) -> None:
    assert secured.get(url).status_code in (200, 503)


def test_no_keys_no_auth(client: TestClient) -> None:
    assert client.get("/v1/codes/icd10cm/E11.65").status_code == 200


def test_key_not_logged_or_in_settings_dump(make_settings: Callable[..., object]) -> None:
    s = make_settings(api_keys="super-secret-key")
    assert "super-secret-key" not in repr(s)
    assert "super-secret-key" not in str(s.public())  # type: ignore[attr-defined]


def test_openapi_declares_api_key_scheme(secured: TestClient) -> None:
    spec = secured.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" and s.get("in") == "header" for s in schemes.values())
