"""Browser tests of the built book and of the chapters in JupyterLab (headless Chromium).

They need a built book (``make book``) and a Chromium binary, so they run only when asked:
``make browser`` (or ``INITCOURSE_BROWSER=1 pytest tests/browser``). In the plain unit run
(``pytest tests``) they are skipped and no browser starts.

Settings, all optional:

- ``INITCOURSE_BOOK_HTML``: the built HTML folder (default ``_build/html``);
- ``INITCOURSE_CHROMIUM``: the Chromium executable (default ``/usr/bin/chromium``).

Every request that does not go to the local test server is aborted and reported: the book
must work with no network.
"""

from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENABLED = os.environ.get("INITCOURSE_BROWSER", "") not in ("", "0")
HTML_DIR = pathlib.Path(os.environ.get("INITCOURSE_BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM = os.environ.get("INITCOURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="browser test: run with `make browser` (INITCOURSE_BROWSER=1)")
    here = pathlib.Path(__file__).parent
    for item in items:
        if here in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(skip)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser closed a page while a file was still being sent


@pytest.fixture(scope="session")
def book_server():
    """The built book, served over HTTP on a free local port; yields its base URL."""
    if not (HTML_DIR / "index.html").is_file():
        pytest.fail(f"no built book in {HTML_DIR}: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not (shutil.which(CHROMIUM) or pathlib.Path(CHROMIUM).is_file()):
        pytest.fail(f"no Chromium at {CHROMIUM} (install Debian's `chromium`, or set INITCOURSE_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def offline_context(browser):
    """``offline_context(allowed_prefix, **kwargs) -> (context, blocked)``: a browser
    context in which every request outside ``allowed_prefix`` is aborted; ``blocked``
    is the list of the aborted URLs, filled in as pages make requests."""
    contexts = []

    def make(allowed_prefix: str, **kwargs):
        context = browser.new_context(**kwargs)
        blocked: list[str] = []

        def route(route):
            url = route.request.url
            if url.startswith(allowed_prefix) or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        context.route("**/*", route)
        contexts.append(context)
        return context, blocked

    yield make
    for context in contexts:
        context.close()
