"""The package's shape: data flows one way, no private names cross modules, short functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "handouts"
#: Pipeline order (input -> request -> context -> HTML -> PDF -> write, then the users of
#: the pipeline). A module may import only from its own stage or an earlier one.
STAGES = [
    ("handouts", "handouts.errors", "handouts.locate"),
    ("handouts.engine.values", "handouts.engine.medicines", "handouts.engine.request"),
    ("handouts.content",),
    (
        "handouts.engine.clinic",
        "handouts.engine.formats",
        "handouts.engine.fonts",
        "handouts.engine.fetcher",
        "handouts.engine.pdfcheck",
        "handouts.engine.output",
    ),
    ("handouts.engine.schedule", "handouts.engine.levels"),
    ("handouts.engine.context",),
    ("handouts.engine.render", "handouts.engine"),
    ("handouts.workspace", "handouts.options"),
    ("handouts.mail",),
    ("handouts.stamp",),
    ("handouts.batch",),
    ("handouts.commands",),
    ("handouts.web",),
    ("handouts.cli",),
]
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> int:
    best, rank = -1, -1
    for number, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), number
    assert rank >= 0, f"{module} is in no stage of STAGES"
    return rank


def _modules() -> list[tuple[str, ast.Module]]:
    return [(_module_name(p), ast.parse(p.read_text())) for p in sorted(PACKAGE.rglob("*.py"))]


def _package_imports() -> list[tuple[str, ast.ImportFrom]]:
    """(importing module, import) for every `from handouts... import` in the package."""
    return [
        (name, node)
        for name, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("handouts")
    ]


def test_every_module_is_in_a_stage():
    assert len(_modules()) > 40
    for name, _ in _modules():
        _stage(name)


def test_no_module_imports_from_a_later_stage():
    backwards = [
        f"{name} imports {node.module}"
        for name, node in _package_imports()
        if _stage(str(node.module)) > _stage(name)
    ]
    assert backwards == []


def test_only_the_command_line_imports_click():
    """errors.py and the rest are plain Python: cli.py turns a HandoutError into a click
    error, so the web app and the batch never catch command-line types."""
    importers = {
        name
        for name, tree in _modules()
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Import)
            and any(a.name.split(".")[0] == "click" for a in node.names)
        )
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "click")
    }
    assert importers == {"handouts.cli"}


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{name} imports {node.module}.{alias.name}"
        for name, node in _package_imports()
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__version__"
    ]
    assert private == []


def test_no_function_is_longer_than_60_lines():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_the_stages_follow_the_pipeline():
    order = ["handouts.engine.request", "handouts.engine.context", "handouts.engine.render"]
    order += ["handouts.stamp.fastpath", "handouts.batch.run", "handouts.cli"]
    assert [_stage(m) for m in order] == sorted(_stage(m) for m in order)
    assert len({_stage(m) for m in order}) == len(order)


#: WeasyPrint's documented API, the only names the package may import from it.
WEASYPRINT_API = {
    "weasyprint": {"HTML", "CSS", "Document"},
    "weasyprint.text.fonts": {"FontConfiguration"},
    "weasyprint.urls": {"URLFetcher", "URLFetcherResponse", "FatalURLFetchingError"},
}


def weasyprint_misuse(source: str) -> list[str]:
    """Imports of WeasyPrint outside WEASYPRINT_API, and assignments to an attribute of
    anything imported from WeasyPrint (a patch), in one module's source."""
    found, imported = [], set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}" for a in node.names if a.name.split(".")[0] == "weasyprint"
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "weasyprint":
            allowed = WEASYPRINT_API.get(str(node.module), set())
            found += [
                f"from {node.module} import {a.name}" for a in node.names if a.name not in allowed
            ]
            imported |= {a.asname or a.name for a in node.names}
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else []
        targets += [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            base = target
            while isinstance(base, ast.Attribute):
                base = base.value
            if (
                isinstance(target, ast.Attribute)
                and isinstance(base, ast.Name)
                and base.id in imported
            ):
                found.append(f"assigns {ast.unparse(target)}")
    return found


def test_weasyprint_is_used_through_its_documented_api_only():
    """No module reads WeasyPrint's private modules or patches its objects: the pin to
    one WeasyPrint release could go (stamp/measure.py measures the PDF it writes)."""
    misuse = {
        name: found
        for path in sorted(PACKAGE.rglob("*.py"))
        if (found := weasyprint_misuse(path.read_text()))
        for name in [_module_name(path)]
    }
    assert misuse == {}


# The lines of the former stamp/measure.py that read WeasyPrint's layout and patched it.
FORMER_MEASURE = """
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.pdf.stream import Stream

_draw_marked = Stream.marked
Stream.marked = _marked
"""


def test_the_weasyprint_check_finds_private_imports_and_patches():
    assert weasyprint_misuse(FORMER_MEASURE) == [
        "from weasyprint.document import Document",
        "from weasyprint.formatting_structure import boxes",
        "from weasyprint.pdf.stream import Stream",
        "assigns Stream.marked",
    ]
    assert weasyprint_misuse("from weasyprint import HTML, CSS\nx = HTML.y") == []
