#!/usr/bin/env python3
"""The same network for both engines of the benchmark, from the real torchvision.

For each variant: seeded weights (make_golden.py) saved with torch.save (our side imports it), the same model exported
by torch.onnx.export (ONNX Runtime's side), a seeded input as .npy and torchvision's logits for it as .npy.
Writes bench/models/b{phi}.{pth,onnx}, b{phi}.input.npy, b{phi}.torch.npy (not committed: B7 alone is 500 MB).

    /usr/bin/python3 tools/make_bench_models.py [0 3 7]
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as g  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models")


def main():
    os.makedirs(OUT, exist_ok=True)
    for phi in [int(a) for a in sys.argv[1:]] or [0, 3, 7]:
        resolution = g.MODELS[f"b{phi}"][3]
        model, _ = g.build(phi, None, None, 1000)
        g.fill(model)
        model.eval()
        image = g.uniform("input", 3 * resolution * resolution, -2.0, 2.0).reshape(1, 3, resolution, resolution)
        base = os.path.join(OUT, f"b{phi}")
        torch.save(model.state_dict(), base + ".pth")
        with torch.no_grad():
            logits = model(torch.from_numpy(image)).numpy()
            torch.onnx.export(model, torch.from_numpy(image), base + ".onnx", opset_version=13,
                              input_names=["image"], output_names=["logits"])
        np.save(base + ".input.npy", image)
        np.save(base + ".torch.npy", logits)
        print(f"b{phi}: {base}.pth, .onnx, .input.npy, .torch.npy", flush=True)


if __name__ == "__main__":
    main()
