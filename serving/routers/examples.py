"""Bundled synthetic example notes for the review page's picker."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Depends

from serving.deps import require_api_key
from serving.schemas import Example

router = APIRouter(prefix="/v1", tags=["examples"], dependencies=[Depends(require_api_key)])


@lru_cache(maxsize=1)
def load_examples() -> tuple[Example, ...]:
    raw = json.loads(resources.files("serving").joinpath("examples.json").read_text(encoding="utf-8"))
    return tuple(Example.model_validate(e) for e in raw)


@router.get("/examples", response_model=list[Example], summary="Synthetic example notes (no real patients)")
def examples() -> list[Example]:
    return list(load_examples())
