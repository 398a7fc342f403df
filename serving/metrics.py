"""Prometheus metrics on a per-app CollectorRegistry (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "medcode_http_requests", "HTTP requests by route template, method and status",
            ["route", "method", "status"], registry=r,
        )
        self.latency = Histogram(
            "medcode_http_request_duration_seconds", "Request latency by route template",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.in_flight = Gauge("medcode_http_requests_in_flight", "Requests being handled", registry=r)
        self.overload = Counter(
            "medcode_overload_rejections", "Requests answered 503 because every worker slot and queue place was taken",
            ["route"], registry=r,
        )
        self.work_active = Gauge("medcode_work_slots_busy", "Suggest/validate calls running in the worker pool", registry=r)
        self.work_waiting = Gauge("medcode_work_queue_depth", "Suggest/validate calls waiting for a slot", registry=r)
        self.model_info = Info("medcode_model", "The loaded suggestion model", registry=r)
        self.model_ready = Gauge("medcode_model_ready", "1 when a suggestion model is loaded", registry=r)
        self.suggestions = Counter(
            "medcode_suggestions", "Codes suggested above threshold, by code system", ["system"], registry=r,
        )
        self.suggest_requests = Counter(
            "medcode_suggest_requests", "Suggest calls by model version and outcome", ["model_version", "outcome"], registry=r,
        )
        self.validations = Counter(
            "medcode_validations", "Validate calls by status (pass, warn, fail)", ["status"], registry=r,
        )
        self.feedback_items = Counter(
            "medcode_feedback_items", "Stored reviewer verdicts", ["system", "verdict"], registry=r,
        )
        self.feedback_batch = Histogram(
            "medcode_feedback_commit_batch_size", "Reviews committed per transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r,
        )
        self.model_info.info({"version": "", "source": "loading", "uri": ""})
        self.model_ready.set(0)

    def set_model(self, version: str | None, source: str, uri: str | None) -> None:
        self.model_info.info({"version": version or "", "source": source, "uri": uri or ""})
        self.model_ready.set(1 if version is not None and source not in ("unavailable", "loading") else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
