"""A spec file's bytes and text: size limits, decoding, errors that point at the bad byte."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cnncalc.errors import SourcePos, SpecError
from cnncalc.yamltree import MAX_BYTES, too_large

_UTF16_START = re.compile(rb"(?:[\x01-\x7f]\x00){2}|(?:\x00[\x01-\x7f]){2}")


def read_text(path: Path) -> str:
    """A spec file's text; unreadable, binary or non-UTF-8 files are spec errors, and so is a
    file over MAX_BYTES (refused from its size, before reading; devices are read only that
    far)."""
    pos = SourcePos(str(path))
    try:
        if path.is_dir():
            specs = sorted(p.name for p in path.glob("*.y*ml"))
            hint = "pass a .yaml spec file"
            if specs:
                hint = "pass one of its spec files: " + ", ".join(specs[:5])
                hint += ", …" if len(specs) > 5 else ""
            raise SpecError("is a directory, not a spec file", pos, hint)
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_BYTES:
                raise too_large(str(path), size)
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SpecError("no such file", pos) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", pos) from None
    except ValueError as exc:  # a NUL character in the path
        raise SpecError(f"not a usable path: {exc}", SourcePos(repr(str(path)))) from None
    if len(data) > MAX_BYTES:  # a device or a file that grew: its size is unknown
        raise too_large(str(path), None)
    return decode_spec(data, str(path))


def decode_spec(data: bytes, file: str) -> str:
    """A spec's bytes as text: UTF-8, with or without a BOM; anything else is an error that
    points at the first bad byte."""
    # UTF-16 has a BOM, or without one, a NUL byte beside each ASCII character
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _UTF16_START.match(data):
        raise SpecError("the file is UTF-16 text", SourcePos(file, 1, 1), "save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise SpecError(
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} is not valid UTF-8",
            SourcePos(file, line, col),
            "save it as UTF-8",
        ) from None
