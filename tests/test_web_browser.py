"""End to end in a real browser: Playwright drives Debian's chromium (no browser download)."""

from __future__ import annotations

import shutil
import threading

import pytest
from conftest import text_of
from test_web import stop

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
    stop(server, thread)


@pytest.fixture(scope="module")
def browser(server_url):
    """Closed before the server: a PDF viewer still loading must not outlive it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


def fill_rosa(page) -> None:
    """A complete, valid form: a Spanish kyphoplasty handout for one patient."""
    page.check("input[name=procedure][value=kyphoplasty]")
    page.select_option("#language", "es")
    page.fill("#patient_name", "Rosa Delgado Ibáñez")
    page.fill("#procedure_date", "2026-12-01")
    page.fill("#arrival_time", "07:30")
    page.fill("#physician", "Dra. Okafor")


def test_fill_preview_download_and_print(browser, server_url, tmp_path):
    page = browser.new_page(accept_downloads=True)
    page.goto(server_url)
    fill_rosa(page)

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
        "[...document.querySelectorAll('input:not([type=hidden]):not([type=radio]):not([type=checkbox]),"
        " select, textarea')].every(e => e.labels && e.labels.length > 0)"
    )
    assert labels
    page.close()


# Accessibility: axe-core (bundled inside axe-playwright-python, injected into the page by
# Playwright; nothing is fetched at run time) with the WCAG 2.0 and 2.1 level A and AA rules.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def show_empty_form(page) -> None:
    pass  # the form as GET / serves it


def show_errors(page) -> None:
    # A date or time picker cannot hold a bad value; as plain text fields, the server must catch it
    for field, bad in (("procedure_date", "2026-13-45"), ("arrival_time", "25:99")):
        page.evaluate(f"document.getElementById('{field}').type = 'text'")
        page.fill(f"#{field}", bad)
    with page.expect_navigation() as navigation:
        page.click("#download-button")
    assert navigation.value.status == 400
    assert page.locator("#procedure_date-error").is_visible()
    assert page.locator("#arrival_time-error").is_visible()
    assert page.get_by_role("alert").inner_text().startswith("Please fix the 2 fields")


def show_preview(page) -> None:
    fill_rosa(page)
    with page.expect_response(lambda r: r.url.endswith("/handout")) as preview:
        page.click("#preview-button")
    assert preview.value.headers["content-type"] == "application/pdf"
    frame = page.frame(name="preview")
    assert frame is not None
    frame.wait_for_url("**/handout")  # the PDF shows in the frame (Chromium's PDF viewer)


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_AA_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options).response
    assert results["passes"], "axe ran no rule: was it injected?"
    return results["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"]:
            lines.append(f"    at {' > '.join(map(str, node['target']))}: {node['html'][:160]}")
            if node.get("failureSummary"):
                lines.extend(f"        {line}" for line in node["failureSummary"].splitlines())
    return "\n".join(lines)


@pytest.mark.parametrize(
    "show", [show_empty_form, show_errors, show_preview], ids=["empty", "errors", "preview"]
)
def test_form_has_no_wcag_aa_violations(page, server_url, show):
    page.goto(server_url)
    show(page)
    violations = axe_violations(page)
    found = [v["id"] for v in violations]
    assert found == [], f"axe found WCAG A/AA violations:\n{describe(violations)}"
