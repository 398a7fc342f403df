"""Structured JSON logs carry request id, route, status and latency, and never note text."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.logs import configure_logging
from serving.testing import KeywordSuggester

NOTE = (
    "HPI: Mr Quokkaberry reports xylophonic wheezing after gardening near the zanzibar ferns.\n"
    "ASSESSMENT: Type 2 diabetes with hyperglycemia; essential hypertension.\n"
    "PLAN: marzipan-free diet, recheck A1c in twelve weeks."
)
DISTINCTIVE = ["Quokkaberry", "xylophonic", "zanzibar", "marzipan", "hyperglycemia", "twelve weeks", "gardening"]


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    configure_logging("DEBUG", json_lines=True)
    yield
    for h in list(root.handlers):
        if h.get_name() == "medcode-json":
            root.removeHandler(h)
    root.setLevel(level)


class SloppySuggester(KeywordSuggester):
    """Logs the note every way a careless developer might."""

    def suggest(self, text: str, context: Any = None) -> Any:
        log = logging.getLogger("medcode.sloppy")
        log.info("got note %s", text)
        log.warning(f"first line: {text.splitlines()[0]}")
        log.info("context", extra={"text": text, "note": text})
        try:
            raise ValueError(f"could not parse: {text}")
        except ValueError:
            log.exception("parse problem")
        return super().suggest(text, context)


class CrashingSuggester(KeywordSuggester):
    def suggest(self, text: str, context: Any = None) -> Any:
        raise RuntimeError(f"model crashed on: {text.splitlines()[1]}")


def _assert_no_note(out: str) -> None:
    low = out.lower()
    for word in DISTINCTIVE:
        assert word.lower() not in low, f"note fragment {word!r} leaked into logs"


@pytest.mark.parametrize("suggester_cls", [KeywordSuggester, SloppySuggester, CrashingSuggester])
def test_no_note_text_in_logs(json_logs: None, make_app: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture,
                              capfd: pytest.CaptureFixture[str], suggester_cls: type[KeywordSuggester]) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_app(suggester=suggester_cls(model_version="log/1"))
    with TestClient(app) as c:
        r = c.post("/v1/suggest", json={"text": NOTE, "patient": {"age": 50, "sex": "M"}})
        c.post("/v1/suggest", json={"text": NOTE, "patient": {"age": -1}})  # 422 path
        c.post("/v1/feedback", json={"request_id": "x", "model_version": "log/1", "reviewer_id": "c", "text": NOTE,
                                     "items": [{"system": "icd10cm", "code": "E11.65", "verdict": "accept"}]})
    assert r.status_code == (500 if suggester_cls is CrashingSuggester else 200)
    out, err = capfd.readouterr()
    captured = caplog.text + "\n".join(str(rec.__dict__) for rec in caplog.records) + out + err
    assert "request" in err  # the capture did see our logs
    _assert_no_note(captured)
    # the detector itself works: an unguarded log line would be caught
    with pytest.raises(AssertionError):
        _assert_no_note(f"oops {NOTE}")


def test_access_log_is_json_with_request_fields(json_logs: None, make_app: Callable[..., FastAPI],
                                                capfd: pytest.CaptureFixture[str]) -> None:
    with TestClient(make_app()) as c:
        r = c.post("/v1/suggest", json={"text": NOTE}, headers={"X-Request-ID": "rid-42"})
    _, err = capfd.readouterr()
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    access = [x for x in lines if x["logger"] == "medcode.access" and x.get("route") == "/v1/suggest"]
    assert access, err
    a = access[-1]
    assert a["request_id"] == "rid-42" == r.headers["x-request-id"]
    assert a["status"] == 200 and a["method"] == "POST" and a["latency_ms"] >= 0
    suggested = [x for x in lines if x["message"] == "suggested"]
    assert suggested and suggested[-1]["note_chars"] == len(NOTE) and suggested[-1]["request_id"] == "rid-42"
