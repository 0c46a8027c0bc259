#!/usr/bin/env python3
"""EfficientNet-Lite0..4 as timm builds them, in plain torch.nn: the reference the Lite golden files come from.

timm is not installed here, so this module rebuilds timm's `tf_efficientnet_lite0..4` and `efficientnet_lite0` from
torch's own layers (nn.Conv2d, nn.BatchNorm2d, ReLU6, F.pad). It was written after reading timm's builder
(timm/models/efficientnet.py `_gen_efficientnet_lite`, _efficientnet_builder.py, _efficientnet_blocks.py), not copied
from it. The state-dict keys, their shapes and their order are timm's, so a timm checkpoint loads with
load_state_dict(strict=True) and the seeded synthetic weights (keyed by name) are the ones the C# side makes.

What makes Lite differ from the B-series: ReLU6 instead of SiLU, no squeeze-excitation, a stem fixed at 32 and a head
fixed at 1280 channels whatever the width, and the first and last stages keep one block whatever the depth.
Inference only: dropout and drop-path are training-time and left out.

Run with the system interpreter:   /usr/bin/python3 tools/lite_reference.py
It builds every variant, asserts timm's parameter counts and prints each one's state-dict keys (count, first, last).
tools/make_lite_golden.py writes the golden files from this module.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

STEM_CHANNELS = 32
HEAD_CHANNELS = 1280

# B0's stages: (expand ratio, kernel, stride, out channels, repeats)
B0_STAGES = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
]

# Lite number -> (width, depth, resolution of timm's pretrained config)
LITE_VARIANTS = {
    0: (1.0, 1.0, 224),
    1: (1.0, 1.1, 240),
    2: (1.1, 1.2, 260),
    3: (1.2, 1.4, 300),
    4: (1.4, 1.8, 380),
}

# timm's published sizes (1000 classes), asserted by main()
TIMM_PARAMETERS = {0: 4_652_008, 1: 5_416_680, 2: 6_092_072, 3: 8_197_096, 4: 13_006_568}

TF_BN_EPS = 1e-3
TORCH_BN_EPS = 1e-5


def scaled_channels(channels, width):
    """Nearest multiple of 8 (ties up, at least 8), one step up if that loses more than 10 %."""
    v = channels * width
    rounded = max(8, int(v + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * v else rounded


def stage_repeats(stage_index, repeats, depth):
    """ceil(depth x repeats), except that Lite keeps the first and the last stage as they are."""
    if stage_index in (0, len(B0_STAGES) - 1):
        return repeats
    return int(math.ceil(repeats * depth))


class TfSameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding: ceil(in / stride) outputs, the odd zero (if any) at the bottom/right.
    The padding depends on the input size, so it is worked out in forward."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, bias=False):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, groups=groups, bias=bias)
        self.fixed_padding = None  # (top, bottom, left, right) once freeze_padding has seen the input size

    def forward(self, x):
        if self.fixed_padding is not None:
            top, bottom, left, right = self.fixed_padding
            if top == bottom and left == right:  # symmetric: the conv's own padding, as a static export has it
                return F.conv2d(x, self.weight, self.bias, self.stride, (top, left), self.dilation, self.groups)
            return super().forward(F.pad(x, [left, right, top, bottom]))
        pad_h = self._same_padding(x.shape[-2], 0)
        pad_w = self._same_padding(x.shape[-1], 1)
        return super().forward(F.pad(x, [pad_w[0], pad_w[1], pad_h[0], pad_h[1]]))

    def _same_padding(self, size, dim):
        k, s = self.kernel_size[dim], self.stride[dim]
        total = max((math.ceil(size / s) - 1) * s + k - size, 0)
        return total // 2, total - total // 2


def freeze_padding(model, resolution):
    """Fixes every TfSameConv2d's padding for inputs of `resolution` pixels, as an exported graph for one input size has
    it: symmetric ones become the conv's own padding and only the asymmetric ones (stride 2 on even sizes) keep a Pad.
    The same numbers either way; used by tools/make_bench_models.py so ONNX Runtime gets a static graph."""
    sizes = {}
    convs = [m for m in model.modules() if isinstance(m, TfSameConv2d)]
    hooks = [m.register_forward_pre_hook(lambda m, inputs: sizes.__setitem__(m, inputs[0].shape[-2:])) for m in convs]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, resolution, resolution))
    for h in hooks:
        h.remove()
    for m in convs:
        (top, bottom), (left, right) = m._same_padding(sizes[m][0], 0), m._same_padding(sizes[m][1], 1)
        m.fixed_padding = (top, bottom, left, right)
    return model


def make_conv(in_channels, out_channels, kernel_size, stride=1, groups=1, tf_same=True):
    if tf_same:
        return TfSameConv2d(in_channels, out_channels, kernel_size, stride=stride, groups=groups)
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups,
                     bias=False)


class BatchNormReLU6(nn.BatchNorm2d):
    """BatchNorm followed by ReLU6 in one module, as timm's BatchNormAct2d: same tensors and key names as a plain
    BatchNorm2d, and a forward hook on it sees the activated output."""

    def forward(self, x):
        return F.relu6(super().forward(x))


class DepthwiseSeparable(nn.Module):
    """Stage 0's block: depthwise conv, BN, ReLU6, then a 1x1 projection and BN without activation."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, bn_eps, tf_same):
        super().__init__()
        self.conv_dw = make_conv(in_channels, in_channels, kernel_size, stride, groups=in_channels, tf_same=tf_same)
        self.bn1 = BatchNormReLU6(in_channels, eps=bn_eps)
        self.conv_pw = make_conv(in_channels, out_channels, 1, tf_same=tf_same)
        self.bn2 = nn.BatchNorm2d(out_channels, eps=bn_eps)
        # timm's rule; in Lite this block maps the 32-channel stem to 16 (or 24) channels, so it never applies
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, x):
        y = self.bn2(self.conv_pw(self.bn1(self.conv_dw(x))))
        return y + x if self.has_skip else y


