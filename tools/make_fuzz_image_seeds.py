"""Writes tests/Fuzz/Seeds/image: one tiny image (16x12) per format and flavour the decoder reads, as Pillow saves them.

afl-fuzz works best from small seeds, and each flavour (progressive JPEG, interlaced or 16-bit PNG, palette GIF, ...)
opens code paths the others do not. Run: /usr/bin/python3 tools/make_fuzz_image_seeds.py (Debian's python3-pil).
"""
import os

from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "Fuzz", "Seeds", "image")


def gradient(mode):
    image = Image.new("RGB", (16, 12))
    image.putdata([(x * 16, y * 20, (x * y) % 256) for y in range(12) for x in range(16)])
    return image.convert(mode) if mode != "RGB" else image


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = gradient("RGB")
    saves = {
        "baseline.jpg": (rgb, dict(quality=80)),
        "progressive.jpg": (rgb, dict(quality=80, progressive=True)),
        "gray.jpg": (gradient("L"), dict(quality=80)),
        "rgb.png": (rgb, {}),
        "interlaced.png": (gradient("RGBA"), dict(interlace=1)),
        "palette.png": (rgb.convert("P"), {}),
        "gray16.png": (gradient("L").point(lambda v: v * 200, "I"), {}),
        "palette.gif": (rgb.convert("P"), {}),
        "rgb.bmp": (rgb, {}),
        "rle.tga": (rgb, dict(compression="tga_rle")),
    }
    for name, (image, options) in saves.items():
        path = os.path.join(OUT, name)
        image.save(path, **options)
        print(name, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
