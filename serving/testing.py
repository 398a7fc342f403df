"""A light, deterministic stand-in suggester for API tests, load benchmarks and demos.

It finds a few phrases by keyword (no NLP stack, no trained model) and can spend a fixed
amount of CPU or wall time per call so that load and overload behaviour can be measured
without the real model:

    MEDCODE_SUGGESTER_FACTORY=serving.testing:make_keyword_suggester
    MEDCODE_FAKE_WORK_MS=20    # CPU-bound work per suggest call (holds the GIL, like the real model)
    MEDCODE_FAKE_SLEEP_MS=0    # wall time per call without CPU (releases the GIL)
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

from pipelines.schemas import (
    CptSuggestion,
    Evidence,
    IcdSuggestion,
    Ranked,
    ScoredCode,
    SuggestionSet,
    SuggestRequest,
    Validation,
)

# (pattern, system, code, our own plain-language description)
_RULES: tuple[tuple[str, str, str, str], ...] = (
    (r"type 2 diabetes", "icd10cm", "E11.9", "Type 2 diabetes mellitus without complications"),
    (r"hyperglyc", "icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia"),
    (r"hypertension", "icd10cm", "I10", "Essential (primary) hypertension"),
    (r"strep(tococcal)? pharyngitis", "icd10cm", "J02.0", "Streptococcal pharyngitis"),
    (r"osteoarthritis", "icd10cm", "M17.11", "Unilateral primary osteoarthritis, right knee"),
    (r"depress", "icd10cm", "F33.1", "Major depressive disorder, recurrent, moderate"),
    (r"anxiety", "icd10cm", "F41.1", "Generalized anxiety disorder"),
    (r"a1c", "cpt", "83036", "Hemoglobin A1c test"),
    (r"rapid strep", "cpt", "87880", "Rapid strep antigen test"),
    (r"inject", "cpt", "20610", "Large joint injection or aspiration"),
)


def _burn(ms: float) -> None:
    end = time.perf_counter() + ms / 1000.0
    x = 0
    while time.perf_counter() < end:
        x += 1


class KeywordSuggester:
    """Suggests the codes of `_RULES` whose phrase occurs in the note."""

    def __init__(self, model_version: str = "keyword-fake/1", work_ms: float = 0.0, sleep_ms: float = 0.0,
                 gate: threading.Event | None = None) -> None:
        self.model_version = model_version
        self.work_ms = work_ms
        self.sleep_ms = sleep_ms
        self.gate = gate  # tests: block every call until set
        self.calls = 0
        self._lock = threading.Lock()

    def suggest(self, text: str, context: SuggestRequest | dict[str, Any] | None = None) -> SuggestionSet:
        with self._lock:
            self.calls += 1
        if self.gate is not None:
            self.gate.wait(30)
        if self.work_ms:
            _burn(self.work_ms)
        if self.sleep_ms:
            time.sleep(self.sleep_ms / 1000.0)
        low = text.lower()
        icd: list[IcdSuggestion] = []
        cpt: list[CptSuggestion] = []
        for pattern, system, code, desc in _RULES:
            m = re.search(pattern, low)
            if not m:
                continue
            ev = [Evidence(start=m.start(), end=m.end(), text=text[m.start():m.end()], section="unknown",
                           assertion="present")]
            if system == "icd10cm":
                icd.append(IcdSuggestion(code=code, description=desc, confidence=0.9 - 0.05 * len(icd),
                                         rank=len(icd) + 1, billable=True, evidence=ev, specificity=None))
            else:
                cpt.append(CptSuggestion(code=code, description=desc, confidence=0.8 - 0.05 * len(cpt),
                                         rank=len(cpt) + 1, evidence=ev, dx=[i.code for i in icd[:1]]))
        return SuggestionSet(
            request_id="",
            model_version=self.model_version,
            codeset_version="fake-codesets",
            ruleset_version="fake-rules",
            icd10cm=icd,
            cpt=cpt,
            validation=Validation(status="pass", findings=[]),
            ranked=Ranked(icd10cm=[ScoredCode(code=i.code, score=i.confidence) for i in icd],
                          cpt=[ScoredCode(code=c.code, score=c.confidence) for c in cpt]),
        )


def make_keyword_suggester() -> KeywordSuggester:
    """Factory for MEDCODE_SUGGESTER_FACTORY (reads MEDCODE_FAKE_WORK_MS / MEDCODE_FAKE_SLEEP_MS)."""
    return KeywordSuggester(work_ms=float(os.environ.get("MEDCODE_FAKE_WORK_MS", "0") or 0),
                            sleep_ms=float(os.environ.get("MEDCODE_FAKE_SLEEP_MS", "0") or 0))


# ---- a real server in a subprocess (tests and benchmarks) ---------------------------------------
def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`python -m uvicorn serving.app:create_app --factory` on a loopback port.

    `env` adds MEDCODE_* settings; by default the keyword suggester is loaded (no real model).
    `start()` waits until /ready answers 200 (or /health when `wait_ready=False`).
    """

    def __init__(self, workdir: str | os.PathLike[str], env: dict[str, str] | None = None, port: int | None = None,
                 wait_ready: bool = True, cpus: list[int] | None = None) -> None:
        from pathlib import Path

        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_ready = wait_ready
        self.cpus = cpus
        self.log_path = self.workdir / f"server-{self.port}.log"
        repo = str(Path(__file__).resolve().parents[1])
        base = {k: v for k, v in os.environ.items() if not k.startswith("MEDCODE_")}
        base.update({
            "PYTHONPATH": os.pathsep.join(p for p in (repo, base.get("PYTHONPATH", "")) if p),
            "MEDCODE_SUGGESTER_FACTORY": "serving.testing:make_keyword_suggester",
            "MEDCODE_MODEL_LOAD": "blocking",
            "MEDCODE_DATABASE_URL": f"sqlite:///{self.workdir / 'feedback.db'}",
            "MEDCODE_MODEL_CACHE_DIR": str(self.workdir / "model-cache"),
            "MEDCODE_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        })
        base.update(env or {})
        self.env = base
        self.proc: Any = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        import subprocess
        import sys

        import httpx

        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-c",
               "import sys; from serving.cli import main; sys.argv=['medcode','serve',*sys.argv[1:]]; main()",
               "--host", "127.0.0.1", "--port", str(self.port)]
        if self.cpus and hasattr(os, "sched_setaffinity"):
            cpus = set(self.cpus)

            def pin() -> None:
                os.sched_setaffinity(0, cpus)
        else:
            pin = None  # type: ignore[assignment]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=pin)
        path = "/ready" if self.wait_ready else "/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready within {timeout:g} s: {self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def kill9(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill9()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_untrained_pipeline() -> Any:
    """The real suggestion pipeline (NLP, lexical candidates, E/M, validator) without trained
    rankers: realistic CPU cost per note for load tests when no trained model is at hand."""
    from pipelines.nlp import NlpPipeline
    from pipelines.suggest import Suggester

    s = Suggester(NlpPipeline.load())
    s.suggest("Warm-up: type 2 diabetes mellitus. Office visit.")  # first call loads lazy resources
    return s
