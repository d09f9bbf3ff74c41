"""Fails when pyproject.toml and requirements.lock disagree (run by `make lint`).

Every requirement of the project (runtime, `test` and `dev` extras) must be pinned in the
lock, with a version its range allows, and every pin must carry hashes. Offline: it reads
the two files only. Refresh the lock with `make lock`.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(lock: Path) -> dict[str, list[tuple[Version, str, bool]]]:
    """{name: [(version, marker, hashed)]} of the lock file."""
    found: dict[str, list[tuple[Version, str, bool]]] = {}
    lines = lock.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        match = PIN.match(line)
        if not match:
            continue
        name, version, marker = match[1], match[2], (match[3] or "").strip()
        hashed = number + 1 < len(lines) and "--hash=sha256:" in lines[number + 1]
        found.setdefault(canonicalize_name(name), []).append((Version(version), marker, hashed))
    return found


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in ("test", "dev"):
        wanted += project["optional-dependencies"][extra]
    locked = pins(ROOT / "requirements.lock")
    problems = []
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{requirement.name}: in pyproject.toml, not in requirements.lock")
            continue
        for version, _marker, _hashed in locked[name]:
            if not requirement.specifier.contains(version, prereleases=True):
                problems.append(
                    f"{requirement.name}: pyproject.toml wants {requirement.specifier}, "
                    f"requirements.lock pins {version}"
                )
    for name, entries in locked.items():
        if not all(hashed for _v, _m, hashed in entries):
            problems.append(f"{name}: pinned without hashes")
    for problem in problems:
        print(f"requirements.lock: {problem}", file=sys.stderr)
    if problems:
        print("pyproject.toml and requirements.lock disagree: run `make lock`", file=sys.stderr)
        return 1
    print(f"requirements.lock: {sum(map(len, locked.values()))} pins agree with pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
