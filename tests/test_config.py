"""Clinic config: every protocol value reaches the page; every mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import append_clinic_toml, edit_clinic_toml, open_pdf, run_cli, text_of
from pydantic import ValidationError

from handouts.model.clinic import Printing, Protocol
from handouts.model.request import HandoutRequest
from handouts.workspace import Workspace


def _render_text(clinic: Path, procedure: str, phase: str) -> str:
    workspace = Workspace.open(clinic)
    return text_of(workspace.renderer.pdf(HandoutRequest(procedure, phase)))


def test_changing_protocol_values_changes_the_handout(clinic_copy):
    edit_clinic_toml(clinic_copy, "fasting_hours = 8", "fasting_hours = 6")
    edit_clinic_toml(clinic_copy, "clear_liquid_hours = 8", "clear_liquid_hours = 2")
    edit_clinic_toml(clinic_copy, "escort_hours = 24", "escort_hours = 12")
    edit_clinic_toml(clinic_copy, "arrive_before_minutes = 60", "arrive_before_minutes = 90")
    edit_clinic_toml(clinic_copy, 'kyphoplasty = "general"', 'kyphoplasty = "sedation"')
    text = _render_text(clinic_copy, "kyphoplasty", "pre")
    assert "Do not eat anything for 6 hours before your arrival time." in text
    assert "You may drink clear liquids until 2 hours before you arrive." in text
    assert "Do not drink anything for 2 hours before you arrive." in text
    assert "stay with you for 12 hours" in text
    assert "90 minutes before your procedure starts" in text
    assert "medicine through an IV to help you relax" in text
    assert "Speak up during the procedure." in text  # awake patients are told to speak up


def test_changing_recovery_values_changes_the_handout(clinic_copy):
    edit_clinic_toml(clinic_copy, "fever_threshold_f = 100.4", "fever_threshold_f = 101")
    edit_clinic_toml(clinic_copy, "lifting_limit_lb = 5", "lifting_limit_lb = 10")
    edit_clinic_toml(clinic_copy, "lifting_limit_weeks = 6", "lifting_limit_weeks = 8")
    edit_clinic_toml(clinic_copy, "driving_restriction_days = 14", "driving_restriction_days = 7")
    edit_clinic_toml(clinic_copy, "bandage_removal_hours = 48", "bandage_removal_hours = 24")
    edit_clinic_toml(clinic_copy, "follow_up_days_max = 14", "follow_up_days_max = 21")
    edit_clinic_toml(clinic_copy, '"(555) 010-4400"', '"(555) 010-7777"')
    text = _render_text(clinic_copy, "vertebroplasty", "post")
    assert "A fever of 101 °F (38.3 °C) or higher" in text
    assert "Do not lift more than 10 pounds for 8 weeks." in text
    assert "A gallon of milk weighs about 8 pounds." in text
    assert "Do not drive for 7 days, to give your back time to heal." in text
    assert "Keep the bandage on and dry for 24 hours." in text
    assert "in 7 to 21 days" in text
    assert "Call us right away at (555) 010-7777" in text
    assert "010-4400" not in text


def test_a4_page_size(clinic_copy):
    edit_clinic_toml(clinic_copy, 'page_size = "letter"', 'page_size = "A4"')
    workspace = Workspace.open(clinic_copy)
    pdf = open_pdf(workspace.renderer.pdf(HandoutRequest("kyphoplasty", "pre")))
    width, height = [round(float(v)) for v in pdf.pages[0].MediaBox[2:]]
    assert (width, height) == (595, 842)


def test_every_problem_is_listed_with_file_and_key(clinic_copy):
    edit_clinic_toml(clinic_copy, "fever_threshold_f = 100.4", "fever_threshold_f = 104.5")
    edit_clinic_toml(clinic_copy, "escort_hours = 24", "escort_hours = -2")
    edit_clinic_toml(clinic_copy, 'primary_color = "#1f4e79"', 'primary_color = "dark blue"')
    edit_clinic_toml(clinic_copy, "tub_pool_days = 14", 'tub_pool_days = "two weeks"')
    edit_clinic_toml(clinic_copy, "\n[protocol]\n", "\n[protocol]\nfasting_hourz = 6\n")
    result = run_cli(
        "--clinic",
        str(clinic_copy),
        "build",
        "kyphoplasty",
        "pre",
        "-o",
        str(clinic_copy / "x.pdf"),
    )
    assert result.returncode == 2
    err = result.stderr
    path = clinic_copy / "clinic.toml"
    for key in (
        "protocol.fever_threshold_f",
        "protocol.escort_hours",
        "brand.primary_color",
        "protocol.tub_pool_days",
        "protocol.fasting_hourz",
    ):
        assert f"{path}: {key}:" in err, key
    assert "unknown key" in err
    assert "Traceback" not in err
    assert not (clinic_copy / "x.pdf").exists()


def test_missing_logo_is_a_config_error(clinic_copy):
    (clinic_copy / "logo.svg").unlink()
    result = run_cli("--clinic", str(clinic_copy), "list")
    assert result.returncode == 2
    assert "clinic.logo: file not found" in result.stderr


def test_logo_outside_the_clinic_folder_is_refused(clinic_copy):
    edit_clinic_toml(clinic_copy, 'logo = "logo.svg"', 'logo = "../../../etc/passwd"')
    result = run_cli("--clinic", str(clinic_copy), "list")
    assert result.returncode == 2
    assert "clinic.logo: the logo must be inside the clinic folder" in result.stderr


def test_toml_syntax_error_names_the_line(clinic_copy):
    line = edit_clinic_toml(clinic_copy, "escort_hours = 24", "escort_hours = = 24")
    result = run_cli("--clinic", str(clinic_copy), "list")
    assert result.returncode == 2
    assert "clinic.toml: not valid TOML" in result.stderr
    assert f"line {line}," in result.stderr


def test_clear_liquids_cannot_outlast_fasting(clinic_copy):
    edit_clinic_toml(clinic_copy, "fasting_hours = 8", "fasting_hours = 4")
    edit_clinic_toml(clinic_copy, "clear_liquid_hours = 8", "clear_liquid_hours = 6")
    result = run_cli("--clinic", str(clinic_copy), "list")
    assert result.returncode == 2
    assert "protocol.clear_liquid_hours: must not be more than fasting_hours" in result.stderr


def test_every_protocol_setting_is_documented_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in Protocol.model_fields:
        assert f"`{name}`" in readme, name


def test_printing_queues_must_be_cups_queue_names(clinic_copy):
    append_clinic_toml(clinic_copy, '[printing]\ndesk = ["desk-1", "desk 2"]\nmail_room = "-x"\n')
    result = run_cli("--clinic", str(clinic_copy), "list")
    assert result.returncode == 2
    for key in ("printing.desk", "printing.mail_room"):
        assert f"clinic.toml: {key}: Value error, not a CUPS queue name" in result.stderr
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert '| `desk` | `""` |' in readme  # the [printing] table
    assert '| `mail_room` | `""` |' in readme


@pytest.mark.parametrize("name", ["desk?1", "desk@printhost", "desk\u0001", "desk\u007f", "-desk"])
def test_names_cups_refuses_or_reads_otherwise_are_not_queue_names(name):
    """lpadmin refuses ? and control characters; lp reads desk@host as another server."""
    with pytest.raises(ValidationError, match="not a CUPS queue name"):
        Printing(desk=name)
    assert Printing(desk=["desk-1", "Desk.2", "étage-3"]).desk_queues == (
        "desk-1", "Desk.2", "étage-3",
    )  # fmt: skip
