#!/usr/bin/env python3
"""The same network for both engines of the benchmark, from the reference implementations.

For each model: seeded weights (make_golden.py) saved with torch.save (our side imports it), the same model exported
by torch.onnx.export (ONNX Runtime's side), a seeded input as .npy and the reference's logits for it as .npy.
Models: b0..b7 (torchvision), v2s (torchvision efficientnet_v2_s), lite0 (tools/lite_reference.py's
tf_efficientnet_lite0, TF SAME padding). Writes bench/models/<name>.{pth,onnx}, <name>.input.npy, <name>.torch.npy
(not committed: B7 alone is 500 MB).

    /usr/bin/python3 tools/make_bench_models.py [b0 b3 lite0 v2s]     (a bare number n means bn)
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lite_reference  # noqa: E402
import make_golden as g  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models")


def build(name):
    """(model, resolution) with the golden's seeded weights."""
    if name == "lite0":
        model = lite_reference.tf_efficientnet_lite(0)
        resolution = 224
        lite_reference.freeze_padding(model, resolution)  # a static graph: Pad only where SAME is asymmetric
    elif name == "v2s":
        model, _ = g.build("s", None, None, 1000)
        resolution = g.MODELS["v2_s"][3]
    elif name.startswith("b") and name[1:].isdigit():
        model, _ = g.build(int(name[1:]), None, None, 1000)
        resolution = g.MODELS[name][3]
    else:
        raise SystemExit(f"unknown model '{name}': use b0..b7, lite0 or v2s")
    g.fill(model)
    return model.eval(), resolution


def main():
    os.makedirs(OUT, exist_ok=True)
    names = [f"b{a}" if a.isdigit() else a for a in sys.argv[1:]] or ["b0", "b3", "b7"]
    for name in names:
        model, resolution = build(name)
        image = g.uniform("input", 3 * resolution * resolution, -2.0, 2.0).reshape(1, 3, resolution, resolution)
        base = os.path.join(OUT, name)
        torch.save(model.state_dict(), base + ".pth")
        with torch.no_grad():
            logits = model(torch.from_numpy(image)).numpy()
            torch.onnx.export(model, torch.from_numpy(image), base + ".onnx", opset_version=13,
                              input_names=["image"], output_names=["logits"])
        np.save(base + ".input.npy", image)
        np.save(base + ".torch.npy", logits)
        print(f"{name}: {base}.pth, .onnx, .input.npy, .torch.npy", flush=True)


if __name__ == "__main__":
    main()
