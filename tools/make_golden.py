#!/usr/bin/env python3
"""Golden outputs from the real torchvision for the runtime tests.

Fills torchvision's EfficientNet with the seeded pseudo-random weights that EffNet.SyntheticWeights makes in C#
(bit for bit), runs eval() on a seeded input and writes, per model, the logits and a checksum of every stage into
tests/Runtime.Tests/Golden/<name>.json. Nothing here is trained; the point is that both sides compute the same network.

Needs Debian's python3-torchvision:   apt-get install -y python3-torchvision
Run with the system interpreter:       /usr/bin/python3 tools/make_golden.py [names...]
"""
import json
import math
import os
import sys
from functools import partial

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.models import efficientnet as tv_effnet

SEED = 2019
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Runtime.Tests", "Golden")

# name -> (phi or None, width, depth, resolution, classes[, padding]); padding is "symmetric" unless given
MODELS = {
    "b0": (0, None, None, 224, 1000),
    "b1": (1, None, None, 240, 1000),
    "b2": (2, None, None, 260, 1000),
    "b3": (3, None, None, 300, 1000),
    "b4": (4, None, None, 380, 1000),
    "b5": (5, None, None, 456, 1000),
    "b6": (6, None, None, 528, 1000),
    "b7": (7, None, None, 600, 1000),
    "b0_r160": (0, None, None, 160, 1000),
    "b0_r257": (0, None, None, 257, 1000),
    "b0_c10": (0, None, None, 224, 10),
    "custom_w05_d06_r128": (None, 0.5, 0.6, 128, 1000),
    "b0_same": (0, None, None, 224, 1000, "same"),
    # EfficientNetV2 at torchvision's evaluation sizes: phi holds the size letter.
    "v2_s": ("s", None, None, 384, 1000),
    "v2_m": ("m", None, None, 480, 1000),
    "v2_l": ("l", None, None, 480, 1000),
}

M64 = (1 << 64) - 1


def fnv1a64(text):
    h = 14695981039346656037
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 1099511628211) & M64
    return h


def uniform(name, count, lo, hi, seed=SEED):
    """SplitMix64 stream of `name` (counter form), as float32 U(lo, hi): lo + (hi - lo) * u, u = (z >> 40) * 2^-24."""
    state = np.uint64(fnv1a64(name) ^ seed)
    with np.errstate(over="ignore"):
        counter = np.arange(1, count + 1, dtype=np.uint64)
        z = state + counter * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / (1 << 24))
    lo32, hi32 = np.float32(lo), np.float32(hi)
    return lo32 + (hi32 - lo32) * unit


def synthetic_value_range(key, shape):
    if key.endswith(".running_var") or (key.endswith(".weight") and len(shape) == 1):
        return 0.75, 1.25
    if key.endswith(".weight"):
        fan_in = int(np.prod(shape)) // shape[0]
        a = float(np.float32(math.sqrt(3.0 / fan_in)))
        return -a, a
    return -0.1, 0.1


def build(phi, width, depth, classes):
    if isinstance(phi, str):
        model = getattr(torchvision.models, f"efficientnet_v2_{phi}")(weights=None, num_classes=classes)
        return model, 1e-3  # torchvision's V2 BatchNorms use eps 1e-3
    if phi is not None:
        model = getattr(torchvision.models, f"efficientnet_b{phi}")(weights=None, num_classes=classes)
        eps = 1e-3 if phi >= 5 else 1e-5
        return model, eps
    setting, last_channel = tv_effnet._efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=depth)
    model = tv_effnet.EfficientNet(setting, 0.2, last_channel=last_channel, num_classes=classes)
    return model, 1e-5


