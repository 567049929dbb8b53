"""The written report in a real browser: it loads from disk, draws every image, fetches nothing; no errors.

Headless Chromium through Playwright, using Debian's `chromium` package (Playwright's own browser
download is never used: nothing may be fetched). Without it the test is skipped, unless
SYNTHWRIGHT_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from test_report import mixed_inputs

from synthwright.validators.report import write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MISSING = "Debian's chromium is not installed (apt-get install chromium, or `make browser`)"
REQUIRED = os.environ.get("SYNTHWRIGHT_REQUIRE_BROWSER") == "1"


@pytest.mark.skipif(not Path(CHROMIUM).exists() and not REQUIRED, reason=MISSING)
def test_report_renders_in_headless_chromium_without_errors_or_network(tmp_path):
    assert Path(CHROMIUM).exists(), f"SYNTHWRIGHT_REQUIRE_BROWSER=1 but {MISSING}"
    executable = CHROMIUM
    evaluation, train, synthetic, contract = mixed_inputs()
    report = write_report(tmp_path / "report.html", evaluation, train, synthetic, contract, title="browser")

    console_errors, page_errors, requests = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri(), wait_until="load")
            pictures = page.evaluate(
                "() => Array.from(document.images, i => ({complete: i.complete, width: i.naturalWidth,"
                " alt: i.alt}))"
            )
            title = page.title()
            verdict = page.inner_text("#verdict")
            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert title == "browser" and "PASSED" in verdict
    assert len(pictures) == 5  # distributions, associations, pair errors, DCR, utility
    assert all(p["complete"] and p["width"] > 0 and p["alt"] for p in pictures), pictures
    assert console_errors == [] and page_errors == []
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests
    image = screenshot.read_bytes()
    assert image.startswith(PNG_SIGNATURE) and len(image) > 50_000
