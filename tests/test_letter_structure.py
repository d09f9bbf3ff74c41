"""A mailed letter file (cover letter + handout) is tagged in fact: one structure tree
whose parent tree finds, for every marked-content id on every page, a structure element
of that page that chains up to the tree's root. Read with pikepdf only."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from helpers import read_manifest, run_cli

HEADER = (
    "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,"
    "address_line1,address_line2,city,state,postal_code\n"
)
ROWS = (
    "L1,kyphoplasty,pre,en,Maria Garcia,2026-11-12,07:30,12 Elm St,,Springfield,IL,62704\n"
    "L2,vertebroplasty,post,es,José Hernández,2026-11-13,,45 Oak Ave,Apt 3,Chicago,IL,60601\n"
)


def _mcids(page: pikepdf.Page) -> list[int]:
    """Marked-content ids in the page's own content stream, in order."""
    found = []
    for operands, operator in pikepdf.parse_content_stream(page):
        properties = operands[1] if str(operator) == "BDC" else None
        if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
            found.append(int(properties.MCID))
    return found


def _number_tree(node: pikepdf.Object) -> dict[int, pikepdf.Object]:
    entries: dict[int, pikepdf.Object] = {}
    nums = node.get("/Nums", pikepdf.Array())
    for i in range(0, len(nums), 2):
        entries[int(nums[i])] = nums[i + 1]
    for kid in node.get("/Kids", pikepdf.Array()):
        entries.update(_number_tree(kid))
    return entries


def tagging_problems(path: Path) -> list[str]:
    """What keeps this PDF from being tagged in fact (empty: none)."""
    problems = []
    with pikepdf.open(path) as document:
        root = document.Root.get("/StructTreeRoot")
        leftovers = [n for n, page in enumerate(document.pages, 1) if "/StructParents" in page.obj]
        if root is None:
            return [f"no structure tree, yet pages {leftovers} have /StructParents"] * bool(
                leftovers or any(_mcids(p) for p in document.pages)
            )
        if document.Root.get("/MarkInfo", {}).get("/Marked") is not True:
            problems.append("/MarkInfo /Marked is not true")
        parents = _number_tree(root.ParentTree)
        for number, page in enumerate(document.pages, 1):
            mcids = _mcids(page)
            if not mcids:
                continue
            key = page.obj.get("/StructParents")
            if key is None or int(key) not in parents:
                problems.append(f"page {number}: marked content but no parent-tree entry")
                continue
            elements = parents[int(key)]
            for mcid in mcids:
                if mcid >= len(elements) or not isinstance(elements[mcid], pikepdf.Dictionary):
                    problems.append(f"page {number}: MCID {mcid} has no structure element")
                    continue
                element, steps = elements[mcid], 0
                if element.get("/Pg", page.obj).objgen != page.obj.objgen:
                    problems.append(f"page {number}: MCID {mcid}'s element is of another page")
                while element.get("/Type") != pikepdf.Name.StructTreeRoot and steps < 100:
                    element, steps = element.P, steps + 1
                if element.objgen != root.objgen:
                    problems.append(f"page {number}: MCID {mcid} does not reach the root")
    return problems


@pytest.mark.parametrize("engine", ["fast", "full"])
def test_letter_files_carry_one_real_structure_tree(tmp_path: Path, engine: str) -> None:
    source = tmp_path / "mail.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        "batch", str(source), "-o", str(out), "--for", "mail", "--engine", engine,
        "--letter-date", "2026-11-21",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(out)
    assert {entry["engine"] for entry in manifest.values()} == {engine}
    for record_id in ("L1", "L2"):
        letter = out / manifest[record_id]["file"]
        assert tagging_problems(letter) == [], record_id
        with pikepdf.open(letter) as document:
            parts = document.Root.StructTreeRoot.K[0].K
            assert [str(part.S) for part in parts] == ["/Part", "/Part"]  # letter, handout
            languages = {str(part.Lang) for part in parts}
        assert languages == ({"en"} if record_id == "L1" else {"es"})


def test_the_tagging_check_can_fail(tmp_path: Path, sample_pdfs) -> None:
    """Pages copied without their structure tree, as the letter files were made before."""
    source = pikepdf.open(io.BytesIO(sample_pdfs[("kyphoplasty", "pre")]))
    copied = pikepdf.new()
    copied.pages.extend(source.pages)
    copied.save(tmp_path / "copied.pdf")
    assert tagging_problems(tmp_path / "copied.pdf")[0].startswith("no structure tree")
    renumbered = pikepdf.open(io.BytesIO(sample_pdfs[("kyphoplasty", "pre")]))
    renumbered.pages[1].obj.StructParents = 9999
    renumbered.save(tmp_path / "renumbered.pdf")
    assert tagging_problems(tmp_path / "renumbered.pdf") == [
        "page 2: marked content but no parent-tree entry"
    ]
