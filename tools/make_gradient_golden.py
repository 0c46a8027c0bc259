#!/usr/bin/env python3
"""Golden gradients from torch autograd for fine-tuning's backward pass (tests/Training.Tests/GradientTests.cs).

B0 with 10 classes at 64 px, filled with the seeded weights EffNet.SyntheticWeights makes in C# (tools/make_golden.py),
in eval() (BatchNorm frozen, no dropout, no stochastic depth) and with every BatchNorm folded into its conv, since
fine-tuning trains the folded weights and biases. Two seeded images with labels 3 and 7; the loss is the mean
cross-entropy. The gradient of every parameter after the stem is written in EffNet's packed layout
(docs/weight-format.md), as float16 divided by the tensor's largest magnitude (kept in the metadata), which keeps the
file at 8 MB; the storage error is printed and is far below the test's 1e-3.

Run with the system interpreter:  /usr/bin/python3 tools/make_gradient_golden.py
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from make_golden import build, fill, uniform

RESOLUTION = 64
CLASSES = 10
INPUTS = ["gradient-input-0", "gradient-input-1"]
LABELS = [3, 7]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Training.Tests", "Fixtures", "gradients",
                   "b0_r64_c10.safetensors")


def fold_batchnorms(model):
    for module in model.modules():
        if isinstance(module, nn.Sequential) and len(module) >= 2 and isinstance(module[0], nn.Conv2d) \
                and isinstance(module[1], nn.BatchNorm2d):
            module[0] = fuse_conv_bn_eval(module[0], module[1])
            module[1] = nn.Identity()


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
        header[name] = {"dtype": "F16", "shape": list(array.shape), "data_offsets": [at, at + len(data)]}
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


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model, eps = build(0, None, None, CLASSES)
    fill(model)
    model.eval()
    fold_batchnorms(model)
    images = torch.stack([torch.from_numpy(uniform(n, 3 * RESOLUTION * RESOLUTION, -2.0, 2.0).reshape(3, RESOLUTION, RESOLUTION))
                          for n in INPUTS])
    logits = model(images)
    loss = nn.functional.cross_entropy(logits, torch.tensor(LABELS))
    loss.backward()

    modules = dict(model.named_modules())
    tensors, scales, worst = {}, {}, 0.0
    for name, p in model.named_parameters():
        if name.startswith("features.0."):
            continue  # the stem stays frozen
        g = packed(name, modules[name.rsplit(".", 1)[0]], p.grad).numpy()
        scale = float(np.abs(g).max()) or 1.0
        stored = (g / scale).astype(np.float16)
        error = np.linalg.norm(stored.astype(np.float64) * scale - g) / max(np.linalg.norm(g), 1e-30)
        worst = max(worst, error)
        tensors[name] = stored
        scales[name] = scale
    metadata = {
        "made_by": f"tools/make_gradient_golden.py with torch {torch.__version__}",
        "model": "efficientnet_b0", "num_classes": str(CLASSES), "resolution": str(RESOLUTION), "bn_eps": repr(eps),
        "inputs": ",".join(INPUTS), "labels": ",".join(map(str, LABELS)), "loss": repr(loss.item()),
        "logits": json.dumps([float(v) for v in logits.detach().flatten()]),
        "scales": json.dumps(scales),
    }
    write_safetensors(OUT, tensors, metadata)
    print(f"loss {loss.item():.6f}; {len(tensors)} gradients, {sum(t.size for t in tensors.values()):,} values; "
          f"largest storage error {worst:.2e} (relative, per tensor); wrote {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
