"""ConvNeXt-T, ShuffleNet V2 1.0×, EfficientNet-B0 and RegNetY-400MF written from torchvision's
source (`torchvision/models/convnext.py`, `shufflenetv2.py`, `efficientnet.py`, `regnet.py`
and `torchvision/ops/misc.py`, `stochastic_depth.py`, 0.28), with its module names and its
forward code (the permutes, the chunk and view-transpose-view shuffle, the fx-wrapped
stochastic depth), plus small 1-D and 3-D nets. torchvision is not installed in CI; these
stand in for it. RegNet's widths are the ones `BlockParams.from_init_params` computes.
"""

from __future__ import annotations

import math

import torch
import torch.fx
import torch.nn.functional as F
from torch import Tensor, nn

# --- torchvision.ops ------------------------------------------------------------------------


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


torch.fx.wrap("stochastic_depth")


class StochasticDepth(nn.Module):
    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)


class Conv2dNormActivation(nn.Sequential):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        norm_layer=nn.BatchNorm2d,
        activation_layer=nn.ReLU,
        bias=None,
    ) -> None:
        padding = (kernel_size - 1) // 2
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=bias
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(
                activation_layer(inplace=True)
                if activation_layer is not nn.GELU
                else activation_layer()
            )
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    def __init__(self, input_channels: int, squeeze_channels: int, activation=nn.ReLU) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = nn.Sigmoid()

    def forward(self, input: Tensor) -> Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return scale * input


class Permute(nn.Module):
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.permute(x, self.dims)


# --- ConvNeXt -------------------------------------------------------------------------------


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        x = x.permute(0, 3, 1, 2)
        return x


class CNBlock(nn.Module):
    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input: Tensor) -> Tensor:
        result = self.layer_scale * self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


class ConvNeXt(nn.Module):
    def __init__(self, settings, stochastic_depth_prob=0.1, num_classes=1000) -> None:
        super().__init__()
        norm_layer = lambda c: LayerNorm2d(c, eps=1e-6)  # noqa: E731
        layers: list[nn.Module] = []
        first = settings[0][0]
        layers.append(
            Conv2dNormActivation(
                3, first, 4, 4, norm_layer=norm_layer, activation_layer=None, bias=True
            )
        )
        total = sum(s[2] for s in settings)
        stage_block_id = 0
        for input_channels, out_channels, num_layers in settings:
            stage: list[nn.Module] = []
            for _ in range(num_layers):
                sd_prob = stochastic_depth_prob * stage_block_id / (total - 1.0)
                stage.append(CNBlock(input_channels, 1e-6, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if out_channels is not None:
                layers.append(
                    nn.Sequential(
                        norm_layer(input_channels),
                        nn.Conv2d(input_channels, out_channels, kernel_size=2, stride=2),
                    )
                )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = settings[-1][1] if settings[-1][1] is not None else settings[-1][0]
        self.classifier = nn.Sequential(
            norm_layer(last), nn.Flatten(1), nn.Linear(last, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny(num_classes: int = 1000) -> ConvNeXt:
    settings = [(96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)]
    return ConvNeXt(settings, 0.1, num_classes)


# --- ShuffleNet V2 --------------------------------------------------------------------------


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, num_channels, height, width)
    return x


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        branch_features = oup // 2
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, bias=False, groups=inp),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, 1, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch_features, branch_features, 1, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                branch_features, branch_features, 3, stride, 1, bias=False, groups=branch_features
            ),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        out = channel_shuffle(out, 2)
        return out


class ShuffleNetV2(nn.Module):
    def __init__(self, repeats, channels, num_classes: int = 1000) -> None:
        super().__init__()
        input_channels = 3
        output_channels = channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, count, output_channels in zip(
            ["stage2", "stage3", "stage4"], repeats, channels[1:], strict=False
        ):
            seq = [InvertedResidual(input_channels, output_channels, 2)]
            seq += [InvertedResidual(output_channels, output_channels, 1) for _ in range(count - 1)]
            setattr(self, name, nn.Sequential(*seq))
            input_channels = output_channels
        output_channels = channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(output_channels),
            nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(output_channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        x = x.mean([2, 3])
        return self.fc(x)


def shufflenet_v2_x1_0(num_classes: int = 1000) -> ShuffleNetV2:
    return ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], num_classes)


