"""The nurse-station web form over HTTP: routes, status codes, headers, errors, escaping."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest
from helpers import REPO, open_pdf, text_of

from handouts.web.app import create_app, warning_for

NAME = "Zelda Quixote-Nakamura"


@pytest.fixture(scope="module")
def client():
    app = create_app()
    app.testing = True
    return app.test_client()


def _post(client, **fields):
    data = {"procedure": "kyphoplasty", "phase": "pre", "language": "en", **fields}
    return client.post("/handout", data=data)


class _FormControls(HTMLParser):
    """A page's form controls and the text of the labels naming them: a <label for=id>
    or a <label> wrapped around the control (the two ways HTML gives a control its name)."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []  # attributes, plus "wrapped_by"
        self.labels: dict[str, str] = {}  # for= -> label text
        self.ids: list[str] = []
        self._label: dict[str, str] | None = None  # the open <label>: for= and its text
        self._label_text: list[str] = []
        self._wrapped: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "label":
            self._label = {"for": attributes.get("for") or ""}
            self._label_text, self._wrapped = [], []
        elif tag in ("input", "select", "textarea") and attributes.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            control = {"tag": tag, **attributes, "wrapped_by": None}
            self.controls.append(control)
            if self._label is not None:
                self._wrapped.append(control)

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            text = " ".join("".join(self._label_text).split())
            if self._label["for"]:
                self.labels[self._label["for"]] = text
            for control in self._wrapped:
                control["wrapped_by"] = text
            self._label = None


def unlabelled_controls(html: str) -> list[str]:
    """Controls of the page with no label text: neither a <label for> naming their id
    nor a <label> around them. Also flags labels that point at no control."""
    parser = _FormControls()
    parser.feed(html)
    problems = []
    control_ids = [c.get("id") for c in parser.controls if c.get("id")]
    for control in parser.controls:
        name = str(control.get("id") or control.get("name"))
        explicit = parser.labels.get(str(control.get("id")), "") if control.get("id") else ""
        if not (explicit or control["wrapped_by"]):
            problems.append(name)
    problems += [f"label for {target}" for target in parser.labels if target not in control_ids]
    problems += [f"duplicate id {i}" for i in set(parser.ids) if parser.ids.count(i) > 1]
    return problems


def form_controls(html: str) -> dict[str, str]:
    """{id or name/value: label text} of every control."""
    parser = _FormControls()
    parser.feed(html)
    found = {}
    for control in parser.controls:
        key = str(control.get("id") or f"{control.get('name')}={control.get('value')}")
        found[key] = parser.labels.get(key) or str(control["wrapped_by"])
    return found


def test_form_has_labelled_fields_and_the_handout_list(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert unlabelled_controls(html) == []
    assert form_controls(html) == {
        "procedure=vertebroplasty": "Vertebroplasty",
        "procedure=kyphoplasty": "Kyphoplasty",
        "phase=pre": "Before the procedure",
        "phase=post": "After the procedure",
        "language": "Language",
        "large_print": "Large print",
        "patient_name": "Patient name",
        "procedure_date": "Procedure date",
        "arrival_time": "Arrival time",
        "physician": "Doctor",
        "levels": "Spine bones treated",
        "notes": "Notes from the care team",
        "medicine_plan": "Medicine plan",
        **{
            f"med-{row}-{field}": f"Medicine {row}: {label}"
            for row in range(1, 7)
            for field, label in (
                ("name", "name"),
                ("morning", "take it the morning of the procedure?"),
                ("last_dose", "last dose on"),
                ("restart", "start again on"),
            )
        },
        "diabetes_plan": "Diabetes plan from the care team",
    }
    assert 'type="date" id="procedure_date"' in html and 'type="time" id="arrival_time"' in html
    assert html.count('type="radio" name="procedure"') == 2
    assert "Riverbend Spine Center" in html and 'src="/logo"' in html
    assert "Cómo prepararse para su cifoplastia" in html and "translation-pending" in html
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('<label for="physician">Doctor</label>', "<span>Doctor</span>", "physician"),
        ('<label for="notes">', '<label for="note">', "notes"),
        ('for="levels">Spine bones treated</label>', 'for="levels"></label>', "levels"),
        (
            '<label class="choice"><input type="checkbox" id="large_print"',
            '<span class="choice"><input type="checkbox" id="large_print"',
            "large_print",
        ),
    ],
)
def test_label_check_can_fail(client, old, new, problem):
    html = client.get("/").get_data(as_text=True)
    assert old in html
    assert problem in unlabelled_controls(html.replace(old, new, 1))


