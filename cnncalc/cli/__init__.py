"""The `cnncalc` command line: thin typer commands over the Python API.

`common` holds the app and the shared options; each module below adds its commands to it.
"""

from __future__ import annotations

import sys

from cnncalc.cli import (  # noqa: F401  (register their commands)
    analysis,
    bridges,
    check,
    design,
    export,
    export_code,
    pictures,
    run,
    verify,
)
from cnncalc.cli.common import app, normalize_argv


def main() -> None:
    app(args=normalize_argv(sys.argv[1:]), prog_name="cnncalc")


__all__ = ["app", "main", "normalize_argv"]
