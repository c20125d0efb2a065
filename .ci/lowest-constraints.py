"""Print pip constraints that pin every runtime and test dependency to its lowest allowed version.

CI installs with them (`pip install -c FILE ".[test]"`) to prove the floors in pyproject.toml
still work: each `NAME>=X` becomes `NAME==X`. Dependencies of dependencies stay free (pip takes
their newest release), as they do for a user whose other packages hold ours at the floor.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

_FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*[^;]*?>=\s*([^,;\s]+)")


def lowest_pins(pyproject: dict[str, object], extras: list[str]) -> list[str]:
    """`NAME==X` for each `NAME>=X` among the project's dependencies and the given extras."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins = []
    for requirement in requirements:
        match = _FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"error: {requirement!r} has no `>=` floor to pin")
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


def main() -> None:
    extras = sys.argv[1:] or ["test"]
    root = Path(__file__).resolve().parent.parent
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    print("\n".join(lowest_pins(pyproject, extras)))


if __name__ == "__main__":
    main()