def test_personalized_pdf_inline_and_as_download(client):
    response = _post(client, patient_name=NAME, procedure_date="2026-12-01", arrival_time="07:30")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="kyphoplasty-pre-en.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    text = text_of(response.data)
    assert NAME in text and "Getting ready for your kyphoplasty" in text
    download = _post(client, patient_name=NAME, download="1", language="es", large_print="1")
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="kyphoplasty-pre-es-large.pdf"'
    )
    assert NAME not in download.headers["Content-Disposition"]
    assert len(open_pdf(download.data).pages) > 4


def test_blank_handout_needs_no_patient_fields(client):
    response = client.post("/handout", data={"procedure": "vertebroplasty", "phase": "post"})
    assert response.status_code == 200
    assert "Caring for yourself after vertebroplasty" in text_of(response.data)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"procedure_date": "2026-13-45"}, "procedure_date", "Not a valid date"),
        ({"arrival_time": "25:00"}, "arrival_time", "Not a valid time"),
        ({"procedure": "fusion"}, "procedure", "Must be one of: vertebroplasty, kyphoplasty."),
        ({"language": "xx"}, "language", "Must be one of: en, es, vi, zh-Hans."),
        ({"large_print": "maybe"}, "large_print", "Use yes or no."),
        ({"patient_name": "x" * 150}, "patient_name", "at most 100 characters"),
        ({"notes": "y" * 5000}, "notes", "This is too long (at most 2000 characters)."),
    ],
)
def test_bad_values_return_the_form_with_errors_and_typed_values(client, fields, field, message):
    response = _post(client, physician="Dr. Typed Value", **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-error">' in html and message in html
    assert 'aria-invalid="true"' in html
    assert 'value="Dr. Typed Value"' in html  # what was typed is kept
    assert response.headers["Cache-Control"] == "no-store"


def test_oversized_request_is_a_400_not_a_500(client):
    response = client.post("/handout", data={"procedure": "kyphoplasty", "notes": "z" * 100_000})
    assert response.status_code == 400
    assert "The form is too large" in response.get_data(as_text=True)


def test_markup_is_escaped_in_the_form_and_literal_in_the_pdf(client):
    attack = '"><script>alert(1)</script>'
    response = _post(client, patient_name=attack, arrival_time="nope")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html or "&#34;&gt;&lt;script&gt;" in html
    pdf = _post(client, patient_name=attack)
    assert attack in text_of(pdf.data)


def test_nothing_about_the_patient_is_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    _post(client, patient_name=NAME, procedure_date="1961-04-12", notes="canary-note")
    _post(client, patient_name=NAME, procedure_date="1961-13-12")
    logged = " ".join(r.getMessage() for r in caplog.records)
    for value in (NAME, "1961", "canary-note"):
        assert value not in logged


def test_other_routes(client):
    assert client.get("/logo").mimetype == "image/svg+xml"
    assert "--primary: #1f4e79" in client.get("/brand.css").get_data(as_text=True)
    assert client.get("/fonts/AtkinsonHyperlegibleNext-Regular.ttf").status_code == 200
    assert client.get("/fonts/..%2Fbase.css").status_code == 404
    script = client.get("/static/form.js")
    assert script.status_code == 200 and "print()" in script.get_data(as_text=True)
    script.close()
    assert client.get("/handout").status_code == 405
    assert client.get("/nope").status_code == 404


def test_binding_beyond_loopback_warns():
    assert warning_for("127.0.0.1") is None and warning_for("::1") is None
    warning = warning_for("0.0.0.0")
    assert warning and "authentication and TLS" in warning and "cross the network" in warning


def test_concurrent_requests_each_get_their_own_patient():
    import waitress.server

    app = create_app()
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
    port = server.effective_port
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:

        def fetch(i: int) -> tuple[int, bytes]:
            body = urllib.parse.urlencode(
                {
                    "procedure": "kyphoplasty",
                    "phase": "post",
                    "patient_name": f"Patient Number {i:03d}",
                }
            ).encode()
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/handout", body, timeout=120
            ) as response:
                return i, response.read()

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(fetch, range(8)))
        for i, pdf in results:
            text = text_of(pdf)
            assert f"Patient Number {i:03d}" in text
            assert sum(f"Patient Number {j:03d}" in text for j in range(8)) == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200
    finally:
        stop(server, thread)


