"""Endpoint behaviour through TestClient with a fake suggester (dependency overrides)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.deps import get_validate_fn
from serving.testing import KeywordSuggester
from validator.schemas import Claim, Finding, ValidationResult

NOTE = (
    "ASSESSMENT: Type 2 diabetes with hyperglycemia, A1c 9.1 today. Essential hypertension, stable.\n"
    "PLAN: continue metformin."
)

FEEDBACK: dict[str, Any] = {
    "request_id": "req-1",
    "model_version": "fake/7",
    "reviewer_id": "coder-9",
    "note_id": "note-1",
    "text": NOTE,
    "patient": {"age": 61, "sex": "F"},
    "date_of_service": "2026-03-02",
    "items": [
        {"system": "icd10cm", "code": "E11.65", "verdict": "accept"},
        {"system": "icd10cm", "code": "e11.9", "verdict": "replace", "replacement": "E11.649"},
        {"system": "icd10cm", "code": "I10", "verdict": "reject", "comment": "not addressed"},
        {"system": "cpt", "code": "83036", "verdict": "accept"},
        {"system": "cpt", "code": "99215", "verdict": "replace", "replacement": "99214"},
    ],
}


# ---- system routes --------------------------------------------------------------------------
def test_health_and_request_id_header(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert len(r.headers["x-request-id"]) == 32
    r = client.get("/health", headers={"X-Request-ID": "trace-abc.1"})
    assert r.headers["x-request-id"] == "trace-abc.1"
    r = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


def test_ready_is_503_with_reason_when_no_model(client: TestClient) -> None:
    r = client.get("/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["ready"] is False and body["source"] == "unavailable"
    assert "MEDCODE_MODEL_URI=none" in body["reason"]


def test_ready_names_version_and_source(make_settings: Callable[..., Any]) -> None:
    from serving.app import create_app

    app = create_app(make_settings(model_uri="default"), loader=lambda uri: KeywordSuggester(model_version="built/1"))
    with TestClient(app) as c:
        body = c.get("/ready").json()
        assert body["ready"] is True
        assert body["model_version"] == "built/1" and body["source"] == "default_build"
        r = c.post("/v1/suggest", json={"text": NOTE})
        assert r.status_code == 200 and r.json()["model_version"] == "built/1"


def test_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/v1/suggest", "/v1/validate", "/v1/feedback", "/v1/codes/{system}/{code}", "/v1/codes/search",
                 "/health", "/ready", "/metrics", "/v1/examples"):
        assert path in spec["paths"], path


def test_index_page_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]


# ---- suggest --------------------------------------------------------------------------------
def test_suggest_returns_suggestion_set_with_header_request_id(client: TestClient, fake: KeywordSuggester) -> None:
    r = client.post("/v1/suggest", json={"text": NOTE, "patient": {"age": 61, "sex": "F"},
                                         "date_of_service": "2026-03-02"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["model_version"] == "fake/7"
    assert [s["code"] for s in body["icd10cm"]] == ["E11.9", "E11.65", "I10"]
    assert body["cpt"][0]["code"] == "83036"
    assert body["validation"]["status"] == "pass"
    assert fake.calls == 1


def test_suggest_413_over_note_limit(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_note_chars=50)) as c:
        r = c.post("/v1/suggest", json={"text": "x" * 51})
        assert r.status_code == 413 and "limit is 50" in r.json()["detail"]
        assert c.post("/v1/suggest", json={"text": "diabetes " * 5}).status_code == 200


def test_body_limit_413_before_parsing(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_body_bytes=1000)) as c:
        r = c.post("/v1/suggest", content=b'{"text": "' + b"a" * 2000 + b'"}',
                   headers={"content-type": "application/json"})
        assert r.status_code == 413


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b'{"text": "abc",', "malformed JSON"),
        (b'{"note": "abc"}', "text: Field required"),
        (b'{"text": 12}', "text:"),
        (b'{"text": "abc", "patient": {"age": -3}}', "patient.age"),
        (b'{"text": "abc", "patient": {"sex": "X"}}', "patient.sex"),
        (b'[1, 2]', "body"),
    ],
)
def test_suggest_422_is_readable(client: TestClient, payload: bytes, where: str) -> None:
    r = client.post("/v1/suggest", content=payload, headers={"content-type": "application/json"})
    assert r.status_code == 422
    body = r.json()
    assert where in body["message"]
    assert all("input" not in d for d in body["detail"])  # the note is never echoed back


def test_suggest_422_bad_date(client: TestClient) -> None:
    r = client.post("/v1/suggest", json={"text": NOTE, "date_of_service": "03/02/2026"})
    assert r.status_code == 422 and "YYYY-MM-DD" in r.json()["detail"]


def test_suggest_empty_text_422(client: TestClient) -> None:
    assert client.post("/v1/suggest", json={"text": "   "}).status_code == 422


def test_suggest_503_without_model(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(suggester=None)) as c:
        r = c.post("/v1/suggest", json={"text": NOTE})
        assert r.status_code == 503 and "no suggestion model" in r.json()["detail"]
        # malformed input is still reported as such
        assert c.post("/v1/suggest", json={}).status_code == 422


def test_suggester_crash_is_500_without_note(make_app: Callable[..., FastAPI]) -> None:
    class Broken:
        model_version = "broken/1"

        def suggest(self, text: str, context: Any = None) -> Any:
            raise RuntimeError(f"cannot parse {text}")

    with TestClient(make_app(suggester=Broken())) as c:
        r = c.post("/v1/suggest", json={"text": NOTE})
        assert r.status_code == 500
        assert "diabetes" not in r.text.lower()


def test_suggester_value_error_from_date_is_422(make_app: Callable[..., FastAPI]) -> None:
    from codesets import DateOfServiceError

    class Picky:
        model_version = "picky/1"

        def suggest(self, text: str, context: Any = None) -> Any:
            raise DateOfServiceError("date of service 2019-01-01 precedes the oldest loaded code set")

    with TestClient(make_app(suggester=Picky())) as c:
        r = c.post("/v1/suggest", json={"text": NOTE, "date_of_service": "2019-01-01"})
        assert r.status_code == 422 and "precedes" in r.json()["detail"]


# ---- validate -------------------------------------------------------------------------------
def test_validate_with_fake_validator(make_app: Callable[..., FastAPI]) -> None:
    seen: list[Claim] = []

    def fake_validate(claim: Claim) -> ValidationResult:
        seen.append(claim)
        return ValidationResult(status="fail", ruleset_version="r/1", cpt_lines=claim.cpt_lines, findings=[
            Finding(rule="invalid_code", severity="error", codes=["X"], message="m", fix="f")])

    app = make_app()
    app.dependency_overrides[get_validate_fn] = lambda: fake_validate
    with TestClient(app) as c:
        r = c.post("/v1/validate", json={"icd10cm": ["E11.65"], "cpt_lines": [{"code": "83036", "dx": [1]}]})
        assert r.status_code == 200
        assert r.json()["status"] == "fail" and r.json()["findings"][0]["rule"] == "invalid_code"
        assert seen[0].cpt_lines[0].code == "83036"
        r = c.post("/v1/validate", json={"cpt_lines": [{"code": "83036", "units": 0}]})
        assert r.status_code == 422 and "units" in r.json()["message"]
        m = c.get("/metrics").text
        assert 'medcode_validations_total{status="fail"} 1.0' in m


def test_validate_claim_error_is_422(make_app: Callable[..., FastAPI]) -> None:
    from validator import ClaimError

    def raising(claim: Claim) -> ValidationResult:
        raise ClaimError("claim has no diagnosis codes")

    app = make_app()
    app.dependency_overrides[get_validate_fn] = lambda: raising
    with TestClient(app) as c:
        r = c.post("/v1/validate", json={})
        assert r.status_code == 422 and r.json()["detail"] == "claim has no diagnosis codes"


def test_validate_real_validator(client: TestClient) -> None:
    r = client.post("/v1/validate", json={"date_of_service": "2026-03-02", "patient": {"age": 60, "sex": "F"},
                                          "icd10cm": ["E11.65"], "cpt_lines": [{"code": "83036", "dx": [1]}]})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["status"] in ("pass", "warn", "fail") and r.json()["ruleset_version"]


# ---- codes ----------------------------------------------------------------------------------
def test_code_lookup(client: TestClient) -> None:
    r = client.get("/v1/codes/icd10cm/E11.65", params={"dos": "2026-03-01"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "valid" and body["billable"] is True and body["code"] == "E11.65"
    assert client.get("/v1/codes/icd10cm/E11").json()["status"] == "header"
    assert client.get("/v1/codes/icd10cm/E11.65", params={"dos": "2031-01-01"}).json()["status"] == "stale_codeset"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/v1/codes/icd10cm/!!", 422),
        ("/v1/codes/icd10cm/E11.65?dos=2026-13-01", 422),
        ("/v1/codes/icd10cm/E11.65?dos=2019-01-01", 422),
        ("/v1/codes/loinc/1234-5", 422),
        ("/v1/codes/cpt/E11.65", 422),
    ],
)
def test_code_lookup_errors(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text


def test_code_search(client: TestClient) -> None:
    r = client.get("/v1/codes/search", params={"q": "type 2 diabetes hyperglycemia", "k": 3})
    assert r.status_code == 200
    hits = r.json()
    assert 1 <= len(hits) <= 3
    assert set(hits[0]) == {"code", "system", "description", "score", "matched"}
    assert any(h["code"] == "E11.65" for h in hits)
    assert client.get("/v1/codes/search", params={"q": "x", "system": "loinc"}).status_code == 422
    assert client.get("/v1/codes/search", params={"q": "x", "k": 0}).status_code == 422
    assert client.get("/v1/codes/search").status_code == 422


def test_examples(client: TestClient) -> None:
    r = client.get("/v1/examples")
    assert r.status_code == 200
    ex = r.json()
    assert 4 <= len(ex) <= 6
    assert len({e["id"] for e in ex}) == len(ex)
    for e in ex:
        assert e["title"] and len(e["text"]) > 200 and e["date_of_service"] and e["setting"]
        assert e["patient"]["sex"] in ("F", "M")


# ---- feedback -------------------------------------------------------------------------------
def test_feedback_stored_and_exported(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/feedback", json=FEEDBACK)
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 5 and len(r.json()["feedback_id"]) == 32
    svc = client.app.state.medcode  # type: ignore[attr-defined]
    rec = svc.store.get(r.json()["feedback_id"])
    assert rec["reviewer_id"] == "coder-9" and rec["patient_age"] == 61
    assert [(i["code"], i["verdict"], i["replacement"]) for i in rec["items"]][:2] == [
        ("E11.65", "accept", None), ("E11.9", "replace", "E11.649")]
    metrics = client.get("/metrics").text
    assert 'medcode_feedback_items_total{system="icd10cm",verdict="accept"} 1.0' in metrics

    import io

    buf = io.StringIO()
    stats = svc.store.export_gold(buf)
    assert stats.written == 1
    line = json.loads(buf.getvalue())
    assert line["id"] == "note-1" and line["text"] == NOTE
    assert line["icd10cm"] == ["E11.65", "E11.649"]
    assert line["cpt"] == ["83036", "99214"]
    assert line["rejected"] == {"icd10cm": ["E11.9", "I10"], "cpt": ["99215"]}
    assert line["patient"] == {"age": 61, "sex": "F"} and line["date_of_service"] == "2026-03-02"


@pytest.mark.parametrize(
    ("item", "msg"),
    [
        ({"system": "icd10cm", "code": "E11.65", "verdict": "replace"}, "needs a replacement"),
        ({"system": "icd10cm", "code": "E11.65", "verdict": "accept", "replacement": "E11.9"}, "cannot carry"),
        ({"system": "icd10cm", "code": "E11.65", "verdict": "replace", "replacement": "Q99.999"}, "not a known"),
        ({"system": "icd10cm", "code": "E11.65", "verdict": "replace", "replacement": "hello"}, "not an ICD-10-CM"),
        ({"system": "cpt", "code": "E11.65", "verdict": "accept"}, "not a CPT or HCPCS"),
        ({"system": "cpt", "code": "00000", "verdict": "accept"}, "not a known"),
        ({"system": "icd10cm", "code": "E11.65", "verdict": "maybe"}, "verdict"),
        ({"system": "loinc", "code": "E11.65", "verdict": "accept"}, "system"),
    ],
)
def test_feedback_422(client: TestClient, item: dict[str, Any], msg: str) -> None:
    r = client.post("/v1/feedback", json={**FEEDBACK, "items": [item]})
    assert r.status_code == 422, r.text
    assert msg in r.json()["message"]
    assert client.app.state.medcode.store.count() == (0, 0)  # type: ignore[attr-defined]


def test_feedback_needs_items_and_ids(client: TestClient) -> None:
    assert client.post("/v1/feedback", json={**FEEDBACK, "items": []}).status_code == 422
    body = {k: v for k, v in FEEDBACK.items() if k != "reviewer_id"}
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 422 and "reviewer_id" in r.json()["message"]


def test_feedback_text_limit_413(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_note_chars=20)) as c:
        assert c.post("/v1/feedback", json=FEEDBACK).status_code == 413


# ---- CORS -----------------------------------------------------------------------------------
def test_cors_off_by_default(client: TestClient) -> None:
    r = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(cors_origins="https://coder.example")) as c:
        r = c.get("/health", headers={"Origin": "https://coder.example"})
        assert r.headers["access-control-allow-origin"] == "https://coder.example"
        r = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


# ---- metrics --------------------------------------------------------------------------------
def test_metrics_per_route_and_model(make_settings: Callable[..., Any]) -> None:
    from serving.app import create_app

    app = create_app(make_settings(model_uri="default"), loader=lambda uri: KeywordSuggester(model_version="m/3"))
    with TestClient(app) as c:
        c.post("/v1/suggest", json={"text": NOTE})
        c.post("/v1/suggest", json={})
        c.get("/v1/codes/icd10cm/E11.65")
        c.get("/nowhere/at/all")
        m = c.get("/metrics").text
    assert 'medcode_http_requests_total{method="POST",route="/v1/suggest",status="200"} 1.0' in m
    assert 'medcode_http_requests_total{method="POST",route="/v1/suggest",status="422"} 1.0' in m
    assert 'route="/v1/codes/{system}/{code}"' in m
    assert 'route="unmatched"' in m and "/nowhere" not in m
    assert 'medcode_http_request_duration_seconds_bucket{le="0.3",method="POST",route="/v1/suggest"}' in m
    assert 'medcode_model_info{source="default_build",uri="default",version="m/3"} 1.0' in m
    assert 'medcode_suggestions_total{system="icd10cm"} 3.0' in m
    assert 'medcode_suggestions_total{system="cpt"} 1.0' in m


def test_two_apps_have_separate_metrics(make_app: Callable[..., FastAPI]) -> None:
    a, b = make_app(), make_app()
    with TestClient(a) as ca, TestClient(b) as cb:
        ca.get("/health")
        ca.get("/health")
        assert 'route="/health",status="200"} 2.0' in ca.get("/metrics").text
        assert 'route="/health",status="200"} 1.0' not in cb.get("/metrics").text


# ---- overload ----------------------------------------------------------------------------------
def test_overload_503_with_retry_after(make_app: Callable[..., FastAPI]) -> None:
    gate = threading.Event()
    slow = KeywordSuggester(model_version="slow/1", gate=gate)
    app = make_app(suggester=slow, max_concurrency=1, max_queue=1, retry_after_s=3)
    results: list[int] = []
    with TestClient(app) as c:
        def call() -> None:
            results.append(c.post("/v1/suggest", json={"text": NOTE}).status_code)

        threads = [threading.Thread(target=call) for _ in range(2)]
        for t in threads:
            t.start()
        svc = app.state.medcode
        for _ in range(200):  # wait until one runs and one waits
            if svc.limiter.admitted == 2:
                break
            threading.Event().wait(0.01)
        assert svc.limiter.admitted == 2
        r = c.post("/v1/suggest", json={"text": NOTE})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "3"
        assert "busy" in r.json()["detail"]
        gate.set()
        for t in threads:
            t.join(10)
        assert results == [200, 200]
        assert 'medcode_overload_rejections_total{route="/v1/suggest"} 1.0' in c.get("/metrics").text


def test_saturated_server_sheds_before_parsing(make_app: Callable[..., FastAPI]) -> None:
    """When every slot and queue place is taken, even a malformed body gets the cheap 503."""
    app = make_app(max_concurrency=1, max_queue=0, retry_after_s=4)
    with TestClient(app) as c:
        lim = app.state.medcode.limiter
        lim.admitted = 1  # as if one call were running
        try:
            r = c.post("/v1/suggest", content=b"{not json", headers={"content-type": "application/json"})
            assert r.status_code == 503 and r.headers["retry-after"] == "4"
            assert r.headers["x-request-id"]
            assert c.post("/v1/validate", json={}).status_code == 503
            assert c.get("/v1/codes/icd10cm/E11.65").status_code == 200  # other routes unaffected
        finally:
            lim.admitted = 0
        assert c.post("/v1/suggest", json={"text": NOTE}).status_code == 200
        m = c.get("/metrics").text
        assert 'medcode_http_requests_total{method="POST",route="/v1/suggest",status="503"} 1.0' in m


def test_chunked_body_over_limit_is_413(make_app: Callable[..., FastAPI]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}'

    with TestClient(make_app(max_body_bytes=2000)) as c:
        r = c.post("/v1/suggest", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and "2000 bytes" in r.json()["detail"]


def test_search_with_only_blank_or_control_characters_is_empty(client):
    for q in ("   ", "\x1c", "\t\n"):
        r = client.get("/v1/codes/search", params={"q": q})
        assert r.status_code == 200 and r.json() == []
