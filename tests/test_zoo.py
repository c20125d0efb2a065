"""The bundled architectures (architectures/*.yaml) against their published numbers.

Parameter totals are PyTorch's sum(p.numel()) for the reference model; buffers count only
BatchNorm running mean and variance (2 per BN channel), not num_batches_tracked.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc import Report

ARCH_DIR = Path(__file__).resolve().parent.parent / "architectures"


@cache
def report(name: str) -> Report:
    return cnncalc.analyze(cnncalc.load(ARCH_DIR / f"{name}.yaml"))


def output_of(rep: Report, name: str) -> tuple[int, ...]:
    """Output shape of a layer, or of a block instance / repeat (its last layer)."""
    rows = [r for r in rep.layers if r.node.name == name or r.node.name.startswith(name + ".")]
    assert rows, f"no layer {name!r} in {rep.name}"
    return rows[-1].output_shape


# name: (params, buffers, final output shape)
EXPECTED = {
    # hand-computed in the exercise: 1,520 + 1,810 + 6,410
    "seed_32x32": (9_740, 0, (10,)),
    # hand-computed in the exercise: 456 + 550 + 1,600
    "seed_21x21": (2_606, 0, (10,)),
    # hand-computed in the exercise: 85 + 230 + 405
    "seed_conv4": (720, 0, (5,)),
    # LeNet-5 as commonly implemented: 156 + 2,416 + 48,120 + 10,164 + 850
    "lenet5": (61_706, 0, (10,)),
    # AlexNet paper (Krizhevsky et al. 2012) as one tower, no groups
    "alexnet": (62_378_344, 0, (1000,)),
    # AlexNet paper with its two towers as groups=2 on conv2, conv4, conv5
    "alexnet_grouped": (60_965_224, 0, (1000,)),
    # torchvision.models.alexnet sum(p.numel())
    "alexnet_torchvision": (61_100_840, 0, (1000,)),
    # VGG configuration A of Simonyan & Zisserman 2014 = torchvision.models.vgg11 sum(p.numel())
    # convs 1,792 + 73,856 + 295,168 + 590,080 + 1,180,160 + 3·2,359,808 = 9,220,480;
    # fc 25,088·4,096 + 4,096 + 4,096·4,096 + 4,096 + 4,096·1,000 + 1,000 = 123,642,856
    "vgg11": (132_863_336, 0, (1000,)),
    # configuration B: A + 64→64 (36,928) and 128→128 (147,584) convs = vgg11 + 184,512
    "vgg13": (133_047_848, 0, (1000,)),
    # configuration D = torchvision.models.vgg16 sum(p.numel())
    "vgg16": (138_357_544, 0, (1000,)),
    # configuration E: D + one 256 (590,080) and two 512 (2,359,808 each) convs
    "vgg19": (143_667_240, 0, (1000,)),
    # torchvision.models.resnet18 sum(p.numel()); buffers: BN channels
    # stem 64 + layer1 4·64 + layer2 (4·128 + 128) + layer3 (4·256 + 256) + layer4 (4·512 + 512)
    # = 64 + 256 + 640 + 1,280 + 2,560 = 4,800, ×2 (mean, var) = 9,600
    "resnet18": (11_689_512, 9_600, (1000,)),
    # torchvision.models.resnet50 sum(p.numel()); running_mean + running_var numel
    "resnet50": (25_557_032, 53_120, (1000,)),
    # torchvision.models.mobilenet_v2 sum(p.numel()); buffers: BN channels
    # stem 32; block (in, t, out): expand in·t (t > 1) + depthwise in·t + project out
    # stage1 32+16 = 48; stage2 (96+96+24) + (144+144+24) = 528;
    # stage3 (144+144+32) + 2·(192+192+32) = 1,152; stage4 (192+192+64) + 3·(384+384+64) = 2,944;
    # stage5 (384+384+96) + 2·(576+576+96) = 3,360; stage6 (576+576+160) + 2·(960+960+160) = 5,472;
    # stage7 960+960+320 = 2,240; head 1,280
    # sum 32+48+528+1,152+2,944+3,360+5,472+2,240+1,280 = 17,056, ×2 = 34,112
    "mobilenet_v2": (3_504_872, 34_112, (1000,)),
    # torchvision.models.googlenet(aux_logits=False) sum(p.numel()); buffers: BN channels
    # stem 64+64+192 = 320; each inception c1+c3r+c3+c5r+c5+pool:
    # 3a 368, 3b 640, 4a 624, 4b 648, 4c 664, 4d 704, 4e 1,024, 5a 1,024, 5b 1,264 = 6,960
    # total 7,280, ×2 = 14,560
    "googlenet": (6_624_904, 14_560, (1000,)),
    # torchvision.models.googlenet(aux_logits=True) sum(p.numel()): googlenet + two aux heads,
    # each BasicConv2d(C, 128, 1) + fc1 2,048→1,024 + fc2 1,024→1,000:
    # aux1 (C 512) 65,536 + 256 + 2,098,176 + 1,025,000 = 3,188,968; aux2 (C 528) 3,191,016;
    # buffers googlenet's + 2·(2·128)
    "googlenet_aux": (13_004_888, 15_072, (1000,)),
    # torchvision.models.inception_v3 (aux_logits=True) sum(p.numel()); buffers: BN channels
    # stem 32+32+64+80+192 = 400; Mixed_5b/c/d (432 + pool) 464+496+496 = 1,456; 6a 640;
    # 6b-e (768 + 6·c7) 1,536+1,728+1,728+1,920 = 6,912; 7a 1,280; 7b, 7c 3,264 each;
    # AuxLogits 128+768 = 896; total 18,112, ×2 = 36,224
    "inception_v3": (27_161_264, 36_224, (1000,)),
    # Szegedy et al. 2014, Table 1 without the auxiliary heads: 5×5 branches, conv biases,
    # no batch norm
    "googlenet_paper": (6_998_552, 0, (1000,)),
    # torchvision.models.convnext_tiny sum(p.numel()); LayerNorm has no buffers
    # stem 4,704 + 192; a block of width d: dw 49·d + d, norm 2d, pwconv1 4d² + 4d,
    # pwconv2 4d² + d, γ d = 8d² + 58d; downsampling 2d + 8d² + 2d; head 1,536 + 769,000
    "convnext_tiny": (28_589_128, 0, (1000,)),
    # torchvision.models.shufflenet_v2_x1_0 sum(p.numel()); buffers: BN channels
    # conv1 24; stage2: first unit 24 + 58 + 58 + 58 + 58, then 3·(58 + 58 + 58) = 256 + 522;
    # stage3 (116 + 4·116) + 7·(3·116) = 580 + 2,436; stage4 (232 + 4·232) + 3·(3·232) =
    # 1,160 + 2,088; conv5 1,024: 8,090 channels, ×2 = 16,180
    "shufflenet_v2_x1_0": (2_278_604, 16_180, (1000,)),
    # torchvision.models.efficientnet_b0 sum(p.numel()); buffers: BN channels
    "efficientnet_b0": (5_288_548, 42_016, (1000,)),
    # torchvision.models.regnet_y_400mf sum(p.numel()); buffers: BN channels
    "regnet_y_400mf": (4_344_144, 27_152, (1000,)),
    # torchvision.models.segmentation.fcn_resnet50(aux_loss=False) sum(p.numel()): resnet50
    # without fc 23,508,032 + FCNHead 2048·512·9 + 2·512 + 512·21 + 21 = 9,448,981; buffers
    # resnet50's 53,120 + the head's BN 2·512
    "fcn_resnet50": (32_957_013, 54_144, (224, 224, 21)),
    # torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(aux_loss=False)
    "deeplabv3_mobilenet_v3_large": (11_025_477, 27_984, (224, 224, 21)),
    # Ronneberger et al. 2015 with biases, no batch norm: down 37,568 + 221,440 + 885,248 +
    # 3,539,968, bottom 14,157,824, up 9,176,576 + 2,294,528 + 573,824 + 143,552, 1×1 130
    "unet": (31_030_658, 0, (388, 388, 2)),
    # torchvision.models.video.r3d_18 sum(p.numel()); buffers: BN channels as resnet18's
    # (9,600): the same widths, each 3×3×3 conv 3× the 3×3's weights
    "r3d_18": (33_371_472, 9_600, (400,)),
    # torchvision.models.video.r2plus1d_18 sum(p.numel()); buffers: resnet18's 4,800 BN
    # channels, the stem's 45 and two BNs of M = ⌊27·i·o/(9·i + 3·o)⌋ per block (M of the
    # block's in and out planes): layer1 4·144; layer2 2·230 + 2·288; layer3 2·460 + 2·576;
    # layer4 2·921 + 2·1,152 = 7,830; (4,800 + 45 + 7,830)·2 = 25,350
    "r2plus1d_18": (31_505_325, 25_350, (400,)),
    # the torchaudio tutorial's M5: convs 2,592 + 3,104 + 6,208 + 12,352, BN 2·(32 + 32 + 64
    # + 64) = 384, fc 64·35 + 35 = 2,275: 26,915 (the tutorial prints the same)
    "m5": (26_915, 384, (35,)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_totals(name: str) -> None:
    params, buffers, output = EXPECTED[name]
    rep = report(name)
    assert rep.totals.params == params
    assert rep.totals.trainable_params == params
    assert rep.totals.buffers == buffers
    assert rep.layers[-1].output_shape == output


def test_every_architecture_is_tested() -> None:
    assert sorted(p.stem for p in ARCH_DIR.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("path", sorted(ARCH_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_loads_with_description(path: Path) -> None:
    net = cnncalc.load(path)
    assert len(net) > 0
    assert net.name == path.stem
    descriptions = [
        line.split(":", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("description:")
    ]
    assert len(descriptions) == 1 and descriptions[0]


# (layer name, output shape, params) for every layer of the exercise networks
SEED_LAYERS = {
    "seed_32x32": [
        ("conv1", (32, 32, 20), 1_520),
        ("relu1", (32, 32, 20), 0),
        ("maxpool1", (16, 16, 20), 0),
        ("conv2", (16, 16, 10), 1_810),
        ("relu2", (16, 16, 10), 0),
        ("maxpool2", (8, 8, 10), 0),
        ("flatten1", (640,), 0),
        ("dense1", (10,), 6_410),
    ],
    "seed_21x21": [
        ("conv1", (9, 9, 6), 456),
        ("maxpool1", (4, 4, 6), 0),
        ("conv2", (4, 4, 10), 550),
        ("flatten1", (160,), 0),
        ("dense1", (10,), 1_600),
    ],
    "seed_conv4": [
        ("conv1", (31, 31, 5), 85),
        ("maxpool1", (10, 10, 5), 0),
        ("conv2", (8, 8, 5), 230),
        ("maxpool2", (4, 4, 5), 0),
        ("dense1", (5,), 405),
    ],
}


@pytest.mark.parametrize("name", sorted(SEED_LAYERS))
def test_seed_layers(name: str) -> None:
    rows = [(r.node.name, r.output_shape, r.counts.params) for r in report(name).layers]
    assert rows == SEED_LAYERS[name]


def test_seed_conv4_matches_shorthand_line() -> None:
    line = "Conv4-5-Pvalid-S2, Pool3, Conv3-5-Pvalid-S1, Pool2, FC5"
    rep = cnncalc.analyze(cnncalc.load(line, input_shape=(64, 64, 1)))
    assert [(r.output_shape, r.counts.params) for r in rep.layers] == [
        (r.output_shape, r.counts.params) for r in report("seed_conv4").layers
    ]


@pytest.mark.parametrize(
    ("name", "layer", "shape"),
    [
        ("lenet5", "s4", (5, 5, 16)),
        ("alexnet", "pool5", (6, 6, 256)),
        ("alexnet_grouped", "pool5", (6, 6, 256)),
        ("alexnet_torchvision", "features.12", (6, 6, 256)),
        ("alexnet_torchvision", "avgpool", (6, 6, 256)),
        ("vgg16", "block5.pool", (7, 7, 512)),
        ("resnet18", "layer1", (56, 56, 64)),
        ("resnet18", "layer4", (7, 7, 512)),
        ("resnet50", "maxpool1", (56, 56, 64)),
        ("resnet50", "layer1", (56, 56, 256)),
        ("resnet50", "layer2", (28, 28, 512)),
        ("resnet50", "layer3", (14, 14, 1024)),
        ("resnet50", "layer4", (7, 7, 2048)),
        ("mobilenet_v2", "stem", (112, 112, 32)),
        ("mobilenet_v2", "stage7", (7, 7, 320)),
        ("mobilenet_v2", "head", (7, 7, 1280)),
        ("googlenet", "maxpool2", (28, 28, 192)),
        ("googlenet", "inception3a", (28, 28, 256)),
        ("googlenet", "inception3b", (28, 28, 480)),
        ("googlenet", "inception4e", (14, 14, 832)),
        ("googlenet", "inception5b", (7, 7, 1024)),
        # the paper's Table 1, row by row
        ("googlenet_paper", "pool1", (56, 56, 64)),
        ("googlenet_paper", "conv2", (56, 56, 192)),
        ("googlenet_paper", "pool2", (28, 28, 192)),
        ("googlenet_paper", "inception3b", (28, 28, 480)),
        ("googlenet_paper", "pool3", (14, 14, 480)),
        ("googlenet_paper", "inception4e", (14, 14, 832)),
        ("googlenet_paper", "pool4", (7, 7, 832)),
        ("googlenet_paper", "inception5b", (7, 7, 1024)),
        ("googlenet_paper", "pool5", (1, 1, 1024)),
        ("vgg11", "block5.pool", (7, 7, 512)),
        ("convnext_tiny", "stem.norm", (56, 56, 96)),
        ("convnext_tiny", "stage1.0.pwconv1", (56, 56, 384)),
        ("convnext_tiny", "stage2", (28, 28, 192)),
        ("convnext_tiny", "stage3", (14, 14, 384)),
        ("convnext_tiny", "stage4", (7, 7, 768)),
        ("convnext_tiny", "avgpool", (1, 1, 768)),
        ("shufflenet_v2_x1_0", "maxpool", (56, 56, 24)),
        ("shufflenet_v2_x1_0", "stage2.1.split.0", (28, 28, 58)),
        ("shufflenet_v2_x1_0", "stage2", (28, 28, 116)),
        ("shufflenet_v2_x1_0", "stage3", (14, 14, 232)),
        ("shufflenet_v2_x1_0", "stage4", (7, 7, 464)),
        ("shufflenet_v2_x1_0", "mean", (1024,)),
        ("fcn_resnet50", "layer2", (28, 28, 512)),
        ("fcn_resnet50", "layer4", (28, 28, 2048)),  # dilated: output stride 8
        ("fcn_resnet50", "classifier.4", (28, 28, 21)),
        ("deeplabv3_mobilenet_v3_large", "features.12", (14, 14, 112)),
        ("deeplabv3_mobilenet_v3_large", "features.16.2", (14, 14, 960)),  # dilated: 16
        ("deeplabv3_mobilenet_v3_large", "classifier.0.convs.4.3", (1, 1, 256)),
        ("deeplabv3_mobilenet_v3_large", "classifier.0.convs.4.upsample", (14, 14, 256)),
        ("deeplabv3_mobilenet_v3_large", "classifier.0.cat", (14, 14, 1280)),
        ("unet", "down4", (64, 64, 512)),
        ("unet", "bottom", (28, 28, 1024)),
        ("unet", "up1.crop", (56, 56, 512)),
        ("unet", "up1", (52, 52, 512)),
        ("unet", "up4.crop", (392, 392, 64)),
        ("efficientnet_b0", "stem", (112, 112, 32)),
        ("efficientnet_b0", "stage1", (112, 112, 16)),
        ("efficientnet_b0", "stage3", (28, 28, 40)),
        ("efficientnet_b0", "stage5", (14, 14, 112)),
        ("efficientnet_b0", "stage7", (7, 7, 320)),
        ("efficientnet_b0", "head", (7, 7, 1280)),
        ("regnet_y_400mf", "trunk.block1", (56, 56, 48)),
        ("regnet_y_400mf", "trunk.block2", (28, 28, 104)),
        ("regnet_y_400mf", "trunk.block3", (14, 14, 208)),
        ("regnet_y_400mf", "trunk.block4", (7, 7, 440)),
        ("vgg19", "block5.pool", (7, 7, 512)),
        ("r3d_18", "stem.2", (16, 56, 56, 64)),
        ("r3d_18", "layer1", (16, 56, 56, 64)),
        ("r3d_18", "layer2", (8, 28, 28, 128)),
        ("r3d_18", "layer3", (4, 14, 14, 256)),
        ("r3d_18", "layer4", (2, 7, 7, 512)),
        ("r3d_18", "avgpool", (1, 1, 1, 512)),
        ("r2plus1d_18", "stem.0", (16, 56, 56, 45)),
        ("r2plus1d_18", "layer2.0.conv1.0.0", (16, 28, 28, 230)),  # spatial stride first
        ("r2plus1d_18", "layer2.0.conv1.0.3", (8, 28, 28, 128)),  # then temporal
        ("r2plus1d_18", "layer4", (2, 7, 7, 512)),
        ("m5", "conv1", (496, 32)),  # ⌊(8000 − 80)/16⌋ + 1
        ("m5", "pool1", (124, 32)),
        ("m5", "pool2", (30, 32)),  # ⌊122/4⌋
        ("m5", "pool3", (7, 64)),
        ("m5", "conv4", (5, 64)),
        ("m5", "pool4", (1, 64)),
    ],
)
def test_intermediate_shapes(name: str, layer: str, shape: tuple[int, ...]) -> None:
    assert output_of(report(name), layer) == shape


def test_mobilenet_v2_residuals() -> None:
    # residual add when stride 1 and in == out: stage2 1, stage3 2, stage4 3, stage5 2, stage6 2
    adds = [r.node.name for r in report("mobilenet_v2").layers if r.node.kind == "add"]
    assert len(adds) == 10
    # t = 1 in stage1: no expand layers
    assert not any(r.node.name.startswith("stage1.0.expand") for r in report("mobilenet_v2").layers)


def test_alexnet_groups_halve_conv_weights() -> None:
    plain = {r.node.name: r.counts.params for r in report("alexnet").layers}
    grouped = {r.node.name: r.counts.params for r in report("alexnet_grouped").layers}
    assert grouped["conv2"] == 5 * 5 * 48 * 256 + 256
    assert grouped["conv4"] == 3 * 3 * 192 * 384 + 384
    assert grouped["conv5"] == 3 * 3 * 192 * 256 + 256
    assert plain["conv2"] - grouped["conv2"] == 5 * 5 * 48 * 256


# weight MACs at 224×224×3, in GMACs as published (torchvision's model table, GFLOPS column)
PUBLISHED_GMACS = {
    "vgg11": 7.61,
    "vgg13": 11.31,
    "vgg16": 15.47,
    "vgg19": 19.63,
    "convnext_tiny": 4.46,
    "shufflenet_v2_x1_0": 0.14,
    "efficientnet_b0": 0.39,
    "regnet_y_400mf": 0.40,
    # video nets at their 16×112×112×3 clips
    "r3d_18": 40.70,
    "r2plus1d_18": 40.52,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_GMACS))
def test_macs_match_the_published_figures(name: str) -> None:
    assert round(report(name).macs / 1e9, 2) == PUBLISHED_GMACS[name]


def test_googlenet_paper_inception_3a_by_hand() -> None:
    # 1×1: 192·64 + 64; 3×3: 192·96 + 96 + 9·96·128 + 128; 5×5: 192·16 + 16 + 25·16·32 + 32;
    # pool proj: 192·32 + 32
    layers = [r for r in report("googlenet_paper").layers if r.node.name.startswith("inception3a.")]
    expected = 12_352 + (18_528 + 110_720) + (3_088 + 12_832) + 6_176
    assert sum(r.counts.params for r in layers) == expected == 163_696
    # about 1.5 billion multiply-adds at inference, as the paper says
    assert 1.5e9 < report("googlenet_paper").macs < 1.6e9


def test_convnext_block_by_hand() -> None:
    # stage1 block (d = 96): dw 7·7·96 + 96, norm 2·96, pwconv1 96·384 + 384, pwconv2
    # 384·96 + 96, γ 96 = 8d² + 58d; MACs at 56×56: 49·96 + 96·384 + 384·96 per position
    layers = [r for r in report("convnext_tiny").layers if r.node.name.startswith("stage1.0.")]
    assert sum(r.counts.params for r in layers) == 8 * 96**2 + 58 * 96 == 79_296
    assert sum(r.multiplies.macs for r in layers) == 56 * 56 * (49 * 96 + 2 * 96 * 384)
    kinds = [r.node.kind for r in layers]
    assert kinds.count("dense") == 2 and "layer_scale" in kinds and "stochastic_depth" in kinds
    rates = [
        r.node.op.rate  # type: ignore[attr-defined]
        for r in report("convnext_tiny").layers
        if r.node.kind == "stochastic_depth"
    ]
    assert len(rates) == 18 and rates[0] == 0.0 and rates[-1] == pytest.approx(0.1)


def test_shufflenet_units_split_and_shuffle() -> None:
    rep = report("shufflenet_v2_x1_0")
    kinds = [r.node.kind for r in rep.layers]
    # stride-1 units (3 + 7 + 3) split in two slices; every unit (16) shuffles
    assert kinds.count("slice") == 2 * 13 and kinds.count("channel_shuffle") == 16
    unit = {r.node.name: r for r in rep.layers if r.node.name.startswith("stage3.1.")}
    assert unit["stage3.1.branch2.pw1.conv"].node.inputs == ("stage3.1.split.1",)
    assert unit["stage3.1.cat"].node.inputs == ("stage3.1.split.0", "stage3.1.branch2.pw2.relu")


def test_efficientnet_residuals_go_through_stochastic_depth() -> None:
    rep = report("efficientnet_b0")
    depths = [r for r in rep.layers if r.node.kind == "stochastic_depth"]
    # residual blocks: 16 blocks minus the 7 first blocks of the stages (shape changes)
    assert len(depths) == 9
    assert [r.node.op.rate for r in depths][-1] == pytest.approx(0.2 * 14 / 16)  # type: ignore[attr-defined]
    assert sum(r.node.kind == "multiply" for r in rep.layers) == 16  # one SE per block


VIDEO_AUDIO = {"r3d_18": (16, 112, 112, 3), "r2plus1d_18": (16, 112, 112, 3), "m5": (8000, 1)}


def _torch_counts(model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """torch's own numbers, on an input of `shape` (channels last): params and buffers per
    module (running statistics, not num_batches_tracked), the output, and the weight MACs of
    every ConvNd and Linear counted by forward hooks."""
    import torch

    macs: dict[str, int] = {}
    names = {module: name for name, module in model.named_modules()}

    def hook(module: Any, args: Any, out: Any) -> None:
        if isinstance(module, torch.nn.Conv1d | torch.nn.Conv2d | torch.nn.Conv3d):
            taps = math.prod(module.kernel_size) * module.in_channels // module.groups
            macs[names[module]] = out.numel() * taps
        elif isinstance(module, torch.nn.Linear):
            macs[names[module]] = out.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    *sizes, c = shape
    with torch.no_grad():
        out = model.eval()(torch.zeros(1, c, *sizes))
    for handle in handles:
        handle.remove()
    per_layer = {
        name: (
            sum(p.numel() for p in module.parameters(recurse=False)),
            sum(
                b.numel() for n, b in module.named_buffers(recurse=False) if "num_batches" not in n
            ),
        )
        for name, module in model.named_modules()
        if list(module.parameters(recurse=False))
    }
    return {"per_layer": per_layer, "output": out.numel(), "macs": macs}


@pytest.mark.parametrize("name", sorted(VIDEO_AUDIO))
def test_video_and_audio_nets_agree_with_torch(name: str) -> None:
    """The zoo's r3d_18, r2plus1d_18 and m5 against the same nets in torch (written from
    torchvision's and torchaudio's source): every module with weights is a layer of the same
    name with the same params and buffers and the same weight MACs; the output's size."""
    pytest.importorskip("torch")
    from tests import torchvision_video

    theirs = _torch_counts(getattr(torchvision_video, name)(), VIDEO_AUDIO[name])
    rep = report(name)
    assert rep.network.input_shape == VIDEO_AUDIO[name]
    rows = {row.node.name: row for row in rep.layers}
    mine = {
        n: (r.counts.params, r.counts.buffers)
        for n, r in rows.items()
        if r.counts.params or r.counts.buffers
    }
    assert mine == theirs["per_layer"]
    assert {n: r.multiplies.macs for n, r in rows.items() if r.multiplies.macs} == theirs["macs"]
    assert math.prod(rep.layers[-1].output_shape) == theirs["output"]
