"""`make-handouts review` (a packet for the committee and translators) and
`make-handouts approve` (records an approval of the current text): see approvals.py."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from pydantic import ValidationError

from handouts.content.approvals import (
    FINGERPRINT_PREFIX,
    REFERENCE_LANGUAGE,
    Approval,
    Role,
    fingerprint,
    review_text,
    short_fingerprint,
    strings_text,
)
from handouts.engine.formats import text_direction
from handouts.engine.render import PAGE_TEMPLATES
from handouts.errors import HandoutError
from handouts.model.request import PHASES, PROCEDURES, HandoutRequest, PatientDetails
from handouts.workspace import Workspace

_SECTION = re.compile(r"<section\b[^>]*>")
_ID = re.compile(r'\bid="([^"]+)"')
_CLASS = re.compile(r'\bclass="([^" ]+)')
SIGN_OFF_CSS = """
@page { size: letter; margin: 0.75in; }
body { font-family: "Atkinson Hyperlegible", "Noto Sans", "Noto Sans CJK SC", sans-serif;
       font-size: 11pt; line-height: 1.4; color: #111; }
h1 { font-size: 16pt; margin: 0 0 8pt; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 0.75pt solid #777; padding: 4pt 6pt; vertical-align: top; text-align: start; }
th { background: #eef2f7; }
td p { margin: 0 0 3pt; }
.id { font-family: monospace; font-size: 8pt; overflow-wrap: anywhere; }
th.id { white-space: nowrap; }
.sign td { height: 0.45in; }
"""


def handout_ids() -> list[str]:
    return [f"{procedure}-{phase}" for procedure in PROCEDURES for phase in PHASES]


def _split(handout_id: str) -> tuple[str, str]:
    procedure, phase = handout_id.rsplit("-", 1)
    return procedure, phase


def sections_of(workspace: Workspace, handout_id: str, lang: str) -> dict[str, list[str]]:
    """The reviewed text of a handout, by section id (the part before the first section,
    the title and main message, is "title")."""
    procedure, phase = _split(handout_id)
    renderer = workspace.renderer
    blank = HandoutRequest(procedure, phase, lang, False, PatientDetails())
    context = renderer.context(blank, review="")
    html = renderer.template(PAGE_TEMPLATES[phase], context)
    marks = list(_SECTION.finditer(html))
    parts = {"title": html[: marks[0].start()] if marks else html}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(html)
        found = _ID.search(mark.group()) or _CLASS.search(mark.group())
        parts[found.group(1) if found else f"part-{len(parts)}"] = html[mark.start() : end]
    sections = {key: review_text(chunk).splitlines() for key, chunk in parts.items()}
    # Then each label and sentence of strings.yaml (the medicine plan's lines...), a row
    # each: what the approved text holds besides the blank handout (approvals.py).
    lines = strings_text(workspace.library.strings(lang), context["text"].values)
    for line in lines.splitlines()[1:]:
        name, _, text = line.partition(": ")
        sections[name] = [text]
    return sections


@dataclass(frozen=True)
class PacketItem:
    handout: str
    lang: str
    files: tuple[Path, ...]
    approved: bool


def write_packet(workspace: Workspace, out: Path, languages: list[str]) -> list[PacketItem]:
    """For each handout and language: the blank PDF, the text, what changed since the
    last approval, a side-by-side file for a translation and a sign-off sheet."""
    renderer = workspace.renderer
    items = []
    for lang in languages:
        folder = out / lang
        folder.mkdir(parents=True, exist_ok=True)
        for handout_id in handout_ids():
            procedure, phase = _split(handout_id)
            text = renderer.review_text(procedure, phase, lang)
            stem = folder / handout_id
            files = [
                stem.with_suffix(".pdf"),
                Path(f"{stem}-text.txt"),
                Path(f"{stem}-changes.txt"),
            ]
            files[0].write_bytes(renderer.pdf(HandoutRequest(procedure, phase, lang)))
            files[1].write_text(text, encoding="utf-8")
            files[2].write_text(changes(workspace, handout_id, lang, text), encoding="utf-8")
            if lang != REFERENCE_LANGUAGE:
                side = Path(f"{stem}-side-by-side.pdf")
                side.write_bytes(side_by_side(workspace, handout_id, lang))
                files.append(side)
            sheet = Path(f"{stem}-sign-off.pdf")
            sheet.write_bytes(sign_off(workspace, handout_id, lang, text))
            files.append(sheet)
            standing = renderer.standing(procedure, phase, lang)
            items.append(PacketItem(handout_id, lang, tuple(files), standing.approved))
    return items


def _role(lang: str) -> Role:
    return "clinician" if lang == REFERENCE_LANGUAGE else "translator"


def changes(workspace: Workspace, handout_id: str, lang: str, text: str) -> str:
    """A readable diff of the text against the last approved text of this language."""
    book = workspace.renderer.approvals
    last = book.latest(handout_id, lang, _role(lang))
    before = book.approved_text(last) if last else None
    if last is None or before is None:
        return (
            f"{handout_id} ({lang}): no earlier {_role(lang)} approval on record; "
            "the whole text is to be reviewed.\n"
        )
    if before == text:
        return f"{handout_id} ({lang}): unchanged since the approval of {last.on} ({last.by}).\n"
    diff = difflib.unified_diff(
        before.splitlines(),
        text.splitlines(),
        f"approved {last.on} ({last.by})",
        "current text",
        lineterm="",
    )
    return "\n".join(diff) + "\n"


def _page(title: str, lang: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>"
    )


def _render(workspace: Workspace, html: str, layout: str) -> bytes:
    renderer = workspace.renderer
    styles = [renderer.font_css, renderer.stylesheet(string=SIGN_OFF_CSS)]
    return renderer.render_html(html, styles, layout).data


def side_by_side(workspace: Workspace, handout_id: str, lang: str) -> bytes:
    """English and the translation, section by section, matched by section id."""
    english = sections_of(workspace, handout_id, REFERENCE_LANGUAGE)
    translated = sections_of(workspace, handout_id, lang)
    keys = [*english, *(key for key in translated if key not in english)]
    direction = text_direction(lang)

    def cell(lines: list[str] | None, code: str, side: str) -> str:
        if lines is None and code == REFERENCE_LANGUAGE:  # a setting of the translation
            return "<td><p>(none: a setting of this language)</p></td>"
        if lines is None:
            return '<td class="missing"><p><strong>MISSING</strong></p></td>'
        paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
        return f'<td lang="{code}" dir="{side}">{paragraphs}</td>'

    rows = "".join(
        f'<tr><th scope="row" class="id">{escape(key)}</th>'
        f"{cell(english.get(key), REFERENCE_LANGUAGE, 'ltr')}"
        f"{cell(translated.get(key), lang, direction)}</tr>"
        for key in keys
    )
    body = (
        '<table><colgroup><col style="width: 22%"><col style="width: 39%">'
        '<col style="width: 39%"></colgroup><thead><tr><th scope="col">Section</th>'
        f'<th scope="col">English</th><th scope="col">{escape(lang)}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    title = f"{handout_id}: English and {lang}, side by side"
    return _render(workspace, _page(title, "en", body), f"side-by-side {handout_id} {lang}")


def sign_off(workspace: Workspace, handout_id: str, lang: str, text: str) -> bytes:
    """The sheet a reviewer signs: which text (its fingerprint) and the command that
    records the approval."""
    role = _role(lang)
    handout = workspace.library.handout(lang, *_split(handout_id))
    digest = fingerprint(text)
    command = (
        f'make-handouts approve {handout_id} --lang {lang} --role {role} --by "NAME, '
        f'CREDENTIALS" --on YYYY-MM-DD --fingerprint {short_fingerprint(digest)}'
    )
    facts = [
        ("Clinic", workspace.clinic.config.clinic.name),
        ("Handout", f"{handout_id}, version {handout.version}"),
        ("Language", lang),
        (
            "Review by",
            "a clinician (the English text)"
            if role == "clinician"
            else "a qualified medical translator (this translation)",
        ),
        ("Text fingerprint (SHA-256)", digest),
        ("Record the approval with", command),
    ]
    mono = ' class="id"'
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th>'
        f"<td{mono if name.startswith(('Text', 'Record')) else ''}>{escape(value)}</td></tr>"
        for name, value in facts
    )
    blanks = "".join(
        f'<tr class="sign"><th scope="row">{name}</th><td></td></tr>'
        for name in ("Name and credentials", "Signature", "Date")
    )
    body = (
        "<p>I reviewed the text named by the fingerprint below (the blank handout and its "
        "text file in this packet) and approve it for patients of this clinic.</p>"
        f'<table><colgroup><col style="width: 30%"><col style="width: 70%"></colgroup>'
        f"<tbody>{rows}{blanks}</tbody></table>"
    )
    title = f"Sign-off: {handout_id} ({lang})"
    return _render(workspace, _page(title, "en", body), f"sign-off {handout_id} {lang}")


def approve(
    workspace: Workspace,
    handout_id: str,
    lang: str,
    role: Role,
    by: str,
    on: dt.date,
    expected: str | None = None,
) -> tuple[Approval, Path]:
    """Records an approval of the current text; a clear HandoutError when it cannot."""
    if handout_id not in handout_ids():
        raise HandoutError(f"no such handout '{handout_id}' (one of: {', '.join(handout_ids())})")
    if lang not in workspace.library.languages():
        raise HandoutError(
            f"no language '{lang}' (one of: {', '.join(workspace.library.languages())})"
        )
    if role != _role(lang):
        raise HandoutError(
            f"a {role} does not approve the {lang} text: a clinician approves the English "
            "text, a translator each translation"
        )
    if on > dt.date.today():
        raise HandoutError(f"--on {on} is in the future")
    text = workspace.renderer.review_text(*_split(handout_id), lang)
    digest = fingerprint(text)
    if expected is not None and (
        len(expected) < FINGERPRINT_PREFIX or not digest.startswith(expected.lower())
    ):
        raise HandoutError(
            f"the text of {handout_id} ({lang}) changed since the sign-off sheet "
            f"({expected}): its fingerprint is now {short_fingerprint(digest)}; "
            "make a new review packet"
        )
    try:
        approval = Approval(
            handout=handout_id,
            lang=lang,
            role=role,
            by=by.strip(),
            on=on,
            fingerprint=digest,
            english=(
                fingerprint(workspace.renderer.review_text(*_split(handout_id), REFERENCE_LANGUAGE))
                if role == "translator"
                else None
            ),
            recorded=dt.datetime.now(dt.UTC),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise HandoutError(f"--{first['loc'][0]}: {first['msg']}") from None
    return approval, workspace.renderer.approvals.record(approval, text)
