"""Application factory (minimal until the API service lands: health and code look-up)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Query

from codesets import CodeFormatError, DateOfServiceError, load_codesets


def create_app() -> FastAPI:
    app = FastAPI(title="medcode", version="0.1.0")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/codes/search")
    def search(q: str, system: str | None = None, k: int = Query(10, ge=1, le=100)) -> list[dict[str, Any]]:
        if system not in (None, "icd10cm", "cpt", "hcpcs"):
            raise HTTPException(422, f"unknown code system {system!r}")
        return [h.__dict__ if hasattr(h, "__dict__") else {s: getattr(h, s) for s in h.__slots__}
                for h in load_codesets().search(q, system=system, k=k)]

    @app.get("/v1/codes/{system}/{code}")
    def lookup(system: str, code: str, dos: str | None = None) -> dict[str, Any]:
        try:
            return load_codesets().lookup(code, system=system, dos=dos).to_dict()
        except (CodeFormatError, DateOfServiceError) as exc:
            raise HTTPException(422, str(exc)) from None

    return app
