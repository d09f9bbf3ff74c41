"""Content files: a clinical editor's mistake names the file and the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import edit_file, run_cli

from handouts.content.library import ContentLibrary
from handouts.errors import ContentError
from handouts.locate import data_dir


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(data_dir("content"), target)
    return target


def _problems(content: Path) -> str:
    with pytest.raises(ContentError) as info:
        ContentLibrary([content]).handout("en", "kyphoplasty", "pre")
    return info.value.format_message()


def test_unknown_placeholder_names_file_and_line(content_copy):
    path = content_copy / "en" / "kyphoplasty-pre.yaml"
    line = edit_file(path, "{arrive_before_minutes}", "{arive_before_minutes}")
    message = _problems(content_copy)
    assert f"{path}:{line}:" in message
    assert "unknown name '{arive_before_minutes}'" in message


def test_patient_field_in_content_text_is_refused(content_copy):
    path = content_copy / "en" / "shared.yaml"
    line = edit_file(path, "Bring a list or bring the bottles.", "Bring a list, {patient_name}.")
    message = _problems(content_copy)
    assert f"{path}:{line}:" in message
    assert "'{patient_name}' is a patient field" in message


def test_wrong_types_and_unknown_keys_are_all_reported(content_copy):
    path = content_copy / "en" / "kyphoplasty-pre.yaml"
    version_line = edit_file(path, 'version: "1.1"', "version: one")
    edit_file(path, "review_status: draft", "review_status: maybe\nreviewer: Bob")
    message = _problems(content_copy)
    assert f"{path}:{version_line}: version:" in message
    assert "review_status:" in message
    assert "reviewer: unknown key" in message


def test_unknown_shared_section_and_flag(content_copy):
    path = content_copy / "en" / "kyphoplasty-pre.yaml"
    use_line = edit_file(path, "- use: ride-home", "- use: ride-hom")
    message = _problems(content_copy)
    assert f"{path}:{use_line}: sections.4.use: no section 'ride-hom'" in message
    shared = content_copy / "en" / "shared.yaml"
    edit_file(shared, "when: escort_stays", "when: escort_stay")
    with pytest.raises(ContentError, match="unknown flag 'escort_stay'"):
        ContentLibrary([content_copy]).shared("en")


def test_yaml_syntax_error_names_the_line(content_copy):
    path = content_copy / "en" / "kyphoplasty-pre.yaml"
    line = edit_file(path, "title: Getting ready", "title: Getting: ready")
    message = _problems(content_copy)
    assert f"{path}:" in message
    assert f"{path.name}:{line}: mapping values are not allowed here" in message


def test_content_error_exits_2_from_the_cli(clinic_copy, content_copy):
    shutil.copytree(content_copy, clinic_copy / "content")
    edit_file(
        clinic_copy / "content" / "en" / "vertebroplasty-post.yaml",
        "{observation_hours}",
        "{watch_hours}",
    )
    result = run_cli(
        "--clinic",
        str(clinic_copy),
        "build",
        "vertebroplasty",
        "post",
        "-o",
        str(clinic_copy / "out.pdf"),
    )
    assert result.returncode == 2
    assert "vertebroplasty-post.yaml:" in result.stderr
    assert "unknown name '{watch_hours}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_clinic_content_override_is_used(clinic_copy, content_copy):
    shutil.copytree(content_copy, clinic_copy / "content")
    edit_file(
        clinic_copy / "content" / "en" / "kyphoplasty-post.yaml",
        "title: Caring for yourself after kyphoplasty",
        "title: Home care after your kyphoplasty",
    )
    result = run_cli("--clinic", str(clinic_copy), "list")
    assert result.returncode == 0
    assert "Home care after your kyphoplasty" in result.stdout
