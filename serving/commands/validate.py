"""`medcode validate CLAIM.json [--format json|table]` (DESIGN.md 4.3 / 4.4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from serving.cli import fail


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_cmd(
        claim_file: Annotated[Path, typer.Argument(help="claim JSON (DESIGN.md 4.3); '-' reads stdin")],
        fmt: Annotated[str, typer.Option("--format", help="json or table")] = "table",
    ) -> None:
        """Check a claim before submission: code validity, medical necessity, NCCI, modifiers, pointers.

        Exit status: 0 pass or warn, 1 fail (the claim would be denied), 2 unreadable or malformed claim.
        """
        from validator import ClaimError, validate

        if fmt not in ("json", "table"):
            raise fail(f"unknown format {fmt!r} (expected json or table)")
        try:
            text = typer.get_text_stream("stdin").read() if str(claim_file) == "-" else claim_file.read_text("utf-8")
        except OSError as exc:
            raise fail(f"cannot read {claim_file}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(f"{claim_file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        try:
            result = validate(data)
        except ClaimError as exc:
            raise fail(str(exc)) from None
        if fmt == "json":
            typer.echo(result.model_dump_json(indent=2))
        else:
            typer.echo(_table(result.model_dump()))
        # exit status: 0 pass/warn, 1 fail (a claim that would be denied), 2 bad input
        if result.status == "fail":
            raise typer.Exit(1)


def _table(res: dict) -> str:  # type: ignore[type-arg]
    out = [f"status: {res['status'].upper()}    ruleset: {res['ruleset_version']}", ""]
    out.append(f"{'line':<5} {'code':<7} {'modifiers':<12} {'units':>5}  dx pointers")
    for i, line in enumerate(res["cpt_lines"], start=1):
        mods = ",".join(line["modifiers"]) or "-"
        out.append(f"{i:<5} {line['code']:<7} {mods:<12} {line['units']:>5}  {', '.join(map(str, line['dx'])) or '-'}")
    out.append("")
    if not res["findings"]:
        out.append("no findings")
    for f in res["findings"]:
        where = f"line {f['line']}" if f["line"] else "claim"
        out.append(f"[{f['severity'].upper():<7}] {f['rule']} ({where}; {', '.join(f['codes'])})")
        out.append(f"    {f['message']}")
        out.append(f"    fix: {f['fix']}")
        if f.get("policy"):
            out.append(f"    source: {f['policy']}")
    return "\n".join(out)