# --- EfficientNet-B0 ------------------------------------------------------------------------


class MBConv(nn.Module):
    def __init__(
        self, expand: float, kernel: int, stride: int, cin: int, cout: int, sd_prob: float
    ):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        expanded = _make_divisible(cin * expand, 8)
        if expanded != cin:
            layers.append(Conv2dNormActivation(cin, expanded, 1, activation_layer=nn.SiLU))
        layers.append(
            Conv2dNormActivation(
                expanded, expanded, kernel, stride, groups=expanded, activation_layer=nn.SiLU
            )
        )
        layers.append(
            SqueezeExcitation(expanded, max(1, cin // 4), activation=lambda: nn.SiLU(inplace=True))
        )
        layers.append(Conv2dNormActivation(expanded, cout, 1, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(sd_prob, "row")

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


def _make_divisible(v: float, divisor: int) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class EfficientNet(nn.Module):
    def __init__(self, settings, dropout: float, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, settings[0][3], 3, 2, activation_layer=nn.SiLU)
        ]
        total = sum(s[5] for s in settings)
        block_id = 0
        for expand, kernel, stride, cin, cout, repeats in settings:
            stage: list[nn.Module] = []
            for i in range(repeats):
                sd_prob = 0.2 * float(block_id) / total
                stage.append(
                    MBConv(
                        expand,
                        kernel,
                        stride if i == 0 else 1,
                        cin if i == 0 else cout,
                        cout,
                        sd_prob,
                    )
                )
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last = settings[-1][4]
        layers.append(Conv2dNormActivation(last, 4 * last, 1, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True), nn.Linear(4 * last, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def efficientnet_b0(num_classes: int = 1000) -> EfficientNet:
    settings = [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ]
    return EfficientNet(settings, 0.2, num_classes)


# --- RegNetY-400MF --------------------------------------------------------------------------


class BottleneckTransform(nn.Sequential):
    def __init__(
        self, width_in: int, width_out: int, stride: int, group_width: int, se_ratio: float
    ):
        w_b = width_out
        g = w_b // group_width
        layers = {
            "a": Conv2dNormActivation(width_in, w_b, 1),
            "b": Conv2dNormActivation(w_b, w_b, 3, stride, groups=g),
            "se": SqueezeExcitation(w_b, round(se_ratio * width_in)),
            "c": Conv2dNormActivation(w_b, width_out, 1, activation_layer=None),
        }
        super().__init__()
        for name, module in layers.items():
            self.add_module(name, module)


class ResBottleneckBlock(nn.Module):
    def __init__(
        self, width_in: int, width_out: int, stride: int, group_width: int, se_ratio: float
    ):
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = Conv2dNormActivation(width_in, width_out, 1, stride, activation_layer=None)
        self.f = BottleneckTransform(width_in, width_out, stride, group_width, se_ratio)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        if self.proj is not None:  # noqa: SIM108 (torchvision's code, as fx traces it)
            x = self.proj(x) + self.f(x)
        else:
            x = x + self.f(x)
        return self.activation(x)


class RegNet(nn.Module):
    def __init__(self, depths, widths, group_width: int, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = Conv2dNormActivation(3, 32, 3, 2)
        stages = []
        current = 32
        for i, (depth, width) in enumerate(zip(depths, widths, strict=True)):
            stage = nn.Sequential()
            for j in range(depth):
                block = ResBottleneckBlock(
                    current if j == 0 else width, width, 2 if j == 0 else 1, group_width, 0.25
                )
                stage.add_module(f"block{i + 1}-{j}", block)
            stages.append((f"block{i + 1}", stage))
            current = width
        self.trunk_output = nn.Sequential()
        for name, stage in stages:
            self.trunk_output.add_module(name, stage)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(current, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.trunk_output(self.stem(x))
        x = self.avgpool(x)
        x = x.flatten(start_dim=1)
        return self.fc(x)


def regnet_y_400mf(num_classes: int = 1000) -> RegNet:
    return RegNet([1, 3, 6, 6], [48, 104, 208, 440], 8, num_classes)


# --- 1-D and 3-D ----------------------------------------------------------------------------


class Audio1d(nn.Module):
    """A 1-D net over (N, C, L): conv, norms, pools, a channel split and a per-position head."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(2, 16, 5, stride=2, padding=2, bias=False)
        self.bn1 = nn.BatchNorm1d(16)
        self.act1 = nn.Mish()
        self.pool1 = nn.MaxPool1d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv1d(16, 32, 3, padding=1, groups=4)
        self.gn = nn.GroupNorm(4, 32)
        self.act2 = nn.Hardtanh(-2.0, 2.0)
        self.inorm = nn.InstanceNorm1d(16, affine=True)
        self.up = nn.ConvTranspose1d(32, 16, 4, stride=2, padding=1)
        self.act3 = nn.SELU()
        self.pool2 = nn.AvgPool1d(2, ceil_mode=True, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(16, num_classes)
        self.out = nn.LogSoftmax(dim=1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.act1(self.bn1(self.conv1(x))))
        x = self.act2(self.gn(self.conv2(x)))
        a, b = torch.split(x, [16, 16], dim=1)
        x = torch.cat([self.inorm(a), b * 0.5], dim=1)
        x = self.pool2(self.act3(self.up(x)))
        x = torch.flatten(self.gap(x), 1)
        return self.out(self.fc(x))


class Video3d(nn.Module):
    """A 3-D net over (N, C, D, H, W) with the kinds that act per position."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv3d(3, 16, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False)
        self.bn = nn.BatchNorm3d(16)
        self.act = nn.CELU(0.5)
        self.pool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.conv = nn.Conv3d(16, 32, 3, padding=1, groups=2)
        self.norm = nn.InstanceNorm3d(32)
        self.act2 = nn.Softplus(beta=2.0)
        self.pool2 = nn.AvgPool3d(2)
        self.head = nn.AdaptiveMaxPool3d((1, 2, 2))
        self.fc = nn.Linear(32 * 4, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.act(self.bn(self.stem(x))))
        x = self.conv(x)
        x = channel_shuffle_3d(x, 4)
        x = self.pool2(self.act2(self.norm(x)))
        x = F.normalize(x, dim=1)
        return self.fc(torch.flatten(self.head(x), 1))


def channel_shuffle_3d(x: Tensor, groups: int) -> Tensor:
    n, c, d, h, w = x.size()
    x = x.reshape(n, groups, c // groups, d, h, w).transpose(1, 2)
    return x.reshape(n, c, d, h, w)


class Functional(nn.Module):
    """The function and method forms: F pools, in-place methods, an index slice, a mean."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(self.conv(x), 3, 2, 1, ceil_mode=True)
        x = F.avg_pool2d(x, 2, count_include_pad=False).relu_()
        x = x[:, 4:12] * torch.sigmoid(x[:, :8])
        x = F.glu(torch.cat([x, x], dim=1), dim=1).add_(torch.cat([x], 1))
        return self.fc(x.mean((2, 3)))


class AfterUnsupported(nn.Module):
    """An op without a kind (erf), then shape arithmetic on its output (x.size(0))."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 2)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.erf(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


def mac_count(model: nn.Module, x: Tensor) -> int:
    """The multiply-accumulates of conv and linear layers, by forward hooks."""
    macs = 0

    def hook(module: nn.Module, args, out) -> None:
        nonlocal macs
        if isinstance(module, nn.modules.conv._ConvNd):
            kernel = math.prod(module.kernel_size)
            if module.transposed:
                macs += args[0].numel() * kernel * module.out_channels // module.groups
            else:
                macs += out.numel() * kernel * module.in_channels // module.groups
        elif isinstance(module, nn.Linear):
            macs += out.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return macs
