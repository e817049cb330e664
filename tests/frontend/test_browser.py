"""A real headless Chromium loads the page from gunicorn."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.servers import Gunicorn, RedisServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags that keep Chromium from phoning home on a machine with no internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)


@needs_chromium
def test_page_in_a_real_browser(fresh_redis: RedisServer, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    env = {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(fresh_redis.port)}
    with Gunicorn(env=env, workers=1) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        hosts: set[str] = set()
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(server.url + "/")
        page.goto(server.url + "/")
        assert page.inner_text("#count") == "2"
        assert page.locator("#recent time").count() == 2
        # The stylesheet was applied, so it was allowed by the CSP and served.
        assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
        screenshot = tmp_path / "frontend.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert hosts == {f"127.0.0.1:{server.port}"}
    assert failed == []
    assert screenshot.stat().st_size > 1000
