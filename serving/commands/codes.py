"""`medcode codes lookup|search` and `medcode codesets import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from codesets import CodeFormatError, DateOfServiceError, load_codesets
from serving.cli import fail

Format = typer.Option("table", "--format", help="json or table")


def register(app: typer.Typer) -> None:
    codes = typer.Typer(help="Look up and search ICD-10-CM, CPT and HCPCS codes.", no_args_is_help=True)
    app.add_typer(codes, name="codes")

    @codes.command("lookup")
    def lookup(
        code: str,
        dos: Annotated[str | None, typer.Option("--dos", help="date of service YYYY-MM-DD")] = None,
        system: Annotated[str | None, typer.Option("--system", help="icd10cm, cpt or hcpcs")] = None,
        fmt: Annotated[str, typer.Option("--format", help="json or table")] = "table",
    ) -> None:
        """Status of a code on a date of service: valid, header, deleted, invalid or stale_codeset."""
        try:
            r = load_codesets().lookup(code, system=system, dos=dos)
        except (CodeFormatError, DateOfServiceError) as exc:
            raise fail(str(exc)) from None
        if fmt == "json":
            typer.echo(json.dumps(r.to_dict(), indent=2))
            return
        typer.echo(f"{r.code}  [{r.system}]  {r.status}{'  billable' if r.billable else ''}")
        typer.echo(f"  {r.description or '(no description: CPT descriptors are not shipped)'}")
        if r.fiscal_year:
            typer.echo(f"  fiscal year: FY{r.fiscal_year}")
        if r.children:
            more = f" (+{len(r.children) - 12} more)" if len(r.children) > 12 else ""
            typer.echo(f"  billable codes: {', '.join(r.children[:12])}{more}")
        if r.message:
            typer.echo(f"  {r.message}")

    @codes.command("search")
    def search(
        text: str,
        system: Annotated[str | None, typer.Option("--system", help="icd10cm, cpt or hcpcs")] = None,
        k: Annotated[int, typer.Option("-k", "--k", help="number of results")] = 10,
        fmt: Annotated[str, typer.Option("--format", help="json or table")] = "table",
    ) -> None:
        """Ranked codes for a phrase."""
        if system not in (None, "icd10cm", "cpt", "hcpcs"):
            raise fail(f"unknown code system {system!r} (expected icd10cm, cpt or hcpcs)")
        hits = load_codesets().search(text, system=system, k=k)
        if fmt == "json":
            typer.echo(json.dumps([_hit(h) for h in hits], indent=2))
            return
        for h in hits:
            typer.echo(f"{h.code:<9} {h.system:<8} {h.score:5.2f}  {h.description}")

    imp = typer.Typer(help="Import new CMS/CDC code-set releases.", no_args_is_help=True)
    app.add_typer(imp, name="codesets")

    @imp.command("import")
    def import_release(
        order_file: Annotated[Path, typer.Argument(help="icd10cm-order-YYYY.txt (fixed width)")],
        fiscal_year: Annotated[int, typer.Option("--fy", help="fiscal year of the release, e.g. 2027")],
        tabular: Annotated[Path | None, typer.Option("--tabular", help="icd10cm-tabular-YYYY.xml")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="target folder (default MEDCODE_CODESETS_DIR)")] = None,
    ) -> None:
        """Add an ICD-10-CM fiscal year from the official release files."""
        from codesets.importer import ImportError_
        from codesets.importer import import_release as do_import

        try:
            summary = do_import(order_file, fiscal_year, tabular=tabular, out_dir=out)
        except (ImportError_, OSError) as exc:
            raise fail(str(exc)) from None
        typer.echo(json.dumps(summary, indent=2))


def _hit(h: object) -> dict[str, object]:
    return {k: getattr(h, k) for k in ("code", "system", "description", "score", "matched")}
