"""Service settings from environment variables prefixed ``MEDCODE_`` (pydantic-settings).

Nothing is read at import time: `create_app()` builds a `Settings()` when it is called (or
takes one), so tests can build many apps with different settings side by side.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL_URI = "models:/medcode-suggester@champion"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDCODE_", extra="ignore", frozen=True)

    # --- model ------------------------------------------------------------------------------
    model_uri: str = Field(
        default=DEFAULT_MODEL_URI,
        description="models:/NAME@ALIAS (MLflow registry), a local model directory, 'default' "
        "(build the default model in-process) or 'none' (load nothing)",
    )
    model_cache_dir: Path = Field(
        default=Path(".medcode/model-cache"), description="last good copy of a registry model, used when the registry is down"
    )
    fallback_to_default: bool = Field(default=True, description="build the default model when no other source works")
    model_load: Literal["background", "blocking"] = Field(
        default="background", description="background: serve /health at once and flip /ready when loaded"
    )
    suggester_factory: str | None = Field(
        default=None, description="module:callable returning a suggester; replaces model loading (tests, benchmarks)"
    )
    registry_retry_s: float = Field(
        default=300.0, ge=0, description="while serving a fallback model, retry the registry this often (0: never)"
    )
    mlflow_tracking_uri: str | None = Field(default=None, description="default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db")
    registry_timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout for a remote MLflow registry")

    # --- storage ----------------------------------------------------------------------------
    database_url: str = Field(default="sqlite:///.medcode/feedback.db", description="any SQLAlchemy URL")
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"

    # --- security and limits ----------------------------------------------------------------
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="comma-separated; when set every /v1/ route needs X-API-Key"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="comma-separated; empty = CORS off")
    max_note_chars: int = Field(default=100_000, ge=1)
    max_body_bytes: int | None = Field(default=None, description="default: 4 bytes per allowed note character + 1 MiB")
    max_concurrency: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1), ge=1, description="suggest/validate run at once"
    )
    max_queue: int = Field(default=32, ge=0, description="requests that may wait for a slot; beyond that: 503")
    queue_timeout_s: float = Field(default=10.0, gt=0, description="longest wait for a slot before a 503")
    retry_after_s: int = Field(default=1, ge=0)

    # --- observability ----------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, v: object) -> object:
        return _split_csv(v)

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        return v.upper()

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    @property
    def body_limit(self) -> int:
        return self.max_body_bytes if self.max_body_bytes is not None else self.max_note_chars * 4 + (1 << 20)

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"

    def public(self) -> dict[str, object]:
        """Settings safe to log (no keys)."""
        d = self.model_dump(exclude={"api_keys"})
        d["api_keys"] = f"{len(self.api_keys)} configured"
        d["model_cache_dir"] = str(self.model_cache_dir)
        d["database_url"] = _redact_url(self.database_url)
        return d


def _redact_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable>"
