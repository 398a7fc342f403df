"""The real API server under uvicorn for the browser tests: a subprocess on a free loopback
port, with a temp SQLite feedback database and the deterministic fake suggester."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MEDCODE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = REPO / "test-artifacts"
# The app the tests start. Always the real service; the variable only exists so a developer can
# point the tests at another factory while debugging.
APP_FACTORY = os.environ.get("MEDCODE_BROWSER_APP", "serving.app:create_app")


@dataclass
class Server:
    url: str
    db_path: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_server(workdir: Path, api_keys: str | None = None) -> Iterator[Server]:
    """Start uvicorn with the real app factory; yield once /ready answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    db = workdir / "fb.db"
    log_path = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDCODE_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        MEDCODE_SUGGESTER_FACTORY="fake_suggester:make",
        MEDCODE_MODEL_LOAD="blocking",
        MEDCODE_FALLBACK_TO_DEFAULT="false",
        MEDCODE_MODEL_CACHE_DIR=str(workdir / "model-cache"),
        MEDCODE_DATABASE_URL=f"sqlite:///{db}",
        MEDCODE_LOG_LEVEL="WARNING",
        MEDCODE_MAX_CONCURRENCY="2",
        MLFLOW_TRACKING_URI=f"sqlite:///{workdir / 'mlflow.db'}",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    if api_keys:
        env["MEDCODE_API_KEYS"] = api_keys
    cmd = [sys.executable, "-m", "uvicorn", APP_FACTORY, "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=logf, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", db, log_path, proc)
    try:
        deadline = time.monotonic() + 90
        last = ""
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
            try:
                r = httpx.get(f"{server.url}/ready", timeout=2)
                if r.status_code == 200:
                    break
                last = f"/ready {r.status_code}: {r.text[:300]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after 90 s ({last}):\n{server.log()}")
            time.sleep(0.25)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
