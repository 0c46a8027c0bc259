#!/usr/bin/env python3
"""Golden preprocessing tensors from the real torchvision for tests/Imaging.Tests.

Draws a few small images of our own with PIL (gradients, shapes and seeded noise), saves them in the formats the C#
decoder reads, and writes for each (image, preset) the exact tensor that torchvision's preset transform gives for
`Image.open(path).convert("RGB")`, e.g. `EfficientNet_B0_Weights.IMAGENET1K_V1.transforms()`. Everything lands in
tests/Imaging.Tests/Fixtures:

  <image file>                     the input, as drawn and saved here
  <name>.jpg.pil.png               the RGB pixels PIL (libjpeg) decodes from <name>.jpg, saved losslessly
  <image>.<preset>.npy.gz          float32 [3, crop, crop], gzip-compressed .npy
  normalize.npy                    float32 [3, 256]: what convert_image_dtype + Normalize make of each byte value
  manifest.json                    the cases: image, preset, resize, crop, interpolation, tensor file

Needs Debian's python3-torchvision (torchvision 0.14, Pillow 9.4):   apt-get install -y python3-torchvision
Run with the system interpreter:                                     /usr/bin/python3 tools/make_preprocessing_golden.py
"""
import gzip
import io
import json
import os

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image, ImageDraw
from torchvision.models import (EfficientNet_B0_Weights, EfficientNet_B1_Weights, EfficientNet_B2_Weights,
                                EfficientNet_B3_Weights, EfficientNet_B4_Weights)
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F
from torchvision.transforms._presets import ImageClassification

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Imaging.Tests", "Fixtures")
SEED = 2019
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# name -> torchvision transform
PRESETS = {
    "b0": EfficientNet_B0_Weights.IMAGENET1K_V1.transforms(),
    "b1v1": EfficientNet_B1_Weights.IMAGENET1K_V1.transforms(),
    "b1v2": EfficientNet_B1_Weights.IMAGENET1K_V2.transforms(),
    "b2": EfficientNet_B2_Weights.IMAGENET1K_V1.transforms(),
    "b3": EfficientNet_B3_Weights.IMAGENET1K_V1.transforms(),
    "b4": EfficientNet_B4_Weights.IMAGENET1K_V1.transforms(),
    # Overrides whose resize is below the crop, so CenterCrop pads (odd margins: 23 rows split 11 / 12).
    "pad_bicubic_201_224": ImageClassification(crop_size=224, resize_size=201,
                                               interpolation=InterpolationMode.BICUBIC),
    "pad_bilinear_201_224": ImageClassification(crop_size=224, resize_size=201,
                                                interpolation=InterpolationMode.BILINEAR),
}

# image file -> presets to run on it
CASES = {
    "photo.png": ["b0", "b1v1", "b1v2", "b2", "b3", "pad_bicubic_201_224", "pad_bilinear_201_224"],
    "photo.bmp": ["b0"],
    "photo.jpg.pil.png": ["b0", "b1v2"],
    # Larger than every resize below: the antialiased downscaling path (filter support stretched by the scale).
    "large_640x480.png": ["b0", "b1v1", "b1v2", "b3", "b4"],
    "large_640x480.jpg.pil.png": ["b0", "b1v2"],
    "odd_1001x757.png": ["b0", "b1v2"],
    "odd_97x143.png": ["b0", "b1v2"],
    "gray.png": ["b0", "b1v2"],
    "gray16.png": ["b0"],
    "gray_alpha.png": ["b0"],
    "rgba.png": ["b0", "b1v2"],
    "palette.png": ["b0", "b1v2"],
    "palette.gif": ["b0"],
    "tiny_40x30.png": ["b0", "b1v2"],
}


def rng(name):
    return np.random.default_rng([SEED, sum(map(ord, name))])


