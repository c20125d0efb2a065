"""`load()`: one entry point for a spec file, YAML text, a zoo name or a shorthand line."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from cnncalc.errors import SourcePos, SpecError
from cnncalc.gcpause import gc_paused
from cnncalc.graph import Network
from cnncalc.shorthand import looks_like_shorthand, parse_shorthand
from cnncalc.spec import InputOverride, decode_spec, from_shorthand, from_yaml, read_text
from cnncalc.yamlrules import MAX_BYTES
from cnncalc.yamltree import too_large
from cnncalc.zoo import zoo_names, zoo_path


def read_stdin() -> str:
    """The spec on standard input, read as bytes (at most MAX_BYTES) and decoded like a file.
    A closed or unreadable standard input is a spec error."""
    stdin = sys.stdin
    pos = SourcePos("<stdin>")
    if stdin is None:  # started with fd 0 closed (`<&-`)
        raise SpecError("standard input is closed", pos, "pipe a spec in: `... - < net.yaml`")
    try:
        stream = getattr(stdin, "buffer", None)
        if stream is None:  # a text-only stdin (an embedding replaced it)
            text = stdin.read(MAX_BYTES + 1)
            if len(text) > MAX_BYTES:
                raise too_large("<stdin>", None)
            return text
        data = stream.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:  # a bad descriptor, a closed file object
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise SpecError(f"cannot read standard input: {reason}", pos) from None
    if len(data) > MAX_BYTES:
        raise too_large("<stdin>", None)
    return decode_spec(data, "<stdin>")


def _exists(path: Path) -> bool:
    """Whether a file or folder is there; a name the system cannot look up is not."""
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long, a NUL character
        return False


@gc_paused
def load(source: str | Path, input_shape: InputOverride | None = None) -> Network:
    """Build the IR from a path, `-` (stdin), YAML text, a zoo name, or shorthand.

    `input_shape` (H, W, C) overrides the spec's `input`; a mapping of input name → shape
    overrides those of a spec with several `inputs`.
    """
    if isinstance(source, Path):
        return from_yaml(read_text(source), str(source), source.stem, input_shape)
    if source == "-":
        return from_yaml(read_stdin(), "<stdin>", "stdin", input_shape)
    text = "\n" in source and not _exists(Path(source))  # a file name may hold a newline
    if text or source.lstrip().startswith(("layers:", "input:", "name:")):
        return from_yaml(source, "<text>", "network", input_shape)
    path = Path(source)
    if _exists(path) or source.endswith((".yaml", ".yml")) or "/" in source:
        return from_yaml(read_text(path), source, path.stem, input_shape)
    zoo = zoo_path(source) if len(source) < 256 and "\0" not in source else None
    if zoo is not None:
        return from_yaml(read_text(zoo), str(zoo), source, input_shape)
    if "," in source or parse_shorthand(source) is not None or looks_like_shorthand(source):
        return from_shorthand(source, input_shape)
    close = difflib.get_close_matches(source, zoo_names(), n=1)
    raise SpecError(
        f"{source!r} is not a file, a bundled architecture or a shorthand network",
        SourcePos(source),
        f"did you mean `{close[0]}`?" if close else "bundled: " + ", ".join(zoo_names()),
    )
