#!/usr/bin/env python3
"""Writes src/EffNet.Imaging/ImageNetClasses.txt: torchvision's 1000 ImageNet-1k category names, one per line, in
class-index order, exactly as `EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]` lists them (every
torchvision ImageNet weight set shares this list).

Run with the system interpreter (Debian's python3-torchvision):   /usr/bin/python3 tools/make_imagenet_classes.py
"""
import os

from torchvision.models import EfficientNet_B0_Weights

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "EffNet.Imaging", "ImageNetClasses.txt")


def main():
    names = EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]
    assert len(names) == 1000, len(names)
    for name in names:
        assert name and name == name.strip() and "\n" not in name and "\r" not in name, repr(name)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(names) + "\n")
    print(f"{len(names)} names -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
