"""`cnncalc rf --image`: the input grid with one output unit's receptive field, as PNG or SVG.

A `Picture` holds what is drawn, in input cells (rows, columns; padding is below 0 or past the
image): the unit's field and its neighbours' (their offset is the stride), each input path's
field at a merge, and with `--empirical` the box the NumPy reference measured. `to_png` paints
it with NumPy and writes the PNG with zlib (no imaging library); `to_svg` writes the same
rectangles as SVG. Both map cell u to pixel ceil((u − origin)·scale), so a field's pixels are
exactly its cells; the PNG records the origin and scale in a `tEXt` chunk ("cnncalc").
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from cnncalc.passes.unit_field import UnitField
from cnncalc.units import fmt_number

MAX_SIDE = 960  # pixels: the picture's longer side at most (about), whatever the numbers
MAX_SCALE = 16  # pixels per input cell at most
LEGEND = 64  # SVG only: the text lines under the picture

PAD_BG, PAD_HATCH = (247, 228, 228), (226, 188, 188)
IMAGE, GRID = (236, 239, 243), (208, 213, 220)
FIELD, FIELD_ON_PAD, FIELD_EDGE = (120, 165, 225), (178, 140, 210), (20, 60, 140)
NEIGHBOUR = (235, 140, 30)
MEASURED = (70, 175, 100)
PATHS = ((200, 50, 60), (30, 150, 90), (140, 70, 200), (220, 130, 20), (20, 140, 170))


@dataclass(frozen=True)
class Picture:
    layer: str
    unit: tuple[int, int]
    image: tuple[int, int]  # the input's H, W
    field: UnitField
    size: tuple[Any, ...]  # the field's size and stride, for the legend
    stride: tuple[Any, ...]
    neighbours: tuple[UnitField, ...] = ()
    paths: tuple[UnitField, ...] = ()  # one per input of the merge, if any
    measured: tuple[tuple[int, int], tuple[int, int]] | None = None  # (lo, hi) rows, cols
    strip: bool = False  # a 1-D input, drawn as one row of MAX_SCALE pixels

    def _all(self) -> list[tuple[Any, Any]]:
        spans = [(f.lo, f.hi) for f in (self.field, *self.neighbours, *self.paths)]
        return spans + ([self.measured] if self.measured else [])

    @cached_property
    def origin(self) -> tuple[int, int]:
        """The first cell drawn per axis: one cell of padding at least, at most the image's
        size of it (a larger field runs off the picture)."""
        cap = max(self.image)
        return (
            max(-cap, min(-1, *(math.floor(lo[0]) for lo, _ in self._all()))),
            max(-cap, min(-1, *(math.floor(lo[1]) for lo, _ in self._all()))),
        )

    @cached_property
    def end(self) -> tuple[int, int]:
        """One past the last cell drawn per axis."""
        cap = max(self.image)
        return (
            min(
                self.image[0] + cap,
                max(self.image[0] + 1, *(math.ceil(hi[0]) + 1 for _, hi in self._all())),
            ),
            min(
                self.image[1] + cap,
                max(self.image[1] + 1, *(math.ceil(hi[1]) + 1 for _, hi in self._all())),
            ),
        )

    @cached_property
    def scale(self) -> Fraction:
        """Pixels per cell: whole up to MAX_SCALE; below 1 for an input larger than MAX_SIDE."""
        extent = max(e - o for e, o in zip(self.end, self.origin, strict=True))
        fit = Fraction(MAX_SIDE, extent)
        return Fraction(min(MAX_SCALE, math.floor(fit))) if fit >= 1 else fit

    def axis_scale(self, axis: int) -> Fraction:
        """Pixels per cell along `axis`: `scale`, except a strip's one row, MAX_SCALE tall."""
        return Fraction(MAX_SCALE) if self.strip and axis == 0 else self.scale

    def pixel(self, cell: Any, axis: int) -> int:
        """The first pixel of input cell `cell` (clamped to the picture)."""
        clamped: Fraction = min(
            max(Fraction(cell), Fraction(self.origin[axis])), Fraction(self.end[axis])
        )
        return math.ceil((clamped - self.origin[axis]) * self.axis_scale(axis))

    def box(self, lo: tuple[Any, ...], hi: tuple[Any, ...]) -> tuple[int, int, int, int]:
        """Pixel rows [top, bottom) and columns [left, right) of cells lo..hi (at least 1 px)."""
        top, left = self.pixel(lo[0], 0), self.pixel(lo[1], 1)
        bottom = max(top + 1, self.pixel(Fraction(hi[0]) + 1, 0))
        right = max(left + 1, self.pixel(Fraction(hi[1]) + 1, 1))
        return top, bottom, left, right

    @property
    def pixels(self) -> tuple[int, int]:
        return self.pixel(self.end[0], 0), self.pixel(self.end[1], 1)

    def legend(self) -> list[str]:
        f = self.field
        rows = f"rows {fmt_number(f.lo[0])}..{fmt_number(f.hi[0])}"
        cols = f"columns {fmt_number(f.lo[1])}..{fmt_number(f.hi[1])}"
        size = "×".join(fmt_number(v) for v in self.size)
        stride = "×".join(fmt_number(v) for v in self.stride)
        where = f"{rows}, {cols} of a {self.image[0]}×{self.image[1]} input"
        unit = f"({self.unit[0]}, {self.unit[1]})"
        if self.strip:
            where = f"positions {fmt_number(f.lo[1])}..{fmt_number(f.hi[1])} of a 1-D input of "
            where += f"length {self.image[1]}"
            unit = str(self.unit[1])
        lines = [
            f"{self.layer}, unit {unit}: {where}",
            f"field {size}, stride {stride}; outside the {'signal' if self.strip else 'image'}: "
            "padding",
        ]
        if self.paths:
            lines.append("paths: " + ", ".join(p.label for p in self.paths))
        if self.measured:
            (a, b), (c, d) = self.measured
            measured = f"positions {b}..{d}" if self.strip else f"rows {a}..{c}, columns {b}..{d}"
            lines.append(f"measured (NumPy): {measured}")
        return lines


