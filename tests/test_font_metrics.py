"""Text widths for fitting come from the fonts' own metrics: the writer's widths."""

from __future__ import annotations

import pytest

from handouts.fonts import harfbuzz
from handouts.fonts.registry import FACES, runs, runs_width, widest, width

TEXTS = ["Maria Hernández", "Nguyễn Thị Ánh", "Øyvind Ærø", "BOSTON MA 02127-1234", "7:30 PM"]


@pytest.mark.skipif(not harfbuzz.available(), reason="libharfbuzz-subset0 is not installed")
@pytest.mark.parametrize("face", FACES, ids=lambda f: f.file)
def test_widths_are_the_advances_harfbuzz_gives_the_writer(face):
    hb = harfbuzz.face(face.path)
    assert hb is not None
    for text in TEXTS:
        gids = [hb.glyph(char) for char in text]
        expected = sum(hb.width(gid if gid is not None else 0) for gid in gids) * 11 / 1000
        assert width(text, face.family, face.bold, 11) == pytest.approx(expected), text


def test_widths_grow_with_size_and_text():
    assert 0 < widest("Maria", 11) < widest("Maria Hernández", 11)
    found = runs("Zoë Ω", bold=True)
    assert found is not None and {bold for (_, bold), _ in found} == {True}
    assert runs_width(found, 10) > runs_width(runs("Zoë", bold=True) or [], 10) > 0
    assert runs("李") is None  # no bundled face has it
