"""`medcode suggest NOTE.txt [--age --sex --dos --setting --specialty] [--model URI] [--format json|table]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from serving.cli import fail


def register(app: typer.Typer) -> None:
    @app.command("suggest")
    def suggest(
        note: Annotated[Path, typer.Argument(help="plain-text visit note ('-' reads stdin)")],
        age: Annotated[int | None, typer.Option("--age", help="patient age in years")] = None,
        sex: Annotated[str | None, typer.Option("--sex", help="F, M or U")] = None,
        dos: Annotated[str | None, typer.Option("--dos", help="date of service YYYY-MM-DD")] = None,
        setting: Annotated[str | None, typer.Option("--setting", help="office, telehealth, urgent_care...")] = None,
        specialty: Annotated[str | None, typer.Option("--specialty")] = None,
        model: Annotated[str | None, typer.Option("--model", help="models:/name@alias, a model folder, or the default")] = None,
        fmt: Annotated[str, typer.Option("--format", help="json or table")] = "table",
    ) -> None:
        """Ranked ICD-10-CM and CPT/HCPCS suggestions with evidence, confidence and validation."""
        import sys

        from pydantic import ValidationError

        if fmt not in ("json", "table"):
            raise fail(f"unknown format {fmt!r} (expected json or table)")
        if str(note) == "-":
            text = sys.stdin.read()
        else:
            if not note.is_file():
                raise fail(f"note file not found: {note}")
            try:
                text = note.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise fail(f"cannot read {note}: {type(exc).__name__}") from None
        if not text.strip():
            raise fail("the note is empty")
        import os

        limit = int(os.environ.get("MEDCODE_MAX_NOTE_CHARS", "100000"))
        if len(text) > limit:
            raise fail(f"the note has {len(text):,} characters; the limit is {limit:,} (MEDCODE_MAX_NOTE_CHARS)")
        ctx: dict[str, object] = {"date_of_service": dos, "setting": setting, "specialty": specialty}
        if age is not None or sex is not None:
            ctx["patient"] = {"age": age, "sex": (sex or "U").upper()}
        from pipelines.schemas import SuggestRequest

        try:
            req = SuggestRequest.model_validate({"text": text, **{k: v for k, v in ctx.items() if v is not None}})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise fail(f"invalid {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None
        from pipelines.benchmark import BenchmarkError, load_model
        from pipelines.suggest import load_suggester

        try:
            if model is None:
                try:  # the registry's champion, else the cached default model
                    suggester = load_model(None)
                except BenchmarkError:
                    typer.echo("no champion model registered and no cached default model: building the default "
                               "model (first run only, several minutes)", err=True)
                    suggester = load_suggester(None)
            else:
                suggester = load_suggester(model)
        except (FileNotFoundError, ValueError) as exc:
            raise fail(str(exc)) from None
        from codesets import DateOfServiceError

        try:
            result = suggester.suggest(text, req)
        except DateOfServiceError as exc:
            raise fail(str(exc)) from None
        if fmt == "json":
            typer.echo(result.model_dump_json(indent=2))
            return
        typer.echo(f"model {result.model_version}  codes {result.codeset_version}  rules {result.ruleset_version}")
        typer.echo("ICD-10-CM")
        for s in result.icd10cm:
            ev = "; ".join(f"{e.text!r} [{e.section}/{e.assertion}]" for e in s.evidence[:2])
            typer.echo(f"  {s.rank:>2}. {s.code:<9} {s.confidence:5.2f}  {s.description}")
            typer.echo(f"      evidence: {ev}")
            if s.specificity:
                typer.echo(f"      specificity: {s.specificity}")
        typer.echo("CPT/HCPCS")
        for c in result.cpt:
            mods = ("-" + "-".join(c.modifiers)) if c.modifiers else ""
            typer.echo(f"  {c.rank:>2}. {c.code}{mods:<8} x{c.units}  {c.confidence:5.2f}  dx {', '.join(c.dx) or '-'}"
                       f"  {c.description}")
        typer.echo(f"validation: {result.validation.status}")
        for f in result.validation.findings:
            typer.echo(f"  [{f.severity}] {f.rule}: {f.message}")
