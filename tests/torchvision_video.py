"""torchvision's video ResNets and torchaudio's M5 tutorial net, written as ordinary
nn.Modules with the upstream module names (torchvision is not installed here: it pulls a
multi-GB CUDA torch). Written from torchvision/models/video/resnet.py (VideoResNet,
BasicBlock, Conv3DSimple, Conv2Plus1D, BasicStem, R2Plus1dStem) and the torchaudio
speech-command tutorial's M5; only what r3d_18, r2plus1d_18 and M5 use.

Imported by tests/test_zoo.py only when torch is installed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

ConvBuilder = Callable[[int, int, int, int], nn.Module]


def conv3d_simple(in_planes: int, out_planes: int, midplanes: int, stride: int = 1) -> nn.Module:
    """torchvision's Conv3DSimple: a 3×3×3 conv (midplanes unused)."""
    return nn.Conv3d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def conv2plus1d(in_planes: int, out_planes: int, midplanes: int, stride: int = 1) -> nn.Module:
    """torchvision's Conv2Plus1D: a 1×3×3 spatial conv to `midplanes`, then a 3×1×1 one."""
    return nn.Sequential(
        nn.Conv3d(
            in_planes,
            midplanes,
            (1, 3, 3),
            stride=(1, stride, stride),
            padding=(0, 1, 1),
            bias=False,
        ),
        nn.BatchNorm3d(midplanes),
        nn.ReLU(inplace=True),
        nn.Conv3d(
            midplanes,
            out_planes,
            (3, 1, 1),
            stride=(stride, 1, 1),
            padding=(1, 0, 0),
            bias=False,
        ),
    )


class BasicBlock(nn.Module):
    def __init__(
        self,
        inplanes: int,
        planes: int,
        conv_builder: ConvBuilder,
        stride: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        midplanes = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        self.conv1 = nn.Sequential(
            conv_builder(inplanes, planes, midplanes, stride),
            nn.BatchNorm3d(planes),
            nn.ReLU(inplace=True),
        )
        self.conv2 = nn.Sequential(
            conv_builder(planes, planes, midplanes, 1), nn.BatchNorm3d(planes)
        )
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


def basic_stem() -> nn.Module:
    return nn.Sequential(
        nn.Conv3d(3, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
        nn.BatchNorm3d(64),
        nn.ReLU(inplace=True),
    )


def r2plus1d_stem() -> nn.Module:
    return nn.Sequential(
        nn.Conv3d(3, 45, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
        nn.BatchNorm3d(45),
        nn.ReLU(inplace=True),
        nn.Conv3d(45, 64, (3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
        nn.BatchNorm3d(64),
        nn.ReLU(inplace=True),
    )


class VideoResNet(nn.Module):
    def __init__(
        self, conv_builder: ConvBuilder, stem: Callable[[], nn.Module], num_classes: int = 400
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.stem = stem()
        self.layer1 = self._make_layer(conv_builder, 64, 2, stride=1)
        self.layer2 = self._make_layer(conv_builder, 128, 2, stride=2)
        self.layer3 = self._make_layer(conv_builder, 256, 2, stride=2)
        self.layer4 = self._make_layer(conv_builder, 512, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(
        self, conv_builder: ConvBuilder, planes: int, blocks: int, stride: int
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm3d(planes),
            )
        layers = [BasicBlock(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, conv_builder) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def r3d_18(**kwargs: int) -> VideoResNet:
    return VideoResNet(conv3d_simple, basic_stem, **kwargs)


def r2plus1d_18(**kwargs: int) -> VideoResNet:
    return VideoResNet(conv2plus1d, r2plus1d_stem, **kwargs)


class M5(nn.Module):
    """The torchaudio speech-command tutorial's M5 (Dai et al. 2017) on 8 kHz audio."""

    def __init__(self, n_input: int = 1, n_output: int = 35, stride: int = 16, n_channel: int = 32):
        super().__init__()
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(n_channel)
        self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(n_channel, 2 * n_channel, kernel_size=3)
        self.bn3 = nn.BatchNorm1d(2 * n_channel)
        self.pool3 = nn.MaxPool1d(4)
        self.conv4 = nn.Conv1d(2 * n_channel, 2 * n_channel, kernel_size=3)
        self.bn4 = nn.BatchNorm1d(2 * n_channel)
        self.pool4 = nn.MaxPool1d(4)
        self.fc1 = nn.Linear(2 * n_channel, n_output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = self.pool3(F.relu(self.bn3(self.conv3(x))))
        x = self.pool4(F.relu(self.bn4(self.conv4(x))))
        x = F.avg_pool1d(x, x.shape[-1])
        x = self.fc1(x.permute(0, 2, 1))
        return F.log_softmax(x, dim=2)


def m5(**kwargs: int) -> M5:
    return M5(**kwargs)