def _paint(canvas: Any, box: tuple[int, int, int, int], colour: tuple[int, int, int]) -> None:
    top, bottom, left, right = box
    canvas[top:bottom, left:right] = colour


def _outline(
    canvas: Any, box: tuple[int, int, int, int], colour: tuple[int, int, int], width: int
) -> None:
    top, bottom, left, right = box
    for t, b, lft, r in (
        (top, min(bottom, top + width), left, right),
        (max(top, bottom - width), bottom, left, right),
        (top, bottom, left, min(right, left + width)),
        (top, bottom, max(left, right - width), right),
    ):
        canvas[t:b, lft:r] = colour


def raster(picture: Picture) -> Any:
    """The picture as an (H, W, 3) uint8 array."""
    import numpy as np

    height, width = picture.pixels
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[...] = PAD_BG
    ys, xs = np.ogrid[:height, :width]
    canvas[(ys + xs) % 8 == 0] = PAD_HATCH
    image = picture.box((0, 0), (picture.image[0] - 1, picture.image[1] - 1))
    _paint(canvas, image, IMAGE)
    scale = picture.scale
    if scale >= 4:  # a grid line at the start of every cell
        for axis in (0, 1):
            for cell in range(picture.origin[axis], picture.end[axis]):
                p = picture.pixel(cell, axis)
                if axis == 0:
                    canvas[p, :] = GRID
                else:
                    canvas[:, p] = GRID
    field = picture.field
    if not picture.paths:
        fill = MEASURED if picture.measured else FIELD
        whole = picture.box(field.lo, field.hi)
        _paint(canvas, whole, FIELD_ON_PAD)
        inside = picture.box(
            (max(field.lo[0], 0), max(field.lo[1], 0)),
            (min(field.hi[0], picture.image[0] - 1), min(field.hi[1], picture.image[1] - 1)),
        )
        _paint(canvas, inside, IMAGE if picture.measured else fill)
        if picture.measured:
            _paint(canvas, picture.box(*picture.measured), MEASURED)
    for neighbour in picture.neighbours:
        _outline(canvas, picture.box(neighbour.lo, neighbour.hi), NEIGHBOUR, 1)
    for colour, path in zip(PATHS * len(picture.paths), picture.paths, strict=False):
        _outline(canvas, picture.box(path.lo, path.hi), colour, 2)
    if not picture.paths:
        _outline(canvas, picture.box(field.lo, field.hi), FIELD_EDGE, 2)
    c = picture.box(field.center, field.center)  # the unit's centre cell
    mid = ((c[0] + c[1]) // 2, (c[2] + c[3]) // 2)
    canvas[max(0, mid[0] - 1) : mid[0] + 2, max(0, mid[1] - 1) : mid[1] + 2] = FIELD_EDGE
    return canvas


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def to_png(picture: Picture) -> bytes:
    """An 8-bit RGB PNG (filter 0 on every row), with the mapping in a tEXt chunk."""
    canvas = raster(picture)
    height, width = canvas.shape[:2]
    rows = b"".join(b"\x00" + canvas[y].tobytes() for y in range(height))
    geometry = json.dumps(
        {
            "origin": list(picture.origin),
            "scale": str(picture.scale),
            "row_scale": str(picture.axis_scale(0)),
            "legend": picture.legend(),
        },
        ensure_ascii=True,
    )
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _chunk(b"tEXt", b"cnncalc\x00" + geometry.encode("ascii")),
            _chunk(b"IDAT", zlib.compress(rows, 6)),
            _chunk(b"IEND", b""),
        ]
    )


