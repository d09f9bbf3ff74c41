"""Patient text is only ever text; WeasyPrint may load nothing but the project's assets."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from helpers import decoded_payloads, open_pdf, text_of

from handouts.engine.fetcher import AssetFetcher, AssetRefused
from handouts.errors import RenderError
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.workspace import Workspace

PASSWD = Path("/etc/passwd")
PASSWD_MARK = "root:x:0:0"  # the first line of /etc/passwd on any Linux system
# Each attack names a file to load; "{canary}" is a file of the test's own, so the check
# does not depend on what this machine keeps in /etc.
ATTACKS = [
    '<img src="file:///etc/passwd">',
    '"><link rel=attachment href=file:///etc/passwd>',
    '<img src="{canary}">',
    '"><link rel=attachment href={canary}>',
    "<script>alert(1)</script>{{ 7*7 }}",
]


@pytest.fixture
def canary() -> Iterator[tuple[str, str]]:
    """(file URL, content) of a secret file with a content found nowhere else; in a
    short temporary path, so the attacks fit the 100-character fields."""
    folder = Path(tempfile.mkdtemp())
    secret = folder / "s"
    content = f"canary-{uuid.uuid4().hex}"
    secret.write_text(content + "\n")
    yield secret.as_uri(), content
    shutil.rmtree(folder)


def unspaced(text: str) -> str:
    return "".join(text.split())


def leaks(pdf: bytes, secrets: list[str]) -> list[str]:
    """The secrets found in the PDF's text or, decompressed, in any of its streams and
    strings (attachments, metadata, unreferenced objects)."""
    text = text_of(pdf)
    payloads = decoded_payloads(open_pdf(pdf))
    return [
        secret
        for secret in secrets
        if secret in text or any(secret.encode() in payload for payload in payloads)
    ]


@pytest.mark.parametrize("attack", ATTACKS)
def test_markup_in_patient_fields_prints_as_literal_text(workspace, canary, attack):
    url, secret = canary
    attack = attack.replace("{canary}", url)
    assert PASSWD_MARK in PASSWD.read_text()  # the leak below would be recognizable
    patient = PatientDetails(
        patient_name=attack, physician=attack, levels=attack[:40], notes=attack
    )
    request = HandoutRequest("vertebroplasty", "pre", patient=patient)
    html = workspace.renderer.html(request)
    assert attack not in html  # escaped, never markup
    pdf = workspace.renderer.pdf(request)
    # Spaces are left out of the comparison: a text extractor reads a wide kerning pair
    # (the "q j" of a random temporary folder's name) as a space between words.
    assert unspaced(attack) in unspaced(text_of(pdf))
    document = open_pdf(pdf)
    assert "/EmbeddedFiles" not in document.Root.get("/Names", {})
    assert not document.attachments
    assert leaks(pdf, [PASSWD_MARK, secret]) == []


def test_leak_check_finds_file_content_in_text_and_in_compressed_streams(workspace, canary):
    """The check above can fail: a secret printed on the page, or attached in a
    compressed stream (invisible to a search of the raw file bytes), is found."""
    _, secret = canary
    printed = workspace.renderer.pdf(
        HandoutRequest("vertebroplasty", "pre", patient=PatientDetails(notes=f"x {secret} x"))
    )
    assert leaks(printed, [PASSWD_MARK, secret]) == [secret]
    assert secret.encode() not in printed  # the page text is not in the raw bytes either

    document = open_pdf(workspace.renderer.pdf(HandoutRequest("vertebroplasty", "pre")))
    document.attachments["passwd"] = pikepdf.AttachedFileSpec(document, PASSWD.read_bytes())
    buffer = io.BytesIO()
    document.save(buffer, compress_streams=True)
    attached = buffer.getvalue()
    assert PASSWD_MARK.encode() not in attached  # what the old raw-bytes check looked at
    assert leaks(attached, [PASSWD_MARK, secret]) == [PASSWD_MARK]


def test_fetcher_serves_assets_under_its_roots(tmp_path):
    (tmp_path / "logo.svg").write_text("<svg/>")
    fetcher = AssetFetcher([tmp_path])
    response = fetcher.fetch((tmp_path / "logo.svg").as_uri())
    assert response.read() == b"<svg/>"
    assert response.content_type == "image/svg+xml"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/logo.png",
        "https://example.org/font.ttf",
        "data:text/plain,hello",
        "ftp://example.org/x",
    ],
)
def test_fetcher_refuses_everything_else(tmp_path, url):
    with pytest.raises(AssetRefused):
        AssetFetcher([tmp_path]).fetch(url)


def test_fetcher_refuses_symlink_and_dotdot_escapes(tmp_path):
    root = tmp_path / "clinic"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, root / "link.svg")
    fetcher = AssetFetcher([root])
    with pytest.raises(AssetRefused):
        fetcher.fetch((root / "link.svg").as_uri())
    with pytest.raises(AssetRefused):
        fetcher.fetch(root.as_uri() + "/../secret.txt")
    with pytest.raises(AssetRefused):
        fetcher.fetch(root.as_uri() + "/")  # a folder is not a regular file


def _override(clinic_copy: Path, name: str, text: str) -> Workspace:
    (clinic_copy / "templates").mkdir(exist_ok=True)
    (clinic_copy / "templates" / name).write_text(text)
    return Workspace.open(clinic_copy)


def test_refused_load_fails_the_document_instead_of_dropping_it(clinic_copy):
    workspace = _override(
        clinic_copy,
        "_masthead.html",
        '<header><img src="file:///etc/passwd" alt="x"><p>{{ clinic.name }}</p></header>',
    )
    with pytest.raises(RenderError, match="outside the asset folders"):
        workspace.renderer.pdf(HandoutRequest("kyphoplasty", "post"))


def test_attachment_link_in_clinic_template_fails(clinic_copy):
    workspace = _override(
        clinic_copy,
        "_masthead.html",
        '<header><link rel="attachment" href="file:///etc/hostname"></header>',
    )
    with pytest.raises(RenderError):
        workspace.renderer.pdf(HandoutRequest("kyphoplasty", "post"))


def test_missing_logo_file_fails_the_document(clinic_copy):
    workspace = Workspace.open(clinic_copy)
    (clinic_copy / "logo.svg").unlink()
    with pytest.raises(RenderError, match="not found"):
        workspace.renderer.pdf(HandoutRequest("kyphoplasty", "post"))


def test_clinic_templates_run_in_a_sandbox(clinic_copy):
    workspace = _override(
        clinic_copy, "_masthead.html", "{{ clinic.__class__.__mro__[1].__subclasses__() }}"
    )
    with pytest.raises(RenderError, match="_masthead.html"):
        workspace.renderer.html(HandoutRequest("kyphoplasty", "post"))


def test_unknown_template_variable_is_an_error(clinic_copy):
    workspace = _override(clinic_copy, "_masthead.html", "<p>{{ clinic.fax_number }}</p>")
    with pytest.raises(RenderError, match="fax_number"):
        workspace.renderer.html(HandoutRequest("kyphoplasty", "post"))


def test_clinic_override_can_extend_the_builtin_template(clinic_copy):
    workspace = _override(
        clinic_copy,
        "_masthead.html",
        '{% include "default:_masthead.html" %}<p class="banner">Parking is free in lot B.</p>',
    )
    pdf = workspace.renderer.pdf(HandoutRequest("kyphoplasty", "post"))
    text = text_of(pdf)
    assert "Parking is free in lot B." in text
    assert "Riverbend Spine Center" in text
