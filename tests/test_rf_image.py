"""`cnncalc rf --image`: the drawn field's pixels are exactly the cells the numbers give.

The PNG is decoded here (zlib; cnncalc writes filter 0 rows) and its pixels mapped back to
input cells with the origin and scale it records; each drawn element has its own colour, so
the bounding box of a colour is where that element was drawn. Expected cells are worked out
by hand (seed_32x32) or read from `summary --format json`'s `rf` (the numbers `rf` prints).
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.render import rf_image as colours
from cnncalc.zoo import zoo_names

runner = CliRunner()


def read_png(path: Path) -> tuple[np.ndarray, dict[str, object]]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(
            kind + body
        )
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2)
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + 3 * width)
    assert (raw[:, 0] == 0).all()
    keyword, text = chunks[b"tEXt"].split(b"\x00", 1)
    assert keyword == b"cnncalc"
    return raw[:, 1:].reshape(height, width, 3), json.loads(text)


def cells(pixels: np.ndarray, meta: dict[str, object], colour: tuple[int, int, int]) -> tuple:
    """((first row, first column), (last row, last column)) of the input cells where
    `colour` was drawn; None if nowhere."""
    mask = (pixels == np.array(colour, dtype=np.uint8)).all(axis=2)
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    scale = Fraction(str(meta["scale"]))
    oy, ox = meta["origin"]  # type: ignore[misc]
    cell = lambda p, o: int(Fraction(int(p)) / scale) + o  # noqa: E731
    return (cell(ys.min(), oy), cell(xs.min(), ox)), (cell(ys.max(), oy), cell(xs.max(), ox))


def draw(tmp_path: Path, *args: str, name: str = "rf.png") -> Path:
    out = tmp_path / name
    result = runner.invoke(app, ["rf", *args, "--image", str(out)])
    assert result.exit_code == 0, result.output
    return out


# seed_32x32, by hand: conv1 5×5 pad 2 → r 5, j 1, c 0; maxpool 2 → r 6, j 2, c 0.5;
# conv2 3×3 pad 1 → r 10, j 2, c 0.5. Unit (i, j) of conv2: rows 2i − 4 .. 2i + 5.
def test_field_at_the_corner_reaches_into_padding(tmp_path: Path) -> None:
    pixels, meta = read_png(draw(tmp_path, "seed_32x32", "--layer", "conv2", "--unit", "0,0"))
    assert cells(pixels, meta, colours.FIELD_EDGE) == ((-4, -4), (5, 5))
    assert cells(pixels, meta, colours.FIELD) == ((0, 0), (5, 5))  # inside the image
    assert cells(pixels, meta, colours.FIELD_ON_PAD) == ((-4, -4), (5, 5))  # the rest: padding
    on_pad = (pixels == np.array(colours.FIELD_ON_PAD, dtype=np.uint8)).all(axis=2)
    scale = Fraction(str(meta["scale"]))
    image_start = int(np.ceil(4 * scale))  # cell 0 after an origin of −4
    assert not on_pad[image_start:, image_start:].any()
    # the neighbours (0, 1) and (1, 0): shifted by the stride, 2
    assert cells(pixels, meta, colours.NEIGHBOUR) == ((-4, -4), (7, 7))


def test_field_inside_the_image(tmp_path: Path) -> None:
    pixels, meta = read_png(draw(tmp_path, "seed_32x32", "--layer", "conv2", "--unit", "8,5"))
    assert cells(pixels, meta, colours.FIELD_EDGE) == ((12, 6), (21, 15))
    assert cells(pixels, meta, colours.FIELD_ON_PAD) is None
    assert meta["origin"] == [-1, -1]  # one cell of padding around the image


def test_empirical_box_is_the_measured_one(tmp_path: Path) -> None:
    out = draw(tmp_path, "seed_32x32", "--layer", "conv2", "--unit", "0,0", "--empirical")
    pixels, meta = read_png(out)
    # the NumPy reference's dependency box: the field without its padding rows
    assert cells(pixels, meta, colours.MEASURED) == ((0, 0), (5, 5))
    assert cells(pixels, meta, colours.FIELD_EDGE) == ((-4, -4), (5, 5))


def test_default_unit_is_the_middle_one(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["rf", "seed_32x32", "--layer", "conv2", "--image", str(tmp_path / "a.png")]
    )
    assert result.exit_code == 0
    assert "unit (8, 8): rows 12..21, columns 12..21" in result.output


def _svg_rects(text: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', m)) for m in re.findall(r"<rect ([^>]*)/>", text)
    ]


def test_svg_paths_at_a_merge_each_in_its_own_colour(tmp_path: Path) -> None:
    out = draw(tmp_path, "resnet18", "--layer", "layer2.0.add1", "--unit", "3,4", name="rf.svg")
    rects = _svg_rects(out.read_text(encoding="utf-8"))
    paths = {r["data-label"]: r for r in rects if r.get("data-role") == "path"}
    assert set(paths) == {"layer2.0.bn2", "layer2.0.downsample.1"}
    data = json.loads(runner.invoke(app, ["summary", "resnet18", "--format", "json"]).output)
    rf = {layer["name"]: layer["rf"] for layer in data["layers"]}
    for name, rect in paths.items():
        size, stride, center = rf[name]["size"], rf[name]["stride"], rf[name]["center"]
        rows = [
            center[0] + 3 * stride[0] - (size[0] - 1) / 2,
            center[0] + 3 * stride[0] + (size[0] - 1) / 2,
        ]
        cols = [
            center[1] + 4 * stride[1] - (size[1] - 1) / 2,
            center[1] + 4 * stride[1] + (size[1] - 1) / 2,
        ]
        assert [float(v) for v in rect["data-rows"].split()] == rows
        assert [float(v) for v in rect["data-cols"].split()] == cols
    assert len({r["style"] for r in paths.values()}) == 2
    # the downsample path (1×1 conv) sees less than the main path: 43 against 67
    assert rf["layer2.0.downsample.1"]["size"] == [43, 43]
    assert rf["layer2.0.bn2"]["size"] == [67, 67]


def test_after_a_merge_the_paths_still_show(tmp_path: Path) -> None:
    # relu2 follows the add with the same field, so the add's paths are drawn
    out = draw(tmp_path, "resnet18", "--layer", "layer2.0.relu2", name="rf.svg")
    roles = [r.get("data-role") for r in _svg_rects(out.read_text(encoding="utf-8"))]
    assert roles.count("path") == 2


@pytest.mark.parametrize("name", [n for n in zoo_names() if n not in ("r3d_18", "r2plus1d_18")])
def test_every_zoo_net(tmp_path: Path, name: str) -> None:  # 3-D nets: tests/test_rank.py
    png = draw(tmp_path, name)
    pixels, meta = read_png(png)
    assert max(pixels.shape[:2]) <= colours.MAX_SIDE + 2 * colours.MAX_SCALE
    assert cells(pixels, meta, colours.FIELD_EDGE) or cells(pixels, meta, colours.PATHS[0])
    svg = draw(tmp_path, name, name="rf.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")


def test_a_huge_input_stays_small_and_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    out = draw(tmp_path, "Conv3-4-S2,Conv3-4", "--input", "20000x30000x1")
    assert time.perf_counter() - start < 10  # a hang guard: it takes well under a second
    pixels, meta = read_png(out)
    assert max(pixels.shape[:2]) <= colours.MAX_SIDE + 1
    assert "of a 20000×30000 input" in meta["legend"][0]  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["FC5", "--input", "10", "--image", "{tmp}/a.png"], "2-D"),
        (["seed_32x32", "--layer", "dense1", "--image", "{tmp}/a.png"], "flat"),
        (["seed_32x32", "--layer", "conv2", "--unit", "16,0", "--image", "{tmp}/a.png"], "outside"),
        (["seed_32x32", "--layer", "conv2", "--unit", "a,b", "--image", "{tmp}/a.png"], "--unit"),
        (["seed_32x32", "--layer", "conv2", "--unit", "-1,2", "--image", "{tmp}/a.png"], "--unit"),
        (["seed_32x32", "--layer", "nope", "--image", "{tmp}/a.png"], "nope"),
        (["seed_32x32", "--image", "{tmp}/a.jpg"], ".png or .svg"),
        (["seed_32x32", "--image", "{tmp}/missing/a.png"], "a.png"),
    ],
)
def test_bad_requests_are_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    result = runner.invoke(app, ["rf", *(a.replace("{tmp}", str(tmp_path)) for a in args)])
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert "Traceback" not in result.stderr
