"""Atomic writes: a failed write leaves neither a partial file nor a temp file behind."""

from __future__ import annotations

import os

import pytest

from handouts.engine.output import write_atomic
from handouts.errors import OutputError


def test_write_replaces_atomically_with_normal_mode(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    old_mask = os.umask(0o027)  # the process umask decides, as for any new file
    try:
        write_atomic(target, b"new")
    finally:
        os.umask(old_mask)
    assert target.read_bytes() == b"new"
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_interrupt_during_write_removes_temp(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "b.bin", b"data")
    assert list(tmp_path.iterdir()) == []
