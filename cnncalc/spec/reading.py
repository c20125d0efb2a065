"""A spec file's bytes and text: size limits, decoding, errors that point at the bad byte."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from cnncalc.errors import SourcePos, SpecError
from cnncalc.yamlrules import MAX_BYTES
from cnncalc.yamltree import too_large

_UTF16_START = re.compile(rb"(?:[\x01-\x7f]\x00){2}|(?:\x00[\x01-\x7f]){2}")


def read_text(path: Path) -> str:
    """A spec file's text. Only a regular file (or a device, read only up to MAX_BYTES) is
    read: a FIFO or socket is refused, since reading one waits for a writer. The file is
    opened non-blocking and checked after opening, so even a file swapped for a FIFO in
    between never blocks. Unreadable, binary or non-UTF-8 files and files over MAX_BYTES
    (refused from their size, before reading) are spec errors."""
    pos = SourcePos(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY)
    except FileNotFoundError:
        raise SpecError("no such file", pos) from None
    except OSError as exc:
        if _is_dir(path):  # Windows cannot open a folder at all
            raise _directory_error(path) from None
        raise SpecError(f"cannot read: {exc.strerror or exc}", pos) from None
    except ValueError as exc:  # a NUL character in the path
        raise SpecError(f"not a usable path: {exc}", SourcePos(repr(str(path)))) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _directory_error(path)
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            what = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a socket"
            raise SpecError(
                f"is {what}, not a spec file", pos, "pipe the spec to `-` (standard input)"
            )
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES:
            raise too_large(str(path), info.st_size)
        data = _read_at_most(fd, MAX_BYTES + 1)
    except BlockingIOError:  # a terminal or device with nothing to read yet
        raise SpecError("is a device with nothing to read", pos, "pass a spec file") from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", pos) from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:  # a device or a file that grew: its size is unknown
        raise too_large(str(path), None)
    return decode_spec(data, str(path))


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX only; Windows has no FIFOs to wait on
_NOCTTY = getattr(os, "O_NOCTTY", 0)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(limit - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _directory_error(path: Path) -> SpecError:
    try:
        specs = sorted(p.name for p in path.glob("*.y*ml"))
    except OSError:
        specs = []
    hint = "pass a .yaml spec file"
    if specs:
        hint = "pass one of its spec files: " + ", ".join(specs[:5])
        hint += ", …" if len(specs) > 5 else ""
    return SpecError("is a directory, not a spec file", SourcePos(str(path)), hint)


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
