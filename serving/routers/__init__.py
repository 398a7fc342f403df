"""One APIRouter per resource; `serving.app.create_app` includes them."""

from __future__ import annotations

from typing import Any

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "X-API-Key missing (when MEDCODE_API_KEYS is set)"},
    403: {"description": "X-API-Key not one of MEDCODE_API_KEYS"},
    413: {"description": "note text or request body over the configured limit"},
    422: {"description": "malformed JSON, fields, codes or dates; `message` says which"},
    503: {"description": "no model loaded, or every worker busy (see Retry-After)"},
}


def client_errors() -> tuple[type[Exception], ...]:
    """Exception types that mean 'bad input' (422), as exported by the validator."""
    try:
        from validator import ClaimError
    except ImportError:
        return ()
    return (ClaimError,)
