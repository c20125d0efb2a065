"""upsample, pixel_shuffle, pixel_unshuffle, pad and crop: shapes and counts by hand, each
tool's convention (read from their source: fvcore's upsample_nearest2d/bilinear2d handles,
ptflops' nn.Upsample hook plus its F.interpolate hook), receptive fields, errors, values,
verify, and torch in every rank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.passes.receptive_field import receptive_fields
from cnncalc.reference.forward import run_forward
from tests.test_flops import assert_each_tool

H = "input: [4, 6, 8]\nlayers:\n"


def net(layers: str, shape: tuple[int, ...] = (4, 6, 8)) -> cnncalc.Network:
    return cnncalc.load(f"layers: [{layers}]", input_shape=shape)


def out_shape(layer: str, shape: tuple[int, ...] = (4, 6, 8)) -> tuple[int, ...]:
    network = net(layer, shape)
    return network.shapes[network.output.name]


@pytest.mark.parametrize(
    ("layer", "shape", "expected"),
    [
        ("upsample: {scale: 2}", (4, 6, 8), (8, 12, 8)),
        ("Upsample: {scale_factor: 1.5, mode: bilinear}", (4, 6, 8), (6, 9, 8)),
        ("upsample: {scale: 0.3}", (4, 6, 8), (1, 1, 8)),  # ⌊4·0.3⌋, ⌊6·0.3⌋ as torch
        ("upsample: {scale: [2, 3], mode: bicubic}", (4, 6, 8), (8, 18, 8)),
        ("upsample: {size: [5, 7]}", (4, 6, 8), (5, 7, 8)),
        ("upsample: {size: 10, mode: linear}", (7, 2), (10, 2)),
        ("upsample: {scale: 2, mode: trilinear, align_corners: true}", (2, 3, 4, 1), (4, 6, 8, 1)),
        ("pixel_shuffle: {factor: 2}", (4, 6, 8), (8, 12, 2)),
        ("PixelUnshuffle: {downscale_factor: 2}", (4, 6, 8), (2, 3, 32)),
        ("pad: {padding: 1}", (4, 6, 8), (6, 8, 8)),
        ("pad: {padding: [1, 2, 3, 4], mode: reflect}", (4, 6, 8), (7, 13, 8)),
        ("pad: {padding: [2, 0], mode: circular}", (9, 3), (11, 3)),
        ("ZeroPadding3D: {padding: 1}", (2, 3, 4, 1), (4, 5, 6, 1)),
        ("crop: {cropping: [1, 0, 2, 3]}", (4, 6, 8), (3, 1, 8)),
        ("Cropping1D: {cropping: [2, 3]}", (9, 3), (4, 3)),
    ],
)
def test_shapes_by_hand(layer: str, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    assert out_shape(layer, shape) == expected
    report = cnncalc.analyze(net(layer, shape))
    assert (report.totals.params, report.totals.buffers, report.macs) == (0, 0, 0)


# One layer on 4×6×8 (batch 1) as fvcore 0.1.5.post20221221, ptflops 0.7.5 (pytorch and aten
# backends) and torchinfo 1.8.0 count it, measured with torch 2.13.0 on nn.Upsample,
# F.interpolate, nn.PixelShuffle/PixelUnshuffle, nn.ReflectionPad2d and cnncalc's Crop:
# fvcore counts aten::upsample_nearest2d 1 and upsample_bilinear2d 4 per output element and
# nothing else; ptflops' nn.Upsample hook counts the output elements and the F.interpolate
# it calls N·C·∏size (an int size to the rank) or input · scale^rank, unrounded until the end.
TOOLS = [
    # layer, fvcore, ptflops, ptflops-aten, torchinfo, input
    ("upsample: {scale: 2}", 768, 1536, 0, 0, (4, 6, 8)),
    ("upsample: {scale: 2, mode: bilinear}", 3072, 1536, 0, 0, (4, 6, 8)),
    ("upsample: {scale: 2, mode: bicubic}", 0, 1536, 0, 0, (4, 6, 8)),
    ("upsample: {scale: 1.5, mode: bilinear}", 1728, 864, 0, 0, (4, 6, 8)),
    ("upsample: {scale: 1.5}", 49, 105, 0, 0, (5, 5, 1)),  # 49 + 25·2.25
    ("upsample: {scale: [2, 3]}", 240, 480, 0, 0, (4, 5, 2)),
    ("upsample: {size: [5, 7]}", 280, 560, 0, 0, (4, 6, 8)),
    ("upsample: {size: 5}", 200, 400, 0, 0, (4, 6, 8)),
    ("upsample: {size: [5, 7], functional: true}", 280, 280, 0, 0, (4, 6, 8)),
    ("upsample: {scale: 2, mode: linear}", 0, 192, 0, 0, (6, 8)),
    ("upsample: {scale: 2}", 0, 192, 0, 0, (6, 8)),
    ("upsample: {scale: 2, mode: trilinear}", 0, 128, 0, 0, (2, 2, 2, 1)),
    ("pixel_shuffle: {factor: 2}", 0, 0, 0, 0, (4, 6, 8)),
    ("pixel_unshuffle: {factor: 2}", 0, 0, 0, 0, (4, 6, 8)),
    ("pad: {padding: 1, mode: reflect}", 0, 0, 0, 0, (4, 6, 8)),
    ("pad: {padding: 1}", 0, 0, 0, 0, (4, 6, 8)),
    ("crop: {cropping: 1}", 0, 0, 0, 0, (4, 6, 8)),
]


@pytest.mark.parametrize(("layer", "fvcore", "ptflops", "aten", "torchinfo", "shape"), TOOLS)
def test_each_tool(layer, fvcore, ptflops, aten, torchinfo, shape) -> None:
    assert_each_tool(net(layer, shape), fvcore, ptflops, aten, torchinfo)


def test_own_flops_are_a_weighted_sum_of_taps():
    # 2·taps − 1 per output element: bilinear 4 taps → 7, trilinear 8 → 15, bicubic 16 → 31
    assert cnncalc.analyze(net("upsample: {scale: 2, mode: bilinear}"), "flops").flops == 7 * 768
    assert cnncalc.analyze(net("upsample: {scale: 2, mode: bicubic}"), "flops").flops == 31 * 768
    assert cnncalc.analyze(net("upsample: {scale: 2}"), "flops").flops == 0
    trilinear = net("upsample: {scale: 2, mode: trilinear}", (2, 2, 2, 1))
    assert cnncalc.analyze(trilinear, "flops").flops == 15 * 64


@pytest.mark.parametrize(
    ("layer", "size", "stride", "center"),
    [
        # nearest ×2: unit o sees ⌊o/2⌋ — the jump halves, the size stays
        ("upsample: {scale: 2}", (3, 3), (0.5, 0.5), (1, 1)),
        # bilinear ×2: o sees ⌊(o + ½)/2 − ½⌋ and the next: one more input pixel; unit 0's
        # two taps lie at −1 and 0 before torch clamps them
        ("upsample: {scale: 2, mode: bilinear}", (4, 4), (0.5, 0.5), (0.5, 0.5)),
        ("upsample: {scale: 2, mode: bicubic}", (6, 6), (0.5, 0.5), (0.5, 0.5)),
        # bilinear ÷2: o sees 2o and 2o + 1
        ("upsample: {scale: 0.5, mode: bilinear}", (4, 4), (2, 2), (1.5, 1.5)),
        ("pixel_shuffle: {factor: 2}", (3, 3), (0.5, 0.5), (1, 1)),
        ("pixel_unshuffle: {factor: 2}", (4, 4), (2, 2), (1.5, 1.5)),
        ("pad: {padding: [1, 2, 3, 4]}", (3, 3), (1, 1), (0, -2)),
        ("crop: {cropping: [1, 2, 3, 4]}", (3, 3), (1, 1), (2, 4)),
    ],
)
def test_receptive_field_after_a_3x3_conv(layer, size, stride, center):
    network = net(f"conv: {{filters: 8, kernel: 3}}, {layer}", (16, 16, 8))
    field = receptive_fields(network)[network.output.name]
    assert field is not None
    got = field.to_dict()
    assert (got["size"], got["stride"], got["center"]) == (list(size), list(stride), list(center))


def test_verify_measures_the_same_fields():
    from cnncalc.reference import verify_network

    for layer in (
        "upsample: {scale: 2}",
        "upsample: {scale: 3, mode: bilinear}",
        "upsample: {scale: 2, mode: bicubic}",
        "upsample: {size: 43, mode: bilinear, align_corners: true}",
        "upsample: {scale: 0.5, mode: bilinear}",
        "pixel_shuffle: {factor: 2}",
        "pixel_unshuffle: {factor: 2}",
        "pad: {padding: [1, 2, 3, 0], mode: reflect}",
        "crop: {cropping: [1, 2, 0, 3]}",
    ):
        layers = f"conv: {{filters: 8, kernel: 3}}, {layer}, conv: {{filters: 4, kernel: 3}}"
        result = verify_network(
            net(layers, (24, 24, 3)), batch=2, seed=0, max_memory=1 << 30, rf=True
        )
        assert result.ok, (layer, result.failures())
        assert result.counts()["rf"]["skip"] == 0, layer


ERRORS = [
    # (layer, line, col, words of the message, words of the hint)
    ("upsample: {scale: 2, size: 8}", 3, 5, "exactly one of scale and size", "size: 224"),
    ("upsample", 3, 5, "exactly one of scale and size", "scale: 2"),
    ("upsample: {scale: 2, mode: linear}", 3, 35, "needs 1 spatial axis", "1-D"),
    ("upsample: {scale: 2, mode: trilinear}", 3, 35, "mode trilinear needs 3", "3-D"),
    ("upsample: {scale: 2, align_corners: true}", 3, 39, "interpolating modes", "remove"),
    ("upsample: {scale: 0.1}", 3, 23, "leaves no output", "size"),
    ("upsample: {scale: 1.0e+300}", 3, 23, "beyond 2^63 − 1", "smaller"),
    ("upsample: {scale: [2, 2, 2]}", 3, 23, "3 values", "every axis"),
    ("upsample: {scale: 0}", 3, 23, "scale > 0", None),
    ("pixel_shuffle: {factor: 3}", 3, 29, "not a multiple of factor² = 9", "C·9"),
    ("pixel_unshuffle: {factor: 4}", 3, 31, "does not divide by factor 4", "pad"),
    ("pad: {padding: 4, mode: reflect}", 3, 20, "not smaller than the input's 4", "3"),
    ("pad: {padding: 7, mode: circular}", 3, 20, "more than once", "at most 4"),
    ("pad: {padding: 1, mode: replicate, value: 1}", 3, 51, "only applies to mode constant", None),
    ("pad: {padding: same}", 3, 20, "explicit sizes", "pair per axis"),
    ("crop: {cropping: [2, 2, 0, 0]}", 3, 22, "leaves nothing of its 4-wide", "less than 4"),
]


@pytest.mark.parametrize(("layer", "line", "col", "message", "hint"), ERRORS)
def test_errors_name_the_place_and_the_fix(tmp_path: Path, layer, line, col, message, hint):
    path = tmp_path / "net.yaml"
    path.write_text(H + f"  - {layer}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["params", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    first, *rest = result.stderr.splitlines()
    assert first.startswith(f"{path}:{line}:"), first
    assert message in first, first
    if hint is not None:
        assert rest and rest[0].startswith("  hint: ") and hint in rest[0], rest


def forward(layer: str, x: np.ndarray) -> np.ndarray:
    network = cnncalc.load(f"layers: [{layer}]", input_shape=x.shape[1:])
    return run_forward(network, x=x.astype(np.float32)).outputs[network.output.name]


def test_pixel_shuffle_follows_pytorchs_channel_order():
    # channel c·r² + i·r + j is sub-pixel (i, j): 0 1 / 2 3 (depth_to_space would agree here,
    # but not with two output channels: 0..7 → channel 0 gets 0, 1, 2, 3)
    x = np.arange(8, dtype=np.float32).reshape(1, 1, 1, 8)
    out = forward("pixel_shuffle: {factor: 2}", x)
    assert out[0, :, :, 0].tolist() == [[0, 1], [2, 3]]
    assert out[0, :, :, 1].tolist() == [[4, 5], [6, 7]]
    back = forward("pixel_unshuffle: {factor: 2}", out)
    assert back.ravel().tolist() == list(range(8))


def test_upsample_values_by_hand():
    x = np.array([0.0, 4.0], dtype=np.float32).reshape(1, 2, 1)
    assert forward("upsample: {scale: 2}", x).ravel().tolist() == [0, 0, 4, 4]
    # src = (o + ½)/2 − ½: −¼ (clamped to 0), ¼, ¾, 1¼ (the last index repeats)
    assert forward("upsample: {scale: 2, mode: linear}", x).ravel().tolist() == [0, 1, 3, 4]
    corners = forward("upsample: {size: 5, mode: linear, align_corners: true}", x)
    assert corners.ravel().tolist() == [0, 1, 2, 3, 4]


def test_pad_modes_by_hand():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32).reshape(1, 3, 1)
    assert forward("pad: {padding: 2, value: 9}", x).ravel().tolist() == [9, 9, 1, 2, 3, 9, 9]
    assert forward("pad: {padding: 2, mode: reflect}", x).ravel().tolist() == [3, 2, 1, 2, 3, 2, 1]
    assert forward("pad: {padding: 2, mode: replicate}", x).ravel().tolist() == [
        1, 1, 1, 2, 3, 3, 3
    ]  # fmt: skip
    assert forward("pad: {padding: 2, mode: circular}", x).ravel().tolist() == [
        2, 3, 1, 2, 3, 1, 2
    ]  # fmt: skip
    assert forward("crop: {cropping: [1, 0]}", x).ravel().tolist() == [2, 3]


CASES = [
    ((6, 7, 3), "upsample: {scale: 2}"),
    ((6, 7, 3), "upsample: {scale: 3, mode: bilinear}"),
    ((6, 7, 3), "upsample: {scale: 2.5, mode: bilinear}"),
    ((6, 7, 3), "upsample: {size: [9, 5], mode: bilinear, align_corners: true}"),
    ((6, 7, 3), "upsample: {size: [13, 11]}"),
    ((6, 7, 3), "upsample: {scale: [2, 0.5], mode: bicubic}"),
    ((9, 3), "upsample: {scale: 1.7, mode: linear}"),
    ((9, 3), "upsample: {size: 4}"),
    ((4, 5, 6, 2), "upsample: {scale: 2, mode: trilinear}"),
    ((4, 5, 6, 2), "upsample: {size: [3, 7, 8]}"),
    ((6, 4, 8), "pixel_shuffle: {factor: 2}"),
    ((6, 4, 8), "pixel_unshuffle: {factor: 2}"),
    ((6, 7, 3), "pad: {padding: [1, 2, 3, 0], mode: reflect}"),
    ((6, 7, 3), "pad: {padding: 2, mode: circular}"),
    ((6, 7, 3), "pad: {padding: [1, 2], mode: replicate}"),
    ((6, 7, 3), "pad: {padding: 1, value: 2.5}"),
    ((9, 3), "pad: {padding: [1, 2], mode: reflect}"),
    ((4, 5, 6, 2), "pad: {padding: 1, mode: replicate}"),
    ((4, 5, 6, 2), "pad: {padding: [1, 0, 2, 1, 0, 3], mode: circular}"),
    ((6, 7, 3), "crop: {cropping: [1, 2, 0, 3]}"),
    ((9, 3), "crop: {cropping: 2}"),
    ((4, 5, 6, 2), "crop: {cropping: 1}"),
]


@pytest.mark.parametrize(("shape", "layer"), CASES)
def test_torch_agrees_in_every_rank(shape: tuple[int, ...], layer: str) -> None:
    pytest.importorskip("torch")
    from tests.test_torch_crosscheck import crosscheck

    crosscheck(net(f"conv: {{filters: 4, kernel: 1}}, {layer}", shape), batch=2)


def test_export_writes_the_modules():
    from cnncalc.io.pytorch_code import write

    layers = "upsample: {size: 8, mode: bilinear}, pad: {padding: 1, mode: reflect}, crop: 2"
    source = write(net(layers.replace("crop: 2", "crop: {cropping: 1}")))
    assert 'nn.Upsample(size=8, mode="bilinear", align_corners=False)' in source
    assert "nn.ReflectionPad2d((1, 1, 1, 1))" in source
    assert "class Crop(nn.Module)" in source


@pytest.mark.parametrize(
    "layer",
    [
        "pad: {padding: [0, 0, 0, 1], mode: reflect}",
        "pad: {padding: [2, 1, 0, 2], mode: circular}",
        "pad: {padding: [1, 2, 2, 0], mode: replicate}",
        "pad: {padding: 1, value: 3}",
        "upsample: {scale: 2}",
        "upsample: {scale: 3, mode: bilinear}",
        "upsample: {scale: 1.5, mode: bicubic}",
        "upsample: {size: [5, 3], mode: bilinear, align_corners: true}",
        "upsample: {scale: 0.5, mode: bilinear}",
        "pixel_shuffle: {factor: 2}",
        "pixel_unshuffle: {factor: 2}",
        "crop: {cropping: [1, 0, 0, 1]}",
    ],
)
def test_box_maps_are_what_the_forward_depends_on(layer: str) -> None:
    """Unit by unit against NaN-probing the forward: a reflected border unit's box is its
    source pixel's; an interpolating unit's the union of its taps' (a zero weight included)."""
    from tests.test_reference import box_maps, nan_probe_boxes

    for shape in [(4, 4, 4), (6, 4, 4)]:
        stack = f"conv: {{filters: 4, kernel: 1}}, {layer}, conv: {{filters: 4, kernel: 2}}"
        network = net(stack, shape)
        probed, boxes = nan_probe_boxes(network), box_maps(network)
        for name in probed:
            np.testing.assert_array_equal(boxes[name], probed[name], err_msg=name)