class InvertedResidual(nn.Module):
    """MBConv without squeeze-excitation: 1x1 expansion, BN, ReLU6, depthwise conv, BN, ReLU6, 1x1 projection, BN."""

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride, bn_eps, tf_same):
        super().__init__()
        mid = in_channels * expand_ratio
        self.conv_pw = make_conv(in_channels, mid, 1, tf_same=tf_same)
        self.bn1 = BatchNormReLU6(mid, eps=bn_eps)
        self.conv_dw = make_conv(mid, mid, kernel_size, stride, groups=mid, tf_same=tf_same)
        self.bn2 = BatchNormReLU6(mid, eps=bn_eps)
        self.conv_pwl = make_conv(mid, out_channels, 1, tf_same=tf_same)
        self.bn3 = nn.BatchNorm2d(out_channels, eps=bn_eps)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, x):
        y = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        y = self.bn3(self.conv_pwl(y))
        return y + x if self.has_skip else y


class EfficientNetLite(nn.Module):
    """Modules are registered in timm's order, which is the order of state_dict()."""

    def __init__(self, width, depth, num_classes=1000, tf_same=True):
        super().__init__()
        bn_eps = TF_BN_EPS if tf_same else TORCH_BN_EPS
        self.conv_stem = make_conv(3, STEM_CHANNELS, 3, stride=2, tf_same=tf_same)
        self.bn1 = BatchNormReLU6(STEM_CHANNELS, eps=bn_eps)
        stages, in_channels = [], STEM_CHANNELS
        for index, (expand, kernel, stride, out, repeats) in enumerate(B0_STAGES):
            out_channels = scaled_channels(out, width)
            blocks = []
            for j in range(stage_repeats(index, repeats, depth)):
                block_stride = stride if j == 0 else 1
                if index == 0:
                    blocks.append(DepthwiseSeparable(in_channels, out_channels, kernel, block_stride, bn_eps, tf_same))
                else:
                    blocks.append(InvertedResidual(in_channels, out_channels, expand, kernel, block_stride, bn_eps,
                                                   tf_same))
                in_channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = make_conv(in_channels, HEAD_CHANNELS, 1, tf_same=tf_same)
        self.bn2 = BatchNormReLU6(HEAD_CHANNELS, eps=bn_eps)
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.classifier = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward(self, x):
        x = self.bn1(self.conv_stem(x))
        x = self.blocks(x)
        x = self.bn2(self.conv_head(x))
        return self.classifier(self.global_pool(x))


def tf_efficientnet_lite(number, num_classes=1000):
    """timm's tf_efficientnet_lite<number>: TF "SAME" padding, BatchNorm eps 1e-3 (for the TensorFlow checkpoints)."""
    width, depth, _ = LITE_VARIANTS[number]
    return EfficientNetLite(width, depth, num_classes, tf_same=True)


def efficientnet_lite(number, num_classes=1000):
    """timm's efficientnet_lite<number>: PyTorch symmetric padding (k // 2), BatchNorm eps 1e-5."""
    width, depth, _ = LITE_VARIANTS[number]
    return EfficientNetLite(width, depth, num_classes, tf_same=False)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def main():
    print("variant                 width depth blocks  parameters  state-dict keys")
    for number, (width, depth, _) in LITE_VARIANTS.items():
        key_lists = []
        for name, build in ((f"tf_efficientnet_lite{number}", tf_efficientnet_lite),
                            (f"efficientnet_lite{number}", efficientnet_lite)):
            model = build(number)
            params = parameter_count(model)
            assert params == TIMM_PARAMETERS[number], f"{name}: {params:,} parameters, timm has {TIMM_PARAMETERS[number]:,}"
            key_lists.append([f"{k} {list(t.shape)}" for k, t in model.state_dict().items()])
            blocks = sum(len(stage) for stage in model.blocks)
            print(f"{name:23} {width:5} {depth:5} {blocks:6} {params:11,} {len(key_lists[-1]):6}")
        # padding and eps change no tensor, so both builds must name the same tensors in the same order
        assert key_lists[0] == key_lists[1], f"lite{number}: tf_ and PyTorch-padded builds have different keys"
        print("    first: " + "; ".join(key_lists[0][:3]))
        print("    last:  " + "; ".join(key_lists[0][-4:]))


if __name__ == "__main__":
    main()