def same_padding(model, resolution):
    """Turns every stride-2 conv into TensorFlow "SAME": a ZeroPad2d with P//2 before and P - P//2 after (P from the
    conv's own input size), then an unpadded conv; and sets BatchNorm eps to 1e-3, as timm's tf_ models have it.
    Call after fill(): the pad modules move the convs to new state-dict keys."""
    inputs = {}
    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.stride[0] == 2]
    hooks = [m.register_forward_hook(lambda m, i, o, n=name: inputs.__setitem__(n, i[0].shape[-1])) for name, m in convs]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, resolution, resolution))
    for h in hooks:
        h.remove()
    for name, conv in convs:
        size, k, s = inputs[name], conv.kernel_size[0], conv.stride[0]
        total = max((math.ceil(size / s) - 1) * s + k - size, 0)
        before, after = total // 2, total - total // 2
        conv.padding = (0, 0)
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, nn.Sequential(nn.ZeroPad2d((before, after, before, after)), conv))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-3
    return 1e-3


def fill(model):
    state = model.state_dict()
    for key, tensor in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        lo, hi = synthetic_value_range(key, list(tensor.shape))
        values = uniform(key, tensor.numel(), lo, hi).reshape(tuple(tensor.shape))
        tensor.copy_(torch.from_numpy(values))
    return state


def stats(name, t):
    a = t.detach().double()
    return {"name": name, "shape": list(t.shape[1:]), "sum": a.sum().item(), "abs_sum": a.abs().sum().item(),
            "max_abs": a.abs().max().item()}


def seeded_input(resolution):
    """The input image every golden file is computed from: [1, 3, resolution, resolution], U(-2, 2)."""
    return torch.from_numpy(uniform("input", 3 * resolution * resolution, -2.0, 2.0).reshape(1, 3, resolution, resolution))


def evaluate(model, resolution):
    """eval() forward of the seeded input: (logits, per-stage checksums)."""
    model.eval()
    image = seeded_input(resolution)
    stages = []
    hooks = [model.features[i].register_forward_hook(lambda m, i, o, n=f"features.{i}": stages.append(stats(n, o)))
             for i in range(len(model.features))]
    hooks.append(model.avgpool.register_forward_hook(lambda m, i, o: stages.append(stats("avgpool", o.flatten(1)))))
    with torch.no_grad():
        logits = model(image)[0]
    for h in hooks:
        h.remove()
    return logits, stages


def write_golden(path, name, spec, model, eps, logits, stages, made_by="tools/make_golden.py", libraries=None, **extra):
    phi, width, depth, resolution, classes = spec[:5]
    params = sum(p.numel() for p in model.parameters())
    top5 = torch.topk(logits, 5).indices.tolist()
    libraries = libraries or f"torch {torch.__version__}, torchvision {torchvision.__version__}"
    record = {
        "name": name, "phi": phi, "width": width, "depth": depth, "resolution": resolution, "num_classes": classes,
        "padding": spec[5] if len(spec) > 5 else "symmetric",
        "bn_eps": eps, "seed": SEED, "parameters": params,
        "made_by": f"{made_by} with {libraries}",
        **extra,
        "top5": top5, "logits": [float(v) for v in logits.tolist()], "stages": stages,
    }
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    print(f"{name}: params {params:,} max|logit| {logits.abs().max().item():.4f} top5 {top5} "
          f"stage max_abs {[round(s['max_abs'], 2) for s in stages]}", flush=True)


def run(name, spec):
    phi, width, depth, resolution, classes = spec[:5]
    torch.manual_seed(0)
    model, eps = build(phi, width, depth, classes)
    fill(model)
    if len(spec) > 5 and spec[5] == "same":
        eps = same_padding(model, resolution)
    logits, stages = evaluate(model, resolution)
    if isinstance(phi, str):  # V2: the family names the size; its one member is phi 0
        write_golden(os.path.join(OUT_DIR, f"{name}.json"), name, (0,) + tuple(spec[1:]), model, eps, logits, stages, family=f"v2_{phi}")
        return
    write_golden(os.path.join(OUT_DIR, f"{name}.json"), name, spec, model, eps, logits, stages)


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(OUT_DIR, exist_ok=True)
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        run(name, MODELS[name])


if __name__ == "__main__":
    main()
