"""`medcode serve`: the API and review page under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port")] = 8000,
        workers: Annotated[int, typer.Option(help="uvicorn worker processes (each loads its own model)")] = 1,
        log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error")] = "",
    ) -> None:
        """Serve the API and the review page (settings: MEDCODE_* environment variables)."""
        import uvicorn

        from serving.cli import fail
        from serving.logs import configure_logging, uvicorn_log_config
        from serving.settings import Settings

        try:
            settings = Settings()
        except Exception as exc:
            raise fail(f"invalid MEDCODE_* settings: {exc}") from None
        level = (log_level or settings.log_level).upper()
        configure_logging(level, settings.log_json)
        uvicorn.run(
            "serving.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=uvicorn_log_config(level),
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=10,
        )
