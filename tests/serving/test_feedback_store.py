"""Feedback store: versioned schema, WAL mode, export as gold lines, the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from serving.feedback_store import SCHEMA_VERSION, FeedbackStore, SchemaVersionError
from serving.schemas import FeedbackRequest


def req(note_id: str | None, items: list[dict[str, object]], text_: str | None = "note text",
        request_id: str = "r1") -> FeedbackRequest:
    return FeedbackRequest.model_validate({"request_id": request_id, "model_version": "m/1", "reviewer_id": "c1",
                                           "note_id": note_id, "text": text_, "items": items})


def test_schema_versioned_and_wal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    store = FeedbackStore.open(url)
    assert store.version() == SCHEMA_VERSION
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    store.close()
    again = FeedbackStore.open(url)  # idempotent re-open
    assert again.migrate() == SCHEMA_VERSION
    again.close()


def test_old_schema_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    store = FeedbackStore.open(f"sqlite:///{db}")
    store.close()
    con = sqlite3.connect(db)
    con.execute("DROP INDEX ix_feedback_request_id")
    con.execute("UPDATE medcode_schema_version SET version = 1")
    con.commit()
    con.close()
    store = FeedbackStore.open(f"sqlite:///{db}")
    assert store.version() == SCHEMA_VERSION
    with store.engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
    assert "ix_feedback_request_id" in names


def test_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    FeedbackStore.open(f"sqlite:///{db}").close()
    con = sqlite3.connect(db)
    con.execute("UPDATE medcode_schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        FeedbackStore.open(f"sqlite:///{db}")


def test_export_latest_review_wins_and_skips_textless(tmp_path: Path) -> None:
    store = FeedbackStore.open(f"sqlite:///{tmp_path / 'fb.db'}")
    store.add(req("n1", [{"system": "icd10cm", "code": "E11.65", "verdict": "reject"}]))
    store.add(req("n1", [{"system": "icd10cm", "code": "E11.65", "verdict": "accept"},
                         {"system": "cpt", "code": "J1100", "verdict": "accept"}]))
    store.add(req(None, [{"system": "icd10cm", "code": "I10", "verdict": "accept"}], request_id="r9"))
    store.add(req("n3", [{"system": "icd10cm", "code": "I10", "verdict": "accept"}], text_=None))
    import io

    buf = io.StringIO()
    stats = store.export_gold(buf)
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert stats.written == 2 and stats.skipped_without_text == 1 and stats.superseded == 1
    by_id = {ln["id"]: ln for ln in lines}
    assert by_id["n1"]["icd10cm"] == ["E11.65"] and by_id["n1"]["cpt"] == ["J1100"]
    assert by_id["n1"]["rejected"] == {"icd10cm": [], "cpt": []}
    assert by_id["r9"]["icd10cm"] == ["I10"]  # no note id: keyed by the request id
    assert "patient" not in by_id["r9"]


def test_cli_export(tmp_path: Path) -> None:
    from serving.cli import build_app

    db = tmp_path / "fb.db"
    store = FeedbackStore.open(f"sqlite:///{db}")
    store.add(req("n1", [{"system": "icd10cm", "code": "E11.9", "verdict": "replace", "replacement": "E11.65"}]))
    store.close()
    out = tmp_path / "out" / "gold.jsonl"
    runner = CliRunner()
    res = runner.invoke(build_app(), ["feedback", "export", "--out", str(out), "--database-url", f"sqlite:///{db}"])
    assert res.exit_code == 0, res.output
    line = json.loads(out.read_text())
    assert line["icd10cm"] == ["E11.65"] and line["rejected"]["icd10cm"] == ["E11.9"]
    res = runner.invoke(build_app(), ["feedback", "export", "--out", str(out),
                                      "--database-url", f"sqlite:///{tmp_path / 'missing.db'}"])
    assert res.exit_code != 0 and "no feedback database" in res.output


def test_other_sqlalchemy_url_works() -> None:
    store = FeedbackStore.open("sqlite://")  # in-memory: any SQLAlchemy URL, not just a file
    fid, n = store.add(req("n1", [{"system": "icd10cm", "code": "I10", "verdict": "accept"}]))
    assert n == 1 and store.get(fid) is not None and store.count() == (1, 1)


def test_group_commit_concurrent_writers(tmp_path: Path) -> None:
    import concurrent.futures as cf

    from serving.feedback_store import GroupCommitter

    store = FeedbackStore.open(f"sqlite:///{tmp_path / 'fb.db'}")
    sizes: list[int] = []
    writer = GroupCommitter(store, on_batch=sizes.append)
    reqs = [req(f"n{i}", [{"system": "icd10cm", "code": "I10", "verdict": "accept"}], request_id=f"r{i}")
            for i in range(120)]
    with cf.ThreadPoolExecutor(24) as pool:
        results = list(pool.map(writer.submit, reqs))
    writer.close()
    assert len({fid for fid, _ in results}) == 120
    assert store.feedback_ids() == {fid for fid, _ in results}
    assert sum(sizes) == 120 and writer.batches == len(sizes)
    got = store.get(results[7][0])
    assert got is not None and got["request_id"] == "r7"