def _hex(colour: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour)


def _rect(picture: Picture, lo: Any, hi: Any, role: str, style: str, label: str = "") -> str:
    top, bottom, left, right = picture.box(lo, hi)
    rows = f"{fmt_number(Fraction(lo[0]))} {fmt_number(Fraction(hi[0]))}"
    cols = f"{fmt_number(Fraction(lo[1]))} {fmt_number(Fraction(hi[1]))}"
    data = f'data-role="{role}" data-rows="{rows}" data-cols="{cols}"'
    if label:
        data += f" data-label={quoteattr(label)}"
    return (
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" {data} '
        f'style="{style}"/>'
    )


def to_svg(picture: Picture) -> str:
    """The same picture as SVG rectangles (each with data-role, data-rows, data-cols), and a
    legend under it."""
    height, width = picture.pixels
    field = picture.field
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + LEGEND}" '
        f'viewBox="0 0 {width} {height + LEGEND}">',
        '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{_hex(PAD_BG)}"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{_hex(PAD_HATCH)}" stroke-width="2"/>'
        "</pattern></defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" data-role="padding" '
        'fill="url(#hatch)"/>',
        _rect(
            picture,
            (0, 0),
            (picture.image[0] - 1, picture.image[1] - 1),
            "image",
            f"fill:{_hex(IMAGE)}",
        ),
    ]
    if picture.scale >= 4:
        lines = [
            f"M0,{picture.pixel(c, 0)}H{width}" for c in range(picture.origin[0], picture.end[0])
        ] + [f"M{picture.pixel(c, 1)},0V{height}" for c in range(picture.origin[1], picture.end[1])]
        parts.append(f'<path d="{"".join(lines)}" stroke="{_hex(GRID)}" stroke-width="1"/>')
    if not picture.paths:
        parts.append(
            _rect(
                picture,
                field.lo,
                field.hi,
                "field",
                f"fill:{_hex(FIELD)};fill-opacity:0.55;stroke:{_hex(FIELD_EDGE)};stroke-width:2",
                field.label,
            )
        )
    if picture.measured:
        parts.append(
            _rect(
                picture,
                *picture.measured,
                "measured",
                f"fill:{_hex(MEASURED)};fill-opacity:0.5;stroke:{_hex(MEASURED)};stroke-width:2",
            )
        )
    for neighbour in picture.neighbours:
        parts.append(
            _rect(
                picture,
                neighbour.lo,
                neighbour.hi,
                "neighbour",
                f"fill:none;stroke:{_hex(NEIGHBOUR)};stroke-width:1.5;stroke-dasharray:4 3",
                neighbour.label,
            )
        )
    for colour, path in zip(PATHS * len(picture.paths), picture.paths, strict=False):
        parts.append(
            _rect(
                picture,
                path.lo,
                path.hi,
                "path",
                f"fill:{_hex(colour)};fill-opacity:0.12;stroke:{_hex(colour)};stroke-width:2",
                path.label,
            )
        )
    for number, line in enumerate(picture.legend()):
        parts.append(
            f'<text x="4" y="{height + 16 + 15 * number}" font-family="sans-serif" '
            f'font-size="12">{escape(line)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
