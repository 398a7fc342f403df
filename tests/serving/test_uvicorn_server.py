"""The real server under uvicorn on loopback, called over HTTP."""

from __future__ import annotations

import concurrent.futures as cf
import json
from pathlib import Path

import httpx

from serving.testing import ServerProcess

NOTE = "ASSESSMENT: Type 2 diabetes with hyperglycemia, A1c 9.0. Plan: recheck in 3 months."


def test_real_server_over_http(tmp_path: Path) -> None:
    env = {"MEDCODE_API_KEYS": "k-123", "MEDCODE_MAX_CONCURRENCY": "1", "MEDCODE_MAX_QUEUE": "1",
           "MEDCODE_FAKE_SLEEP_MS": "300", "MEDCODE_RETRY_AFTER_S": "2", "MEDCODE_LOG_LEVEL": "INFO"}
    with ServerProcess(tmp_path, env) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        assert c.get("/health").json() == {"status": "ok"}
        ready = c.get("/ready").json()
        assert ready["ready"] and ready["source"] == "override" and ready["model_version"] == "keyword-fake/1"
        assert c.post("/v1/suggest", json={"text": NOTE}).status_code == 401
        key = {"X-API-Key": "k-123"}
        r = c.post("/v1/suggest", json={"text": NOTE}, headers=key)
        assert r.status_code == 200
        body = r.json()
        assert body["request_id"] == r.headers["x-request-id"]
        assert [s["code"] for s in body["icd10cm"]] == ["E11.9", "E11.65"]
        fb = {"request_id": body["request_id"], "model_version": body["model_version"], "reviewer_id": "c1",
              "text": NOTE, "items": [{"system": "icd10cm", "code": "E11.65", "verdict": "accept"}]}
        r = c.post("/v1/feedback", json=fb, headers=key)
        assert r.status_code == 200 and r.json()["stored"] == 1

        # overload: 1 worker + 1 queue place; the others are refused at once with Retry-After
        def hit(_: int) -> httpx.Response:
            return httpx.post(srv.url + "/v1/suggest", json={"text": NOTE}, headers=key, timeout=30)

        with cf.ThreadPoolExecutor(6) as pool:
            rs = list(pool.map(hit, range(6)))
        codes = sorted(x.status_code for x in rs)
        assert codes.count(200) >= 2 and 503 in codes, codes
        assert all(x.headers.get("retry-after") == "2" for x in rs if x.status_code == 503)
        metrics = c.get("/metrics").text
        assert 'medcode_overload_rejections_total{route="/v1/suggest"}' in metrics
    # structured logs went to the server's stderr, without the note
    log = srv.log_tail(200_000)
    lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    assert any(x.get("route") == "/v1/suggest" and x.get("status") == 200 for x in lines)
    assert "hyperglycemia" not in log and "A1c 9.0" not in log