def stop(server, thread: threading.Thread) -> None:
    """Waits for the handler threads (one still finishing a response would write to the
    closed wake-up pipe), then closes every socket from the server's own loop and waits
    for the loop to end: a close from this thread races the loop's select, which then
    fails with EBADF in the server thread and fails a later test of the same worker."""
    from waitress import wasyncore

    server.task_dispatcher.shutdown(cancel_pending=False, timeout=60)
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))  # noqa: SLF001
    thread.join(timeout=60)
    assert not thread.is_alive(), "the server's loop did not stop"


def test_language_list_comes_from_the_content_folders_in_each_own_name(client):
    """One option per content folder, named in its own language and marked with its
    language; a Chinese handout comes back from the form."""
    page = client.get("/").get_data(as_text=True)
    folders = sorted(p.parent.name for p in (REPO / "content").glob("*/strings.yaml"))
    options = re.findall(r'<option value="([^"]+)" lang="([^"]+)"[^>]*>([^<]+)</option>', page)
    languages = [(value, name) for value, lang, name in options if value == lang]
    assert [value for value, _ in languages] == folders
    assert ("zh-Hans", "简体中文") in languages and ("vi", "Tiếng Việt") in languages
    response = client.post(
        "/handout", data={"procedure": "kyphoplasty", "phase": "post", "language": "zh-Hans"}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert str(open_pdf(response.data).Root.Lang) == "zh-Hans"


# -- cross-site requests -----------------------------------------------------------------


def test_a_post_from_the_forms_own_page_is_served(client):
    same = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    response = client.post("/handout", data=_form(), headers=same)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    referred = client.post("/handout", data=_form(), headers={"Referer": "http://localhost/"})
    assert referred.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame or a file: page
        {"Origin": "http://localhost:9999"},  # another port is another origin
        {"Referer": "http://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost"},
    ],
)
def test_a_post_from_another_site_is_refused(client, headers):
    response = client.post("/handout", data=_form(), headers=headers)
    assert response.status_code == 403
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_request_for_another_host_name_is_refused(client, method):
    """DNS rebinding: a site whose name resolves to 127.0.0.1 sends its own Host."""
    headers = {"Host": "evil.example:8080", "Origin": "http://evil.example:8080"}
    response = getattr(client, method)("/" if method == "get" else "/handout", headers=headers)
    assert response.status_code == 403


def test_the_server_answers_its_own_names():
    from handouts.options import ServeOptions
    from handouts.web.app import server_names

    options = ServeOptions.create(host="10.1.2.3", allowed_hosts=("desk-pc.clinic.example",))
    app = create_app(hosts=server_names(options))
    client = app.test_client()
    for host in ("10.1.2.3:8080", "desk-pc.clinic.example", "127.0.0.1:8080", "[::1]:8080"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    assert client.get("/", headers={"Host": "other.example"}).status_code == 403


def machine_addresses() -> set[str]:
    """This machine's addresses as `hostname -I` lists them (not the code under test)."""
    done = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.split():
        pytest.skip("`hostname -I` lists no address here")
    return set(done.stdout.split())


@pytest.mark.parametrize("any_address", ["0.0.0.0", "::"])
def test_listening_everywhere_the_server_answers_its_own_addresses(any_address):
    """A nurse reaching http://10.x.x.x:8080/ by the server's address is served."""
    from handouts.options import ServeOptions
    from handouts.web.app import server_names

    app = create_app(hosts=server_names(ServeOptions.create(host=any_address)))
    client = app.test_client()
    for address in machine_addresses():
        host = f"[{address}]:8080" if ":" in address else f"{address}:8080"
        assert client.get("/", headers={"Host": host}).status_code == 200, host


def test_a_refused_host_is_logged_with_the_way_to_allow_it(client, caplog):
    with caplog.at_level(logging.WARNING, logger="handouts"):
        response = client.get("/", headers={"Host": "desk-pc.clinic.example:8080"})
    assert response.status_code == 403
    assert caplog.messages == [
        "refused a request for host 'desk-pc.clinic.example:8080': not one of this "
        "server's names (if browsers reach it by that name, start serve with --allow-host)"
    ]


def test_the_form_carries_its_token_and_a_preview_needs_none(client):
    """Only a print (which the server makes only with desk queues) checks the token."""
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<input type="hidden" name="token" value="[0-9a-f]{64}">', page)
    assert _post(client).status_code == 200


def _form() -> dict[str, str]:
    return {"procedure": "kyphoplasty", "phase": "pre", "language": "en"}
