#!/usr/bin/env python3
"""End-to-end check of the effnet CLI against the real torchvision.

Saves torchvision's efficientnet_bN (seeded weights from make_golden.py, 1000 classes) with torch.save, writes a
batch of seeded inputs as .npy, then runs `effnet import` and `effnet run` and compares the logits with torchvision's.

    /usr/bin/python3 tools/cli_roundtrip.py [--phi 0] [--batch 2] [--effnet "dotnet run --project src/EffNet.Cli -c Release --"]
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as g  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phi", type=int, default=0)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--effnet", default="dotnet run --project src/EffNet.Cli -c Release --")
    args = parser.parse_args()

    resolution = g.MODELS[f"b{args.phi}"][3]
    model, eps = g.build(args.phi, None, None, 1000)
    g.fill(model)
    model.eval()
    images = np.stack([g.uniform(f"input{i}", 3 * resolution * resolution, -2.0, 2.0).reshape(3, resolution, resolution)
                       for i in range(args.batch)])
    with torch.no_grad():
        expected = model(torch.from_numpy(images)).numpy()

    with tempfile.TemporaryDirectory() as work:
        checkpoint, blob = os.path.join(work, f"b{args.phi}.pth"), os.path.join(work, f"b{args.phi}.effw")
        inputs, outputs = os.path.join(work, "x.npy"), os.path.join(work, "logits.npy")
        torch.save(model.state_dict(), checkpoint)
        np.save(inputs, images)
        effnet = shlex.split(args.effnet)
        for command in ([*effnet, "import", checkpoint, "--phi", str(args.phi), "-o", blob],
                        [*effnet, "run", "--weights", blob, "--input", inputs, "--output", outputs]):
            start = time.time()
            subprocess.run(command, check=True, cwd=ROOT)
            print(f"  ({time.time() - start:.1f} s)")
        actual = np.load(outputs)

    scale = np.abs(expected).max()
    diff = np.abs(actual - expected).max()
    same_top5 = all((np.argsort(-expected[i])[:5] == np.argsort(-actual[i])[:5]).all() for i in range(args.batch))
    print(f"B{args.phi}: torch.save checkpoint -> effnet import -> effnet run, batch {args.batch}: "
          f"max |diff| {diff:.3e} = {diff / scale:.3e} x max|logit|, same top-5: {same_top5}")
    return 0 if diff <= 1e-4 * scale and same_top5 else 1


if __name__ == "__main__":
    sys.exit(main())
