"""`medcode feedback export`: reviewer verdicts as gold lines for retraining (DESIGN.md 4.1)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from serving.cli import fail


def register(app: typer.Typer) -> None:
    fb = typer.Typer(help="Reviewer feedback stored by the API.", no_args_is_help=True)
    app.add_typer(fb, name="feedback")

    @fb.command("export")
    def export(
        out: Annotated[Path, typer.Option("--out", help="gold JSONL to write ('-' for stdout)")],
        database_url: Annotated[
            str | None, typer.Option("--database-url", help="SQLAlchemy URL (default MEDCODE_DATABASE_URL)")
        ] = None,
    ) -> None:
        """Write accepted and replacement codes as gold, rejected ones under "rejected" (latest review per note)."""
        from sqlalchemy.exc import SQLAlchemyError

        from serving.feedback_store import FeedbackStore, SchemaVersionError
        from serving.settings import Settings

        url = database_url or Settings().database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():
                raise fail(f"no feedback database at {path} (set --database-url or MEDCODE_DATABASE_URL)")
        try:
            store = FeedbackStore.open(url, migrate=False)
            found = store.version()
            if found == 0:
                raise fail("the database holds no medcode feedback schema")
            store.migrate()
            if str(out) == "-":
                stats = store.export_gold(sys.stdout)
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_name(out.name + ".tmp")
                with tmp.open("w", encoding="utf-8") as fh:
                    stats = store.export_gold(fh)
                os.replace(tmp, out)
            store.close()
        except (SQLAlchemyError, SchemaVersionError, OSError) as exc:
            raise fail(f"export failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        typer.echo(json.dumps({"out": str(out), "notes_written": stats.written,
                               "skipped_without_text": stats.skipped_without_text,
                               "reviews": stats.feedback_records, "superseded_reviews": stats.superseded}),
                   err=str(out) == "-")
