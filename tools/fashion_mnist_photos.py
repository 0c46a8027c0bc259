#!/usr/bin/env python3
"""Fashion-MNIST as a folder of PNG photos, for trying `effnet classify` on a fine-tuned model offline.

Reads Debian's dataset-fashion-mnist (the original idx files, gzip-compressed, in /usr/share/datasets/fashion-mnist)
and writes the first N images of each chosen class, in the dataset's order, as 28x28 grayscale PNGs:

  <out>/train/<label>/00000.png ...   from train-images (the first --train of each class)
  <out>/test/<label>/00000.png ...    from t10k-images (the first --test of each class)

so the tree is what torchvision's ImageFolder reads. The same arguments always give the same files.

    apt-get install -y dataset-fashion-mnist python3-pil
    /usr/bin/python3 tools/fashion_mnist_photos.py /work/ft-out/photos [--train 200] [--test 20]
        [--classes "T-shirt/top,Trouser,Sneaker,Bag,Ankle boot"]
"""
import argparse
import gzip
import os
import struct
import sys

from PIL import Image

DATASET_DIR = "/usr/share/datasets/fashion-mnist"

# The label names of the dataset's README, in label order (the idx files hold only the numbers 0..9).
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# Five classes that look nothing alike at 28x28 (Pullover, Coat and Shirt are easily confused with each other).
DEFAULT_CLASSES = ["T-shirt/top", "Trouser", "Sneaker", "Bag", "Ankle boot"]

SPLITS = {"train": "train", "test": "t10k"}  # our folder name -> the dataset's file prefix


def folder_name(label):
    """The label as a directory name: '/' and ' ' cannot or should not appear in one ("T-shirt/top" -> "T-shirt_top")."""
    return label.replace("/", "_").replace(" ", "_")


def read_idx(path, expected_magic):
    """The header dimensions and the raw bytes of an idx file (big-endian u32 magic, u32 per dimension, then u8 data)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        sys.exit(f"{path}: idx magic {magic:#x}, expected {expected_magic:#x}; is dataset-fashion-mnist intact?")
    dims = struct.unpack(f">{magic & 0xFF}I", data[4:4 + 4 * (magic & 0xFF)])
    return dims, data[4 + 4 * len(dims):]


def read_split(prefix):
    """(labels, images, (width, height)) of one split: labels as bytes, each image as its rows-first pixel bytes."""
    label_dims, labels = read_idx(os.path.join(DATASET_DIR, f"{prefix}-labels-idx1-ubyte.gz"), 0x801)
    (count, rows, cols), pixels = read_idx(os.path.join(DATASET_DIR, f"{prefix}-images-idx3-ubyte.gz"), 0x803)
    if label_dims[0] != count or len(labels) != count or len(pixels) != count * rows * cols:
        sys.exit(f"{DATASET_DIR}/{prefix}-*: {label_dims[0]} labels for {count} images of {rows}x{cols}; the files disagree.")
    size = rows * cols
    return labels, [pixels[i * size:(i + 1) * size] for i in range(count)], (cols, rows)


def export(out_dir, split, per_class, classes):
    labels, images, size = read_split(SPLITS[split])
    wanted = {LABELS.index(name): name for name in classes}
    written = {index: 0 for index in wanted}
    for label, pixels in zip(labels, images):
        if label not in wanted or written[label] >= per_class:
            continue
        folder = os.path.join(out_dir, split, folder_name(wanted[label]))
        os.makedirs(folder, exist_ok=True)
        Image.frombytes("L", size, pixels).save(os.path.join(folder, f"{written[label]:05d}.png"))
        written[label] += 1
    for index, count in written.items():
        if count < per_class:
            sys.exit(f"{split}: only {count} images of '{wanted[index]}' in the dataset, fewer than the {per_class} asked for.")
    print(f"{split}: {per_class} images x {len(classes)} classes -> {os.path.join(out_dir, split)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write train/ and test/ into")
    parser.add_argument("--train", type=int, default=200, help="images per class from the training split (default 200)")
    parser.add_argument("--test", type=int, default=20, help="images per class from the test split (default 20)")
    parser.add_argument("--classes", default=",".join(DEFAULT_CLASSES),
                        help="comma-separated dataset labels (default: %(default)s); one of: " + ", ".join(LABELS))
    args = parser.parse_args()

    classes = [name.strip() for name in args.classes.split(",") if name.strip()]
    unknown = [name for name in classes if name not in LABELS]
    if unknown:
        sys.exit(f"--classes: {', '.join(unknown)} not a Fashion-MNIST label; use some of: {', '.join(LABELS)}")
    if len(set(classes)) != len(classes) or len(classes) < 2:
        sys.exit("--classes: give at least two different labels.")
    if not os.path.isdir(DATASET_DIR):
        sys.exit(f"{DATASET_DIR} is missing: apt-get install -y dataset-fashion-mnist")
    for split, per_class in (("train", args.train), ("test", args.test)):
        if per_class < 0:
            sys.exit(f"--{split} must be 0 or more, not {per_class}.")
        if os.path.exists(os.path.join(args.out, split)):
            sys.exit(f"{os.path.join(args.out, split)} exists; remove it or choose another folder, so no old images mix in.")
    for split, per_class in (("train", args.train), ("test", args.test)):
        if per_class > 0:
            export(args.out, split, per_class, classes)


if __name__ == "__main__":
    main()
