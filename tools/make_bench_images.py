#!/usr/bin/env python3
"""Writes photo-like JPEG files for `EffNet.Bench classify`: smooth colour fields with shapes and sensor noise, at the
sizes phones and cameras export for the web (500x375 to 1024x768), quality 90. Deterministic (seeded).

    /usr/bin/python3 tools/make_bench_images.py [--count 500] [--out bench/images]
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw

SIZES = [(500, 375), (640, 480), (800, 600), (1024, 768), (480, 640), (600, 800)]


def photo(rng, width, height):
    # A coarse random grid resized up gives the smooth gradients of sky, walls and skin.
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    image = coarse.resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(3, 9)):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        x1, y1 = x0 + rng.integers(20, width // 2), y0 + rng.integers(20, height // 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 6, (height, width, 3)).astype(np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "bench", "images"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(20261204)
    total = 0
    for i in range(args.count):
        width, height = SIZES[i % len(SIZES)]
        path = os.path.join(args.out, f"photo{i:04d}.jpg")
        photo(rng, width, height).save(path, quality=90)
        total += os.path.getsize(path)
    print(f"{args.count} JPEG files, {total / 1e6:.1f} MB, in {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
