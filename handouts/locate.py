"""Finds the data folders both in a source checkout and in an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
DATA_FOLDERS = ("templates", "styles", "content", "clinics")


@cache
def data_root() -> Path:
    """The folder holding templates/, styles/, content/ and clinics/.

    A wheel ships them as handouts/_data/...; a checkout (or editable install)
    has them at the top of the repository, next to the package.
    """
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        if all((root / name).is_dir() for name in DATA_FOLDERS):
            return root
    raise RuntimeError(f"data folders {DATA_FOLDERS} not found near {_PACKAGE}")


def data_dir(name: str) -> Path:
    return data_root() / name


def default_clinic_dir() -> Path:
    return data_dir("clinics") / "demo"
