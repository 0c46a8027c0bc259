#!/usr/bin/env python3
"""torch's own int8 on the benchmark's networks: the anchor EffNet's int8 is compared with.

Post-training static quantisation in FX graph mode with the `onednn` backend (Debian's torch 1.13 has onednn and
qnnpack, not fbgemm), calibrated on the same 100 images of bench/images that `bench int8` uses, then float32 and int8
timed on one thread in alternating rounds (medians), on the benchmark's seeded input. Also the int8 model's top-1
agreement with float32 on the next 50 images, as `bench int8` reports it.

    /usr/bin/python3 tools/make_bench_models.py b0 lite0          # the seeded models
    /usr/bin/python3 tools/make_bench_images.py                   # bench/images
    /usr/bin/python3 tools/torch_int8_anchor.py [b0 lite0] [--rounds 9]
"""
import argparse
import glob
import os
import statistics
import sys
import time

import torch
from PIL import Image
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lite_reference  # noqa: E402
import make_bench_models  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def preprocess(name, resolution):
    """The preprocessing the blob records: torchvision's B0 preset, or timm's Lite preset (mean and std 0.5)."""
    if name == "lite0":
        return transforms.Compose([transforms.Resize(resolution + 32, interpolation=transforms.InterpolationMode.BICUBIC),
                                   transforms.CenterCrop(resolution), transforms.ToTensor(),
                                   transforms.Normalize([0.5] * 3, [0.5] * 3)])
    return transforms.Compose([transforms.Resize(256, interpolation=transforms.InterpolationMode.BICUBIC),
                               transforms.CenterCrop(resolution), transforms.ToTensor(),
                               transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def traceable(module):
    """The Lite reference's BatchNorm+ReLU6 modules as plain BatchNorm2d then ReLU6, which FX traces and fuses."""
    for name, child in module.named_children():
        if isinstance(child, lite_reference.BatchNormReLU6):
            bn = torch.nn.BatchNorm2d(child.num_features, eps=child.eps)
            bn.load_state_dict(child.state_dict())
            setattr(module, name, torch.nn.Sequential(bn.eval(), torch.nn.ReLU6()))
        else:
            traceable(child)
    return module


def median_ms(run, x, count):
    times = []
    for _ in range(count):
        start = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["b0", "lite0"])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # seeded weights give denormal activations, which slow torch's float32 path many times
    torch.backends.quantized.engine = "onednn"
    photos = sorted(glob.glob(os.path.join(ROOT, "bench", "images", "*.jpg")))
    if len(photos) < 150:
        sys.exit("bench/images needs 150 images: run tools/make_bench_images.py first.")
    for name in args.models:
        model, resolution = make_bench_models.build(name)
        model = traceable(model)
        transform = preprocess(name, resolution)
        images = [transform(Image.open(p).convert("RGB")).unsqueeze(0) for p in photos[:150]]
        example = images[0]
        prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(example,))
        with torch.no_grad():
            for image in images[:100]:
                prepared(image)
            quantized = convert_fx(prepared)
            agree = sum(int(model(i).argmax() == quantized(i).argmax()) for i in images[100:150])
            x = example
            for _ in range(5):
                model(x)
                quantized(x)
            fp32, int8 = [], []
            for _ in range(args.rounds):
                fp32 += median_ms(model, x, 5)
                int8 += median_ms(quantized, x, 5)
        a, b = statistics.median(fp32), statistics.median(int8)
        print(f"torch {torch.__version__} {name}@{resolution}, one thread: float32 {a:.2f} ms, int8 (FX, onednn) {b:.2f} ms = {b / a:.2f}x; "
              f"top-1 agreement {agree / 50:.0%} on 50 held-out images")


if __name__ == "__main__":
    main()
