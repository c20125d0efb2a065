"""Reading the concrete values of `cnncalc run`: a CSV matrix or a NumPy `.npy` array.

A CSV file holds one 2-D matrix, one row per line, values separated by commas (blank lines and
lines starting with `#` are skipped). An `.npy` file holds an array of any shape (never a
pickle). Every error names the file, and in a CSV the line and column of the bad value.
"""

from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np

from cnncalc.errors import SourcePos, SpecError
from cnncalc.reference.windows import DTYPE, Array

MAX_CSV_BYTES = 64 << 20
MAX_NPY_BYTES = 1 << 30
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_file(path: Path, limit: int) -> None:
    """A regular file of at most `limit` bytes (never a device, a FIFO or a folder)."""
    try:
        info = path.stat()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError(
            f"cannot read: {reason}", SourcePos(str(path)), "check the file name and folder"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(
            "not a regular file", SourcePos(str(path)), "give a .csv or .npy file's path"
        )
    if info.st_size > limit:
        raise SpecError(
            f"the file is {info.st_size:,} bytes, over the limit of {limit:,}",
            SourcePos(str(path)),
            "give a smaller array",
        )


def _cell(text: str, pos: SourcePos) -> float:
    try:
        value = float(text)
    except ValueError:
        shown = text.strip()[:30] or "an empty cell"
        raise SpecError(
            f"{shown!r} is not a number" if text.strip() else f"{shown} is not a number",
            pos,
            "write one matrix row per line, numbers separated by commas: 1, 0, 2",
        ) from None
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        raise SpecError(
            f"{text.strip()[:30]} is not a finite float32 number",
            pos,
            f"values must lie within ±{FLOAT32_MAX:.4g}",
        )
    return value


def read_csv(path: Path) -> Array:
    """A CSV matrix as a 2-D float32 array; ragged rows and non-numbers are errors."""
    _check_file(path, MAX_CSV_BYTES)
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not UTF-8 text (byte {exc.start})", SourcePos(name), "save the CSV as UTF-8"
        ) from None
    rows: list[list[float]] = []
    first_line = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row, col = [], 1
        for cell in line.split(","):
            row.append(_cell(cell, SourcePos(name, line_no, col + len(cell) - len(cell.lstrip()))))
            col += len(cell) + 1
        if rows and len(row) != len(rows[0]):
            raise SpecError(
                f"this row has {len(row)} value{'s' * (len(row) != 1)}, "
                f"row 1 (line {first_line}) has {len(rows[0])}",
                SourcePos(name, line_no, 1),
                "every row of a matrix has the same number of values",
            )
        first_line = first_line or line_no
        rows.append(row)
    if not rows:
        raise SpecError("the file holds no values", SourcePos(name), "write a matrix: 1, 0\\n0, 1")
    return np.array(rows, dtype=DTYPE)


def read_npy(path: Path) -> Array:
    """An `.npy` array of real numbers as float32 (pickled objects are refused)."""
    _check_file(path, MAX_NPY_BYTES)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise SpecError(
            f"not a NumPy .npy array ({str(exc)[:80]})",
            SourcePos(str(path)),
            "save it with numpy.save (plain numbers, no objects)",
        ) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise SpecError(
            f"the array holds {getattr(array, 'dtype', type(array))}, not real numbers",
            SourcePos(str(path)),
            "save an array of ints or floats",
        )
    if array.size == 0:
        raise SpecError("the array is empty", SourcePos(str(path)))
    with np.errstate(over="ignore", invalid="ignore"):
        values = array.astype(DTYPE)
    if not np.isfinite(values).all():
        raise SpecError(
            "the array holds NaN, infinity or values beyond float32's range",
            SourcePos(str(path)),
            f"values must be finite and within ±{FLOAT32_MAX:.4g}",
        )
    return values


def read_values(path: str) -> Array:
    """A `.npy` file as its array, anything else as a CSV matrix."""
    return read_npy(Path(path)) if path.lower().endswith(".npy") else read_csv(Path(path))
