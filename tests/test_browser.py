"""A real browser (headless Chromium) on one origin calling `adapter serve` on another: preflighted JSON and
multipart uploads work from an allowed origin, and the browser blocks a page on any other origin.

Skips when Chromium, chromedriver or selenium are missing, except in CI (`CI=true`), where that is a failure:
CI (`.ci/run`) installs them, and a skipped browser test would prove nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from targets import Serve, script_env

PAGE = Path(__file__).resolve().parent / "browser" / "cors_page.html"
KEY = "browser-test-key"
#: Headless, and nothing but the loopback traffic the test makes: no sync, updates, field trials or first-run work.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    if not chromium_binary():
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def chromium_binary() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


class PageServer:
    """A static origin: serves the probe page at `/` from 127.0.0.1 on its own port."""

    def __init__(self) -> None:
        page = PAGE.read_bytes()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path == "/"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the browser test cannot run: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as ChromeService

    profile = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary() or ""
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile / 'profile'}"):
        options.add_argument(flag)
    # An explicit chromedriver path: Selenium Manager (which would download one) never runs.
    service = ChromeService(executable_path=shutil.which("chromedriver"), log_output=str(profile / "driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[PageServer, PageServer]]:
    """The allowed origin and another one, distinct by port."""
    allowed, other = PageServer(), PageServer()
    yield allowed, other
    allowed.stop()
    other.stop()


@pytest.fixture(scope="module")
def servers(
    pages: tuple[PageServer, PageServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Serve]]:
    """`adapter serve` for a schema-decorated script (with AML keys) and for a `@rawhttp` one, allowing the first
    page origin only."""
    logs = tmp_path_factory.mktemp("browser-serve")
    origin = pages[0].origin
    started: dict[str, Serve] = {}
    try:
        started["schema"] = Serve(
            script_env("schema_numpy.py", AML_CORS_ORIGINS=origin, AML_SCORING_KEYS=KEY),
            logs / "schema.log",
            clean=True,
        )
        started["raw"] = Serve(script_env("raw_http.py", AML_CORS_ORIGINS=origin), logs / "raw.log", clean=True)
        yield started
    finally:
        for server in started.values():
            server.stop()


def call(driver: Any, page: PageServer, function: str, *args: str) -> dict[str, Any]:
    """Run one of the page's functions in the page (so with the page's origin) and return what it resolved to."""
    if driver.current_url.rstrip("/") != page.origin:
        driver.get(page.origin + "/")
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window[arguments[0]](...Array.from(arguments).slice(1, -1)).then(done);",
        function,
        *args,
    )
    return result


def access_lines(server: Serve, method: str, at_least: int = 0) -> int:
    """How many log lines of `server` name a `method` request to /score: evidence of what reached it (the log may
    trail the answer a little, so wait up to a few seconds for `at_least` of them)."""
    pattern = re.compile(rf"\b{method} /score\b")
    deadline = time.monotonic() + 5
    while True:
        count = len(pattern.findall(server.log.read_text()))
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def test_preflighted_json_post_with_a_key_reaches_a_schema_script(browser, pages, servers) -> None:  # type: ignore[no-untyped-def]
    allowed, _ = pages
    server = servers["schema"]
    result = call(browser, allowed, "scoreJson", server.base, KEY)
    assert result == {"ok": True, "status": 200, "body": [6.0, 15.0]}
    assert access_lines(server, "OPTIONS", at_least=1) >= 1  # the browser asked first, and the adapter answered
    # Without the key the page still reads the 401, so it can tell the user what is wrong.
    unauthorized = call(browser, allowed, "scoreJson", server.base, "")
    assert unauthorized["ok"] and unauthorized["status"] == 401
    assert "Authorization: Bearer" in unauthorized["body"]["message"]


def test_multipart_upload_of_a_canvas_png_reaches_a_raw_script(browser, pages, servers) -> None:  # type: ignore[no-untyped-def]
    allowed, _ = pages
    result = call(browser, allowed, "uploadImage", servers["raw"].base)
    assert result["ok"] and result["status"] == 200, result
    body = result["body"]
    assert body["form"] == {"label": ["cat", "chat noir ✓"]}
    image, blob = body["files"]
    assert (image["field"], image["filename"], image["content_type"]) == ("image", "canvas.png", "image/png")
    assert (image["size"], image["sha256"]) == (result["png"]["size"], result["png"]["sha256"])
    assert image["image"] == {"size": [32, 24], "mode": "RGBA"}
    sent = bytes([0, 13, 10, 255, 45, 45, 13, 10])
    assert (blob["filename"], blob["size"], blob["sha256"]) == (
        "bytes.bin",
        len(sent),
        hashlib.sha256(sent).hexdigest(),
    )


def test_image_bytes_come_back_unchanged_to_the_page(browser, pages, servers) -> None:  # type: ignore[no-untyped-def]
    allowed, _ = pages
    result = call(browser, allowed, "echoBytes", servers["raw"].base)
    assert result["ok"] and result["status"] == 200, result
    assert result["contentType"] == "image/jpeg"
    assert result["sha256"] == result["sent"] and result["size"] > 0


def test_a_page_on_another_origin_is_blocked_by_the_browser(browser, pages, servers) -> None:  # type: ignore[no-untyped-def]
    allowed, other = pages
    raw = servers["raw"]
    start = access_lines(raw, "POST")
    assert call(browser, allowed, "simplePost", raw.base)["ok"]  # the same call works from the allowed origin

    posts_before = access_lines(raw, "POST", at_least=start + 1)
    for function, base in (("uploadImage", raw.base), ("scoreJson", servers["schema"].base)):
        blocked = call(browser, other, function, base)
        assert (blocked["ok"], blocked["error"]) == (False, "TypeError"), blocked
    # Their preflights got no grant, so the browser never sent the POSTs.
    assert access_lines(raw, "POST") == posts_before

    # A simple request is sent without asking, but without a grant the page cannot read the answer.
    simple = call(browser, other, "simplePost", raw.base)
    assert (simple["ok"], simple["error"]) == (False, "TypeError"), simple
    assert access_lines(raw, "POST", at_least=posts_before + 1) > posts_before
