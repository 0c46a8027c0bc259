#!/usr/bin/env python3
"""Golden outputs for EfficientNet-Lite0..4 from tools/lite_reference.py (timm's Lite builds in plain torch.nn).

Fills each model with the seeded synthetic weights of tools/make_golden.py (keyed by timm's state-dict names, so the
C# side makes the same ones), runs eval() on the same seeded input and writes tests/Runtime.Tests/Golden/<name>.json
in make_golden.py's schema plus "family": "lite". "phi" is the Lite number; stage checksums are taken after the stem
("bn1", after its ReLU6), after every stage ("blocks.0".."blocks.6"), after the head ("bn2", after its ReLU6) and of
the pooled features ("global_pool").

Run with the system interpreter:   /usr/bin/python3 tools/make_lite_golden.py [names...]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lite_reference import (  # noqa: E402
    LITE_VARIANTS, TF_BN_EPS, TORCH_BN_EPS, efficientnet_lite, tf_efficientnet_lite)
from make_golden import OUT_DIR, fill, seeded_input, stats, write_golden  # noqa: E402

# golden name -> (Lite number, padding); all 1000 classes at timm's resolution for that Lite
GOLDENS = {
    "lite0": (0, "same"),
    "lite1": (1, "same"),
    "lite2": (2, "same"),
    "lite3": (3, "same"),
    "lite4": (4, "same"),
    "lite0_symmetric": (0, "symmetric"),
}
CLASSES = 1000
CHECKPOINTS = ["bn1"] + [f"blocks.{s}" for s in range(7)] + ["bn2", "global_pool"]


def evaluate(model, resolution):
    """eval() forward of the seeded input: (logits, checksums at CHECKPOINTS in forward order)."""
    model.eval()
    stages = []
    hooks = [model.get_submodule(name).register_forward_hook(lambda m, i, o, n=name: stages.append(stats(n, o)))
             for name in CHECKPOINTS]
    with torch.no_grad():
        logits = model(seeded_input(resolution))[0]
    for h in hooks:
        h.remove()
    assert [s["name"] for s in stages] == CHECKPOINTS
    return logits, stages


def run(name):
    number, padding = GOLDENS[name]
    width, depth, resolution = LITE_VARIANTS[number]
    if padding == "same":
        model, eps = tf_efficientnet_lite(number, CLASSES), TF_BN_EPS
    else:
        model, eps = efficientnet_lite(number, CLASSES), TORCH_BN_EPS
    fill(model)
    logits, stages = evaluate(model, resolution)
    spec = (number, width, depth, resolution, CLASSES, padding)
    write_golden(os.path.join(OUT_DIR, f"{name}.json"), name, spec, model, eps, logits, stages,
                 made_by="tools/make_lite_golden.py (tools/lite_reference.py)",
                 libraries=f"torch {torch.__version__}", family="lite")


def main():
    names = sys.argv[1:] or list(GOLDENS)
    unknown = [n for n in names if n not in GOLDENS]
    if unknown:
        sys.exit(f"unknown golden {', '.join(unknown)}: choose from {', '.join(GOLDENS)}")
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in names:
        run(name)


if __name__ == "__main__":
    main()
