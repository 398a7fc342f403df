"""Reviewer feedback storage (SQLAlchemy Core) and its export as gold lines (DESIGN.md 4.1).

SQLite in WAL mode by default (``synchronous=FULL``: a write is on disk before the API
acknowledges it); any SQLAlchemy URL works (`MEDCODE_DATABASE_URL`). The schema is versioned
with an explicit table, ``medcode_schema_version``: `FeedbackStore.open()` applies the
migrations the database lacks, in order, and refuses a database newer than the code.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from serving.schemas import FeedbackRequest

log = logging.getLogger("medcode.feedback")

SCHEMA_VERSION = 2
COMPONENT = "feedback"

metadata = MetaData()

schema_version = Table(
    "medcode_schema_version", metadata,
    Column("component", String(50), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("applied_at", String(40), nullable=False),
)

feedback = Table(
    "feedback", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("feedback_id", String(32), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("request_id", String(200), nullable=False),
    Column("model_version", String(200), nullable=False),
    Column("reviewer_id", String(200), nullable=False),
    Column("note_id", String(200)),
    Column("text", Text),
    Column("patient_age", Integer),
    Column("patient_sex", String(1)),
    Column("date_of_service", String(10)),
)

feedback_item = Table(
    "feedback_item", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feedback_seq", Integer, ForeignKey("feedback.seq", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("system", String(10), nullable=False),
    Column("code", String(16), nullable=False),
    Column("verdict", String(10), nullable=False),
    Column("replacement", String(16)),
    Column("comment", Text),
)

_IDX_REQUEST = Index("ix_feedback_request_id", feedback.c.request_id)
_IDX_NOTE = Index("ix_feedback_note_id", feedback.c.note_id)
_IDX_ITEM = Index("ix_feedback_item_feedback_seq", feedback_item.c.feedback_seq)


def _migrate_1(conn: Connection) -> None:
    """Tables feedback and feedback_item."""
    feedback.create(conn, checkfirst=True)
    feedback_item.create(conn, checkfirst=True)


def _migrate_2(conn: Connection) -> None:
    """Indexes for look-ups by request, note and feedback."""
    for idx in (_IDX_REQUEST, _IDX_NOTE, _IDX_ITEM):
        idx.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1, 2: _migrate_2}
assert max(MIGRATIONS) == SCHEMA_VERSION


class SchemaVersionError(RuntimeError):
    pass


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def make_engine(url: str, synchronous: str = "FULL") -> Engine:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    db = u.database or ""
    memory = db in ("", ":memory:") or "mode=memory" in url
    if not memory:
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs.update(pool_size=8, max_overflow=32)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


@dataclass(frozen=True)
class ExportStats:
    written: int
    skipped_without_text: int
    feedback_records: int
    superseded: int


class FeedbackStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, synchronous: str = "FULL", migrate: bool = True) -> FeedbackStore:
        store = cls(make_engine(url, synchronous))
        if migrate:
            store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    # ---- schema ------------------------------------------------------------------------------
    def version(self) -> int:
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, schema_version.name):
                return 0
            v = conn.execute(select(schema_version.c.version).where(schema_version.c.component == COMPONENT)).scalar()
            return int(v or 0)

    def migrate(self) -> int:
        """Bring the database to SCHEMA_VERSION; returns the version found before."""
        for attempt in range(5):
            try:
                return self._migrate_once()
            except OperationalError:  # another process migrating the same SQLite file
                if attempt == 4:
                    raise
                import time

                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _migrate_once(self) -> int:
        with self.engine.begin() as conn:
            schema_version.create(conn, checkfirst=True)
            row = conn.execute(
                select(schema_version.c.version).where(schema_version.c.component == COMPONENT)
            ).scalar()
            found = int(row or 0)
            if found > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"feedback database schema is v{found}, newer than this medcode (v{SCHEMA_VERSION}); upgrade medcode"
                )
            for v in range(found + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[v](conn)
                log.info("feedback schema migrated", extra={"version": v})
            if found == 0:
                conn.execute(insert(schema_version).values(component=COMPONENT, version=SCHEMA_VERSION, applied_at=_now()))
            elif found < SCHEMA_VERSION:
                conn.execute(
                    schema_version.update()
                    .where(schema_version.c.component == COMPONENT)
                    .values(version=SCHEMA_VERSION, applied_at=_now())
                )
            return found

    # ---- writes ------------------------------------------------------------------------------
    def add(self, req: FeedbackRequest) -> tuple[str, int]:
        """Store one review; returns (feedback_id, number of verdicts). Committed on return."""
        return self.add_many([req])[0]

    def add_many(self, reqs: list[FeedbackRequest]) -> list[tuple[str, int]]:
        """Store several reviews in one transaction (one fsync); committed on return."""
        out: list[tuple[str, int]] = []
        with self.engine.begin() as conn:
            for req in reqs:
                fid = uuid.uuid4().hex
                pk = conn.execute(
                    insert(feedback).values(
                        feedback_id=fid,
                        created_at=_now(),
                        request_id=req.request_id,
                        model_version=req.model_version,
                        reviewer_id=req.reviewer_id,
                        note_id=req.note_id,
                        text=req.text,
                        patient_age=req.patient.age if req.patient else None,
                        patient_sex=req.patient.sex if req.patient else None,
                        date_of_service=req.date_of_service,
                    )
                ).inserted_primary_key
                assert pk is not None
                seq = pk[0]
                conn.execute(
                    insert(feedback_item),
                    [
                        {"feedback_seq": seq, "position": i, "system": it.system, "code": it.code,
                         "verdict": it.verdict, "replacement": it.replacement, "comment": it.comment}
                        for i, it in enumerate(req.items)
                    ],
                )
                out.append((fid, len(req.items)))
        return out

    # ---- reads -------------------------------------------------------------------------------
    def count(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            n_fb = conn.execute(select(func.count()).select_from(feedback)).scalar_one()
            n_items = conn.execute(select(func.count()).select_from(feedback_item)).scalar_one()
        return int(n_fb), int(n_items)

    def feedback_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(feedback.c.feedback_id))}

    def get(self, feedback_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(feedback).where(feedback.c.feedback_id == feedback_id)).mappings().first()
            if row is None:
                return None
            items = conn.execute(
                select(feedback_item).where(feedback_item.c.feedback_seq == row["seq"]).order_by(feedback_item.c.position)
            ).mappings().all()
        return {**dict(row), "items": [dict(i) for i in items]}

    def records(self) -> Iterator[dict[str, Any]]:
        """Every review, oldest first, with its items."""
        with self.engine.connect() as conn:
            items: dict[int, list[dict[str, Any]]] = {}
            for it in conn.execute(select(feedback_item).order_by(feedback_item.c.feedback_seq,
                                                                  feedback_item.c.position)).mappings():
                items.setdefault(it["feedback_seq"], []).append(dict(it))
            for row in conn.execute(select(feedback).order_by(feedback.c.seq)).mappings():
                yield {**dict(row), "items": items.get(row["seq"], [])}

    # ---- export ------------------------------------------------------------------------------
    def export_gold(self, out: IO[str]) -> ExportStats:
        """Write one gold line per reviewed note (the latest review of a note wins)."""
        latest: dict[str, dict[str, Any]] = {}
        n = 0
        for rec in self.records():
            n += 1
            latest[rec["note_id"] or rec["request_id"]] = rec
        written = skipped = 0
        for key, rec in latest.items():
            if not rec["text"]:
                skipped += 1
                continue
            out.write(json.dumps(gold_line(key, rec), ensure_ascii=False) + "\n")
            written += 1
        return ExportStats(written, skipped, n, n - len(latest))


class GroupCommitter:
    """One writer thread that commits concurrent reviews together (group commit).

    Each caller blocks until the transaction holding its review is committed, so an
    acknowledged write is on disk; under load one fsync covers many reviews instead of one.
    If a batch fails, its reviews are retried one by one so only the bad one reports an error.
    """

    def __init__(self, store: FeedbackStore, max_batch: int = 256, timeout_s: float = 60.0,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.on_batch = on_batch
        self.max_batch = max_batch
        self.timeout_s = timeout_s
        self._q: queue.Queue[tuple[FeedbackRequest, Future[tuple[str, int]]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.written = 0

    def submit(self, req: FeedbackRequest) -> tuple[str, int]:
        fut: Future[tuple[str, int]] = Future()
        self._ensure_thread()
        self._q.put((req, fut))
        return fut.result(timeout=self.timeout_s)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._loop, name="medcode-feedback-writer", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[FeedbackRequest, Future[tuple[str, int]]]]) -> None:
        try:
            results = self.store.add_many([r for r, _ in batch])
        except Exception:
            for req, fut in batch:  # isolate the failing review
                try:
                    fut.set_result(self.store.add(req))
                except Exception as exc:
                    fut.set_exception(exc)
            return
        self.batches += 1
        self.written += len(batch)
        if self.on_batch is not None:
            self.on_batch(len(batch))
        for (_, fut), res in zip(batch, results, strict=True):
            fut.set_result(res)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._q.put(None)
            self._thread.join(timeout)


def gold_line(note_key: str, rec: dict[str, Any]) -> dict[str, Any]:
    """DESIGN.md 4.1 gold: accepted and replacement codes; rejected/replaced codes as negatives."""
    gold: dict[str, list[str]] = {"icd10cm": [], "cpt": []}
    rejected: dict[str, list[str]] = {"icd10cm": [], "cpt": []}
    for it in rec["items"]:
        sys_ = "icd10cm" if it["system"] == "icd10cm" else "cpt"
        if it["verdict"] == "accept":
            gold[sys_].append(it["code"])
        elif it["verdict"] == "replace":
            gold[sys_].append(it["replacement"])
            rejected[sys_].append(it["code"])
        else:
            rejected[sys_].append(it["code"])
    for sys_ in gold:
        gold[sys_] = list(dict.fromkeys(gold[sys_]))
        keep = set(gold[sys_])
        rejected[sys_] = [c for c in dict.fromkeys(rejected[sys_]) if c not in keep]
    line: dict[str, Any] = {"id": note_key, "text": rec["text"], "icd10cm": gold["icd10cm"], "cpt": gold["cpt"]}
    if rec["patient_age"] is not None or rec["patient_sex"] is not None:
        line["patient"] = {"age": rec["patient_age"], "sex": rec["patient_sex"] or "U"}
    if rec["date_of_service"]:
        line["date_of_service"] = rec["date_of_service"]
    line["rejected"] = rejected
    line["feedback"] = {"feedback_id": rec["feedback_id"], "request_id": rec["request_id"],
                        "model_version": rec["model_version"], "reviewer_id": rec["reviewer_id"],
                        "created_at": rec["created_at"]}
    return line
