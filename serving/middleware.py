"""Pure ASGI middleware: request id, body size limit, metrics, access log, last-resort 500."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.concurrency import WorkLimiter
from serving.logs import request_id_var
from serving.metrics import Metrics

REQUEST_ID_HEADER = "X-Request-ID"
_RID_OK = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")

access_log = logging.getLogger("medcode.access")
error_log = logging.getLogger("medcode.error")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None) if route is not None else None
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, body_limit: int,
                 limiter: WorkLimiter | None = None, shed_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.metrics = metrics
        self.body_limit = body_limit
        self.limiter = limiter
        self.shed_paths = shed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        rid = given if _RID_OK.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        method = scope["method"]
        started = False
        status = 500
        t0 = time.perf_counter()
        shed = False
        self.metrics.in_flight.inc()

        async def send_wrapper(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                hdrs = list(message.get("headers", []))
                hdrs.append((REQUEST_ID_HEADER.lower().encode(), rid.encode()))
                message = {**message, "headers": hdrs}
            await send(message)

        limit = self.body_limit
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > limit:
                await _send_json(send_wrapper, 413, {"detail": f"request body larger than {limit} bytes"})
                return
            if self.limiter is not None and self.limiter.saturated and scope.get("path") in self.shed_paths:
                # shed load before reading and parsing the body: the refusal costs next to nothing
                shed = True
                exc = self.limiter.refusal()
                self.metrics.overload.labels(scope["path"]).inc()
                await _send_json(send_wrapper, 503, {"detail": f"server busy: {exc.reason}; retry later"},
                                 {"retry-after": str(exc.retry_after)})
                return
            received = 0

            async def receive_limited() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge(limit)
                return message

            await self.app(scope, receive_limited, send_wrapper)
        except Exception as exc:
            error_log.error("unhandled error", exc_info=exc,
                            extra={"route": route_template(scope), "method": method})
            if not started:
                await _send_json(send_wrapper, 500, {"detail": "internal server error", "request_id": rid})
            else:
                status = 500
        finally:
            elapsed = time.perf_counter() - t0
            route = str(scope["path"]) if shed else route_template(scope)
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(elapsed)
            access_log.info(
                "request",
                extra={"method": method, "route": route, "path": scope.get("path", ""), "status": status,
                       "latency_ms": round(elapsed * 1000, 2)},
            )
            request_id_var.reset(token)


async def _send_json(send: Send, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