def draw_scene(width, height, name):
    """An RGB test card: two crossing gradients, hard-edged shapes, thin lines and a patch of seeded noise."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float64)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float64)[:, None]
    r = 255 * x * np.ones_like(y)
    g = 255 * y * np.ones_like(x)
    b = 255 * (0.5 + 0.5 * np.sin(6.0 * x + 4.0 * y))
    pixels = np.stack([r, g, b], axis=-1).round().astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    d = ImageDraw.Draw(image)
    d.rectangle([width // 10, height // 8, width // 3, height // 2], fill=(250, 20, 30))
    d.ellipse([width // 2, height // 4, width - width // 8, height - height // 6], fill=(10, 200, 60),
              outline=(255, 255, 255), width=3)
    d.polygon([(width // 5, height - 5), (width // 2, height // 2), (width - 3, height - 2)], fill=(30, 40, 220))
    for i in range(0, width, 7):
        d.line([(i, 0), (i + height // 3, height // 5)], fill=(0, 0, 0) if i % 2 else (255, 255, 0), width=1)
    noise = rng(name).integers(0, 256, size=(height // 4, width // 4, 3), dtype=np.uint8)
    image.paste(Image.fromarray(noise, "RGB"), (width - width // 4 - 2, 2))
    return image


def save(image, file, **options):
    image.save(os.path.join(OUT_DIR, file), **options)


def make_images():
    photo = draw_scene(300, 200, "photo")
    save(photo, "photo.png")
    save(photo, "photo.bmp")
    save(photo, "photo.jpg", quality=90)  # 4:2:0 chroma subsampling, PIL's default
    pil_decoded = Image.open(os.path.join(OUT_DIR, "photo.jpg")).convert("RGB")
    save(pil_decoded, "photo.jpg.pil.png")

    large = draw_scene(640, 480, "large")
    save(large, "large_640x480.png")
    save(large, "large_640x480.jpg", quality=85)
    save(Image.open(os.path.join(OUT_DIR, "large_640x480.jpg")).convert("RGB"), "large_640x480.jpg.pil.png")

    save(draw_scene(97, 143, "odd"), "odd_97x143.png")
    save(draw_scene(1001, 757, "odd-large"), "odd_1001x757.png")
    save(draw_scene(40, 30, "tiny"), "tiny_40x30.png")

    gray = draw_scene(180, 120, "gray").convert("L")
    save(gray, "gray.png")

    # 16-bit grayscale: PIL opens it as mode "I" and convert("RGB") clips each value to 0..255 (no scaling).
    ramp = np.add.outer(np.arange(90) * 3, np.arange(130) * 2).astype(np.uint16)  # 0..~650
    ramp[10:30, 10:50] = 60000
    save(Image.fromarray(ramp), "gray16.png")

    la = draw_scene(120, 90, "la").convert("LA")
    la.putalpha(Image.fromarray(rng("la-alpha").integers(0, 256, size=(90, 120), dtype=np.uint8), "L"))
    save(la, "gray_alpha.png")

    rgba = draw_scene(160, 110, "rgba").convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, 160).round().astype(np.uint8), (110, 1))
    alpha[40:70, 20:60] = 0  # fully transparent pixels keep their colour in PIL's convert("RGB")
    rgba.putalpha(Image.fromarray(alpha, "L"))
    save(rgba, "rgba.png")

    palette = draw_scene(150, 100, "palette").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=0)
    save(palette, "palette.png", transparency=3)  # a tRNS chunk: convert("RGB") ignores it
    save(draw_scene(150, 100, "gif").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=0), "palette.gif")


def write_npy_gz(file, array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype="<f4"))
    with open(os.path.join(OUT_DIR, file), "wb") as f:
        # mtime=0 keeps the bytes reproducible
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
            gz.write(buffer.getvalue())


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    make_images()

    values = torch.arange(256, dtype=torch.uint8).view(1, 1, 256).repeat(3, 1, 1)
    table = F.normalize(F.convert_image_dtype(values, torch.float), mean=MEAN, std=STD)[:, 0, :]
    np.save(os.path.join(OUT_DIR, "normalize.npy"), table.numpy().astype("<f4"))

    cases = []
    for file, presets in CASES.items():
        source = Image.open(os.path.join(OUT_DIR, file))
        mode = source.mode
        rgb = source.convert("RGB")
        for preset in presets:
            transform = PRESETS[preset]
            tensor = transform(rgb).numpy()
            crop = transform.crop_size[0]
            assert tensor.shape == (3, crop, crop) and tensor.dtype == np.float32
            tensor_file = f"{file}.{preset}.npy.gz"
            write_npy_gz(tensor_file, tensor)
            cases.append({
                "image": file,
                "pil_mode": mode,
                "width": rgb.width,
                "height": rgb.height,
                "preset": preset,
                "resize": transform.resize_size[0],
                "crop": crop,
                "interpolation": transform.interpolation.value,
                "tensor": tensor_file,
            })

    manifest = {
        "torchvision": torchvision.__version__,
        "torch": torch.__version__,
        "pillow": PIL.__version__,
        "mean": MEAN,
        "std": STD,
        "cases": cases,
    }
    with open(os.path.join(OUT_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT_DIR, n)) for n in os.listdir(OUT_DIR))
    print(f"{len(cases)} cases, {len(os.listdir(OUT_DIR))} files, {total / 1e6:.2f} MB in {os.path.normpath(OUT_DIR)}")


if __name__ == "__main__":
    main()
