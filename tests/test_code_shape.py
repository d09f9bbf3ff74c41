"""The package's shape: its packages keep their layers (the import-linter contract in
pyproject.toml), no private names cross modules, short functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "handouts"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def _importers(library: str) -> set[str]:
    """The package's modules that import `library` (or any module of it)."""
    return {
        name
        for name, tree in _modules()
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Import)
            and any(a.name.split(".")[0] == library for a in node.names)
        )
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == library)
    }


def test_only_the_command_line_imports_click():
    """errors.py and the rest are plain Python: cli.py turns a HandoutError into a click
    error, so the web app and the batch never catch command-line types."""
    assert _importers("click") == {"handouts.cli"}


def test_only_the_barcode_encoder_imports_reportlab():
    """Widths come from the fonts' own metrics (fonts/registry.py), the ones the writer
    puts in /W: ReportLab only encodes the IMb bars."""
    assert _importers("reportlab") == {"handouts.mail.imb"}


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


def _lint_imports(*config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", *map(str, config)],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_packages_keep_their_layers():
    """pyproject.toml's contract: cli, then web and batch, commands, mail, stamp,
    workspace, engine, content, pdf, fonts, model, options, errors; none imports upward."""
    result = _lint_imports()
    assert result.returncode == 0, result.stdout
    assert "1 kept, 0 broken" in result.stdout


def test_the_layers_check_finds_an_import_upward(tmp_path):
    """The same check, told that model sits above content, finds content's imports of
    the model: the contract is read and can fail."""
    config = tmp_path / "upside-down.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "handouts"\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "model above content"\ntype = "layers"\n'
        'layers = ["handouts.model", "handouts.content"]\n'
    )
    result = _lint_imports(config)
    assert result.returncode == 1
    assert "handouts.content is not allowed to import handouts.model" in result.stdout
