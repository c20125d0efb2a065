"""Multiply counts: torchvision's MACs and the peer tools' conventions, to the unit."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.layers import KINDS
from cnncalc.passes.flops import CONVENTIONS

# Weight MACs (conv + linear, no bias): torchvision's published GFLOPS column, and fvcore's
# conv+linear operators, measured with torchvision 0.29.1 / fvcore 0.1.5.post20221221.
TORCHVISION_MACS = {
    "resnet50": 4_089_184_256,
    "alexnet_torchvision": 714_188_480,
    "vgg16": 15_470_264_320,
    "resnet18": 1_814_073_344,
    "mobilenet_v2": 300_774_272,
    "googlenet": 1_498_376_192,
}

# Totals printed by the tools for torchvision models at 1×3×224×224 (eval, batch 1), measured
# with torch 2.14.1, torchvision 0.29.1, fvcore 0.1.5.post20221221
# (FlopCountAnalysis(model, x).total()), ptflops 0.7.5 (get_model_complexity_info(...,
# as_strings=False, backend='pytorch' | 'aten')) and torchinfo 1.8.0
# (summary(model, input_size=(1, 3, 224, 224)).total_mult_adds).
TOOL_TOTALS = {
    "resnet18": {
        "fvcore": 1_819_065_856,
        "ptflops": 1_825_313_768,
        "ptflops-aten": 1_814_074_344,
        "torchinfo": 1_814_083_944,
    },
    "mobilenet_v2": {
        "fvcore": 314_193_216,
        "ptflops": 320_300_008,
        "ptflops-aten": 300_775_272,
        "torchinfo": 300_809_384,
    },
    "resnet50": {
        "fvcore": 4_111_512_576,
        "ptflops": 4_132_436_968,
        "ptflops-aten": 4_089_185_256,
        "torchinfo": 4_089_238_376,
    },
    "alexnet_torchvision": {
        "fvcore": 714_197_696,
        "ptflops": 716_441_128,
        "ptflops-aten": 714_682_664,
        "torchinfo": 714_682_664,
    },
    "vgg16": {
        "fvcore": 15_470_289_408,
        "ptflops": 15_523_225_576,
        "ptflops-aten": 15_483_821_032,
        "torchinfo": 15_483_821_032,
    },
    "googlenet": {
        "fvcore": 1_504_878_688,
        "ptflops": 1_513_907_448,
        "ptflops-aten": 1_498_377_192,
        "torchinfo": 1_498_391_752,
    },
}


@pytest.mark.parametrize(("arch", "macs"), TORCHVISION_MACS.items())
def test_torchvision_macs(arch: str, macs: int):
    report = cnncalc.analyze(cnncalc.load(arch))
    assert report.macs == macs
    assert report.flops == macs  # the default convention counts MACs
    assert sum(row.multiplies.macs for row in report.layers) == macs


@pytest.mark.parametrize(
    ("arch", "convention", "expected"),
    [(a, c, v) for a, by_tool in TOOL_TOTALS.items() for c, v in by_tool.items()],
)
def test_tool_conventions(arch: str, convention: str, expected: int):
    assert cnncalc.analyze(cnncalc.load(arch), convention).flops == expected


def net(text: str, shape: tuple[int, ...] = (8, 8, 4)) -> cnncalc.Network:
    return cnncalc.load(f"layers:\n  - {text}\n", input_shape=shape)


# One layer on a 1×4×8×8 input, as each tool counted it (tiny-model measurements, same
# versions as above).
TINY = [
    # layer, fvcore, ptflops, ptflops-aten, torchinfo
    ("conv: {filters: 8, kernel: 3, padding: 1}", 18432, 18944, 18944, 18944),
    ("conv: {filters: 8, kernel: 3, padding: 1, bias: false}", 18432, 18432, 18432, 18432),
    ("conv: {filters: 8, kernel: 3, padding: 1, groups: 2}", 9216, 9728, 9728, 9728),
    ("conv: {filters: 8, kernel: 3, padding: 2, dilation: 2}", 18432, 18944, 18944, 18944),
    ("conv: {filters: 8, kernel: 3, stride: 2, padding: 1}", 4608, 4736, 4736, 4736),
    (
        "conv_transpose: {filters: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1}",
        18432,
        20480,
        20480,
        75776,
    ),
    (
        "conv_transpose: {filters: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1, "
        "groups: 2}",
        9216,
        11264,
        11264,
        38912,
    ),
    ("conv_transpose: {filters: 8, kernel: 2, stride: 2, bias: false}", 8192, 8192, 8192, 32768),
    ("batchnorm", 512, 512, 0, 8),
    ("batchnorm: {affine: false}", 256, 256, 0, 0),
    ("maxpool: {kernel: 2}", 0, 512, 0, 0),
    ("maxpool: {kernel: 3, stride: 2, padding: 1}", 0, 512, 0, 0),
    ("avgpool: {kernel: 2}", 0, 512, 0, 0),
    ("adaptive_avgpool: {output: 1}", 256, 512, 0, 0),
    ("adaptive_avgpool: {output: [2, 3]}", 256, 512, 0, 0),
    ("adaptive_maxpool: {output: 1}", 0, 512, 0, 0),
    ("relu", 0, 512, 0, 0),
    ("relu6", 0, 256, 0, 0),
    ("leaky_relu", 0, 256, 0, 0),
    ("elu", 0, 512, 0, 0),
    ("gelu", 0, 512, 0, 0),
    ("sigmoid", 0, 0, 0, 0),
    ("tanh", 0, 0, 0, 0),
    ("silu", 0, 256, 0, 0),
    ("hardswish", 0, 0, 0, 0),
    ("hardsigmoid", 0, 0, 0, 0),
    ("softmax", 0, 256, 0, 0),
    ("prelu: {per_channel: false}", 0, 512, 0, 1),
    ("prelu", 0, 512, 0, 4),
    ("lrn: {size: 2}", 0, 1088, 0, 0),
    ("dropout", 0, 0, 0, 0),
    ("flatten", 0, 0, 0, 0),
]


def assert_each_tool(network: cnncalc.Network, *expected: int) -> None:
    """The FLOPs of fvcore, ptflops, ptflops-aten and torchinfo, in that order."""
    for convention, flops in zip(
        ("fvcore", "ptflops", "ptflops-aten", "torchinfo"), expected, strict=True
    ):
        assert cnncalc.analyze(network, convention).flops == flops, convention


@pytest.mark.parametrize(("layer", "fvcore", "ptflops", "aten", "torchinfo"), TINY)
def test_tiny_layers_match_each_tool(layer, fvcore, ptflops, aten, torchinfo):
    assert_each_tool(net(layer), fvcore, ptflops, aten, torchinfo)


def test_dense_counts():
    # Linear(16, 10) on a flat 16: MACs 160; ptflops/torchinfo add the bias, fvcore does not
    network = net("dense: {units: 10}", (16,))
    assert cnncalc.analyze(network).macs == 160
    assert cnncalc.analyze(network, "fvcore").flops == 160
    assert cnncalc.analyze(network, "ptflops").flops == 170
    assert cnncalc.analyze(network, "torchinfo").flops == 170
    assert cnncalc.analyze(network, "flops").flops == 2 * 160 + 10


def test_functional_layers_count_once_in_ptflops():
    module = net("relu")
    functional = net("relu: {functional: true}")
    assert cnncalc.analyze(module, "ptflops").flops == 512  # hook + F.relu
    assert cnncalc.analyze(functional, "ptflops").flops == 256


def test_flops_convention_by_hand():
    # conv 3×3, 4→8 channels, padding 1, on 8×8: MACs = 8·8·8·3·3·4 = 18,432;
    # FLOPs = 2·MACs + one bias add per output element (8·8·8 = 512) = 37,376
    report = cnncalc.analyze(net("conv: {filters: 8, kernel: 3, padding: 1}"), "flops")
    assert report.macs == 18_432
    assert report.flops == 37_376
    # maxpool 2: 3 comparisons per output element, 4·4·4 outputs
    assert cnncalc.analyze(net("maxpool: {kernel: 2}"), "flops").flops == 3 * 64
    # global average: 64 − 1 adds and a divide per channel
    assert cnncalc.analyze(net("global_avgpool"), "flops").flops == 64 * 4


def test_every_kind_has_a_rule_in_every_convention():
    for convention in CONVENTIONS.values():
        assert set(convention.rules) == set(KINDS), convention.name


def test_unknown_convention_is_an_error():
    with pytest.raises(SpecError, match="unknown convention"):
        cnncalc.analyze(cnncalc.load("seed_32x32"), "gflops")
