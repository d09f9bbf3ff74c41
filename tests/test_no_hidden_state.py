"""No import-time side effects and no per-call results on shared objects."""

from __future__ import annotations

import subprocess
import sys

import textstat

from handouts.commands.readability import ReadabilityRule
from handouts.model.request import HandoutRequest

ENGLISH = "The bone in your back broke. We fill it with cement. Then you rest at home."


def test_importing_the_package_leaves_the_umask_alone():
    code = (
        "import os; os.umask(0o027); import handouts.cli, handouts.batch.run, handouts.web.views; "
        "print(oct(os.umask(0o022)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0o27"


def test_measuring_spanish_does_not_switch_the_process_language():
    before = textstat.flesch_kincaid_grade(ENGLISH)
    rule = ReadabilityRule("fernandez_huerta", 70, "higher", "es_ES")
    assert rule.score("Hola. Usted va a estar bien en su casa.") > 70
    assert textstat.flesch_kincaid_grade(ENGLISH) == before


def test_a_render_returns_its_results_and_keeps_none(workspace):
    renderer = workspace.renderer
    before = dict(vars(renderer))
    rendered = renderer.render(HandoutRequest("kyphoplasty", "post"))
    assert rendered.pages >= 1 and rendered.warnings == () and rendered.document is not None
    assert set(vars(renderer)) == set(before)
    assert all(vars(renderer)[k] is v for k, v in before.items())
