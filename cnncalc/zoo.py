"""The bundled architectures: `architectures/*.yaml`, shipped inside the wheel too."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def zoo_dir() -> Path:
    """The installed copy (cnncalc/architectures) or, in a source checkout, the repo's."""
    installed = Path(str(files("cnncalc"))) / "architectures"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "architectures"


def zoo_path(name: str) -> Path | None:
    path = zoo_dir() / f"{name}.yaml"
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):  # a name too long for a file, a NUL character
        return None


def zoo_names() -> list[str]:
    return sorted(p.stem for p in zoo_dir().glob("*.yaml"))


def zoo_description(path: Path) -> str:
    """The spec's `description:` line, read without parsing the whole file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("description:"):
            return line.split(":", 1)[1].strip().strip("\"'")
    return ""
