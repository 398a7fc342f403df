"""Structured JSON logs that never carry note text.

Every record becomes one JSON line (timestamp, level, logger, message, request id and the
``extra`` fields). Two guards keep note text out:

* fields whose name says they hold text (``text``, ``note``, ``body``...) are dropped;
* while a request that carries a note is handled, the note is held in a context variable
  and `NoteTextFilter` redacts any line of it (or the whole note) that shows up in a record's
  message, arguments, extra fields or exception text.

Routes must still never log note text on purpose; the filter is the safety net.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REDACTED = "[redacted]"
_MIN_FRAGMENT = 8  # shorter note lines ("Plan:") are too common to be worth redacting

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("medcode_request_id", default=None)
_note_fragments: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("medcode_note_fragments", default=())

_SENSITIVE_KEYS = frozenset({"text", "note", "note_text", "body", "content", "payload", "input"})
_STD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName"}


def _fragments(text: str) -> tuple[str, ...]:
    """The note, and each of its lines and sentences long enough to identify it."""
    out = {text.strip()}
    for line in text.splitlines():
        for part in line.replace(". ", ".\n").split("\n"):
            p = part.strip()
            if len(p) >= _MIN_FRAGMENT:
                out.add(p)
    out.discard("")
    return tuple(sorted(out, key=len, reverse=True))


@contextmanager
def guard_note(text: str | None) -> Iterator[None]:
    """Redact `text` from every log record emitted in this context."""
    if not text:
        yield
        return
    token = _note_fragments.set(_note_fragments.get() + _fragments(text))
    try:
        yield
    finally:
        _note_fragments.reset(token)


def scrub(value: str, fragments: tuple[str, ...] | None = None) -> str:
    frags = _note_fragments.get() if fragments is None else fragments
    for f in frags:
        if f in value:
            value = value.replace(f, REDACTED)
    return value


class NoteTextFilter(logging.Filter):
    """Drops text-bearing extra fields and redacts the current note from a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if key in _SENSITIVE_KEYS and key not in _STD_ATTRS:
                setattr(record, key, REDACTED)
        frags = _note_fragments.get()
        if not frags:
            return True
        try:
            msg = record.getMessage()
        except Exception:
            msg = str(record.msg)
        record.msg, record.args = scrub(msg, frags), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)), frags)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text, frags)
        for key, val in list(vars(record).items()):
            if key not in _STD_ATTRS and isinstance(val, str):
                setattr(record, key, scrub(val, frags))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            out["request_id"] = rid
        for key, val in vars(record).items():
            if key in _STD_ATTRS or key in out or key.startswith("_") or key == "color_message":
                continue
            out[key] = val if isinstance(val, (str, int, float, bool, type(None), list, dict)) else str(val)
        if record.exc_info:
            out["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["exc"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, default=str, ensure_ascii=False)


_HANDLER_NAME = "medcode-json"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at emit time (so redirections and captures see it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO", json_lines: bool = True, stream: Any = None) -> None:
    """Send medcode, uvicorn and root records through the note filter to stderr (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == _HANDLER_NAME:
            root.removeHandler(h)
    handler: logging.StreamHandler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()  # type: ignore[type-arg]
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(NoteTextFilter())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("medcode", "serving"):
        logging.getLogger(name).setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # the access line is ours (with request id)
    # every handler, including ones other code (pytest's caplog) attaches later, sees filtered records
    _install_record_factory()


_factory_installed = False


def _install_record_factory() -> None:
    """Scrub at record creation too, so handlers we do not own never see a note."""
    global _factory_installed
    if _factory_installed:
        return
    base = logging.getLogRecordFactory()
    filt = NoteTextFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        if _note_fragments.get():
            filt.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn `log_config` that routes its records through our JSON handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"notes": {"()": "serving.logs.NoteTextFilter"}},
        "formatters": {"json": {"()": "serving.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "json",
                       "filters": ["notes"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
