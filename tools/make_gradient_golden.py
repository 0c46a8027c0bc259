#!/usr/bin/env python3
"""Golden gradients from torch autograd for fine-tuning's backward pass (tests/Training.Tests/GradientTests.cs).

Two networks at 64 px with 10 classes, filled with the seeded weights EffNet.SyntheticWeights makes in C#
(tools/make_golden.py), in eval() (BatchNorm frozen, no dropout, no stochastic depth) and with every BatchNorm folded
into its conv, since fine-tuning trains the folded weights and biases:
  - b0_r64_c10: torchvision's B0 (SiLU, squeeze-excitation, symmetric padding);
  - lite0_r64_c10: timm's tf_efficientnet_lite0 from tools/lite_reference.py, TF "SAME" padding (ReLU6, no
    squeeze-excitation, the odd padding row at the bottom of stride-2 convs); only its last 5 blocks (from the
    stride-2 block 5.0), head conv and classifier, to keep the file small.
Two seeded images with labels 3 and 7; the loss is the mean cross-entropy. The gradient of every parameter after the
stem (for Lite0, of the last 5 blocks on) is written in EffNet's packed layout (docs/weight-format.md), as float16 divided by the tensor's largest magnitude
(kept in the metadata), which halves the files; the storage error is printed and is far below the test's 1e-3.

Run with the system interpreter:  /usr/bin/python3 tools/make_gradient_golden.py [--float32 DIR]
--float32 DIR writes the same files in full float32 to DIR instead (32 MB, not committed): with
EFFNET_GRADIENT_GOLDENS=DIR the tests then measure EffNet's own error, below the float16 storage error.
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from lite_reference import TF_BN_EPS, tf_efficientnet_lite
from make_golden import build, fill, uniform

RESOLUTION = 64
CLASSES = 10
INPUTS = ["gradient-input-0", "gradient-input-1"]
LABELS = [3, 7]
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Training.Tests", "Fixtures", "gradients")
# Lite's conv and BatchNorm pairs by attribute name, per module type (timm's names).
LITE_PAIRS = {"EfficientNetLite": [("conv_stem", "bn1"), ("conv_head", "bn2")],
              "DepthwiseSeparable": [("conv_dw", "bn1"), ("conv_pw", "bn2")],
              "InvertedResidual": [("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3")]}


def fold_batchnorms(model):
    for module in model.modules():
        if isinstance(module, nn.Sequential) and len(module) >= 2 and isinstance(module[0], nn.Conv2d) \
                and isinstance(module[1], nn.BatchNorm2d):
            module[0] = fuse_conv_bn_eval(module[0], module[1])
            module[1] = nn.Identity()


def fold_lite_batchnorms(model):
    for module in list(model.modules()):
        for conv_name, bn_name in LITE_PAIRS.get(type(module).__name__, []):
            bn = getattr(module, bn_name)
            setattr(module, conv_name, fuse_conv_bn_eval(getattr(module, conv_name), bn))
            # what stays of a BatchNorm is its activation: ReLU6 where timm's BatchNormAct2d has one
            setattr(module, bn_name, nn.ReLU6() if type(bn).__name__ == "BatchNormReLU6" else nn.Identity())


def packed(name, module, grad):
    """The gradient in the layout EffNet's blob stores the parameter in."""
    g = grad.detach().float()
    if g.dim() == 1 or isinstance(module, nn.Linear):
        return g                                        # biases; the classifier's [classes, features]
    if module.groups > 1:
        return g[:, 0].permute(1, 2, 0)                 # depthwise [k, k, C]
    if name.endswith(".fc1.weight"):
        return g[:, :, 0, 0]                            # squeeze-excitation reduce [S, C]
    if name.endswith(".fc2.weight"):
        return g[:, :, 0, 0].t()                        # squeeze-excitation expand [S, C]
    assert g.shape[2] == 1 and g.shape[3] == 1, name
    return g[:, :, 0, 0].t()                            # 1x1 conv [in, out]


def write_safetensors(path, tensors, metadata):
    header, blobs, at = {}, [], 0
    for name, array in tensors.items():
        data = array.tobytes()
        header[name] = {"dtype": {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}[array.dtype], "shape": list(array.shape), "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def make(name, model, eps, frozen, out_dir, float32):
    model.eval()
    images = torch.stack([torch.from_numpy(uniform(n, 3 * RESOLUTION * RESOLUTION, -2.0, 2.0).reshape(3, RESOLUTION, RESOLUTION))
                          for n in INPUTS])
    logits = model(images)
    loss = nn.functional.cross_entropy(logits, torch.tensor(LABELS))
    loss.backward()

    modules = dict(model.named_modules())
    tensors, scales, worst = {}, {}, 0.0
    for key, p in model.named_parameters():
        if key.startswith(frozen):
            continue  # frozen in every check
        g = packed(key, modules[key.rsplit(".", 1)[0]], p.grad).numpy()
        scale = 1.0 if float32 else float(np.abs(g).max()) or 1.0
        stored = g.astype(np.float32) if float32 else (g / scale).astype(np.float16)
        error = np.linalg.norm(stored.astype(np.float64) * scale - g) / max(np.linalg.norm(g), 1e-30)
        worst = max(worst, error)
        tensors[key] = stored
        scales[key] = scale
    metadata = {
        "made_by": f"tools/make_gradient_golden.py with torch {torch.__version__}",
        "model": name, "num_classes": str(CLASSES), "resolution": str(RESOLUTION), "bn_eps": repr(eps),
        "inputs": ",".join(INPUTS), "labels": ",".join(map(str, LABELS)), "loss": repr(loss.item()),
        "logits": json.dumps([float(v) for v in logits.detach().flatten()]),
        "scales": json.dumps(scales),
    }
    path = os.path.join(out_dir, name + ".safetensors")
    write_safetensors(path, tensors, metadata)
    print(f"{name}: loss {loss.item():.6f}; {len(tensors)} gradients, {sum(t.size for t in tensors.values()):,} values; "
          f"largest storage error {worst:.2e} (relative, per tensor); wrote {os.path.relpath(path)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--float32", metavar="DIR", help="write full float32 goldens to DIR instead of the fixtures")
    args = parser.parse_args()
    out_dir, float32 = (args.float32, True) if args.float32 else (OUT_DIR, False)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    b0, eps = build(0, None, None, CLASSES)
    fill(b0)
    b0.eval()
    fold_batchnorms(b0)
    make("b0_r64_c10", b0, eps, ("features.0.",), out_dir, float32)

    lite = tf_efficientnet_lite(0, CLASSES)
    fill(lite)
    lite.eval()
    fold_lite_batchnorms(lite)
    make("lite0_r64_c10", lite, TF_BN_EPS, ("conv_stem.", "bn1.", "blocks.0.", "blocks.1.", "blocks.2.", "blocks.3.", "blocks.4."), out_dir, float32)


if __name__ == "__main__":
    main()
