"""Fixtures for the review-page tests: the real API server (see review_server.py) and headless
Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_server import CHROMIUM, CHROMIUM_ARGS, Server, run_server


@pytest.fixture(scope="module")  # the sync API holds an event loop in this thread: release it after the module
def chromium_browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or run `make test`)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # the machine is shared: be patient, never flaky

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("review-server")) as s:
        yield s


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("review-auth-server"), api_keys="review-key-1,other-key") as s:
        yield s


@pytest.fixture()
def page(chromium_browser: object) -> Iterator[object]:
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert errors == [], f"uncaught JavaScript errors on the page: {errors}"
