"""HTML report: self-contained, escapes note snippets, redacts them on request, renders in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaluation.evaluate import evaluate
from evaluation.gold import GoldNote
from evaluation.predictions import parse_prediction
from evaluation.report import render_report, write_report


def _evaluation() -> tuple[dict, dict, dict]:
    gold = [
        GoldNote(
            id="a",
            text="Patient has <b>hypertension</b> and diabetes.",
            icd10cm=["I10", "E11.65"],
            cpt=["99213"],
            systems={"icd10cm", "cpt"},
            evidence={"E11.65": [{"start": 33, "end": 41}]},
            specialty="cardiology",
        ),
        GoldNote(id="b", text="Cough.", icd10cm=["R05.9"], cpt=["99214"], systems={"icd10cm", "cpt"}),
    ]
    preds = {
        "a": parse_prediction(
            {
                "id": "a",
                "model_version": "m-1",
                "icd10cm": [
                    {"code": "I10", "confidence": 0.9, "rank": 1, "evidence": [{"text": "<b>hypertension</b>"}]},
                    {"code": "E11.9", "confidence": 0.6, "rank": 2, "evidence": [{"text": "<script>alert(1)</script>"}]},
                ],
                "cpt": [{"code": "99213", "confidence": 0.7, "dx": ["I10"]}],
                "ranked": {"icd10cm": [{"code": "I10", "score": 0.9}, {"code": "E11.9", "score": 0.6}]},
                "validation": {"status": "pass", "findings": []},
            },
            "t",
        ),
        "b": parse_prediction({"id": "b", "icd10cm": [{"code": "R05.9", "confidence": 0.8}], "cpt": ["99213"]}, "t"),
    }
    ev = evaluate(gold, preds, n_boot=50)
    meta = {
        "source": "test",
        "model_version": "m-1",
        "codeset_version": "cs-1",
        "ruleset_version": "rs-1",
        "gold_name": "gold.jsonl",
        "gold_format": "jsonl",
        "data_hash": "ab" * 32,
        "n_predictions": 2,
        "n_missing_predictions": 0,
        "n_extra_predictions": 0,
        "match": "strict",
        "bootstrap": {"n": 50, "seed": 0},
        "created_at": "2026-01-01T00:00:00Z",
    }
    return ev.metrics, ev.errors, meta


def test_report_is_self_contained_and_complete() -> None:
    metrics, errors, meta = _evaluation()
    html = render_report(metrics, errors, meta)
    assert html.startswith("<!DOCTYPE html>") and 'id="headline"' in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) >= 3
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from outside
    for needle in ("m-1", "cs-1", "rs-1", "ab" * 32, "E11.65", "E11.9", "E/M level confusion"):
        assert needle in html, needle
    assert "&lt;script&gt;" in html and "<script>alert" not in html  # snippets escaped
    assert "diabetes" in html  # false-negative evidence from the gold offsets
    assert "E11.65</code>" in html and "suggested instead" in html  # E11.65 -> E11.9 confusion


def test_report_without_snippets() -> None:
    metrics, errors, meta = _evaluation()
    html = render_report(metrics, errors, meta, show_snippets=False)
    assert "alert(1)" not in html and "diabetes." not in html and "“" not in html


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    metrics, errors, meta = _evaluation()
    path = write_report(tmp_path / "report.html", metrics, errors, meta)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            errors_seen: list[str] = []
            page.on("pageerror", lambda e: errors_seen.append(str(e)))
            page.goto(path.as_uri())
            table = page.locator("table#headline")
            assert table.is_visible()
            assert table.locator("tbody tr").count() >= 7
            assert "f1_micro" in table.inner_text()
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            assert widths and all(w > 0 for w in widths)
            assert errors_seen == []
        finally:
            browser.close()
