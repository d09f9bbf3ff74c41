"""End to end in a real browser: Playwright drives Debian's chromium (no browser download)."""

from __future__ import annotations

import shutil
import threading

import pytest
from conftest import text_of

from handouts.web.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server_url():
    import waitress.server

    server = waitress.server.create_server(create_app(), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_fill_preview_download_and_print(browser, server_url, tmp_path):
    page = browser.new_page(accept_downloads=True)
    page.goto(server_url)
    page.check("input[name=procedure][value=kyphoplasty]")
    page.select_option("#language", "es")
    page.fill("#patient_name", "Rosa Delgado Ibáñez")
    page.fill("#procedure_date", "2026-12-01")
    page.fill("#arrival_time", "07:30")
    page.fill("#physician", "Dra. Okafor")

    with page.expect_response(lambda r: r.url.endswith("/handout")) as preview:
        page.click("#preview-button")
    assert preview.value.status == 200
    assert preview.value.headers["content-type"] == "application/pdf"
    assert page.frame(name="preview") is not None

    with page.expect_download() as download_info:
        page.click("#download-button")
    download = download_info.value
    assert download.suggested_filename == "kyphoplasty-pre-es.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = text_of(target.read_bytes())
    assert "Rosa Delgado Ibáñez" in text
    assert "Cómo prepararse para su cifoplastia" in text
    assert "martes, 1 de diciembre de 2026" in text

    with page.expect_response(lambda r: r.url.endswith("/handout")) as printed:
        page.click("#print-button")
    assert printed.value.status == 200
    page.close()


def test_keyboard_only_and_errors_next_to_the_field(browser, server_url):
    page = browser.new_page()
    page.goto(server_url)
    page.keyboard.press("Tab")  # the first control takes focus from the keyboard
    focused = page.evaluate("document.activeElement.name || document.activeElement.id")
    assert focused == "procedure"
    page.fill("#patient_name", "Kept Value")
    page.fill("#notes", "n" * 601)  # maxlength stops typing past 600
    assert len(page.input_value("#notes")) == 600
    # A value the browser cannot stop (a date before 1900 is allowed): check the server message
    page.evaluate("document.getElementById('arrival_time').type = 'text'")
    page.fill("#arrival_time", "25:99")
    with page.expect_navigation():
        page.click("#download-button")
    assert page.locator("#arrival_time-error").inner_text().startswith("Not a valid time")
    assert page.input_value("#patient_name") == "Kept Value"
    labels = page.evaluate(
        "[...document.querySelectorAll('input:not([type=radio]):not([type=checkbox]),"
        " select, textarea')].every(e => e.labels && e.labels.length > 0)"
    )
    assert labels
    page.close()
