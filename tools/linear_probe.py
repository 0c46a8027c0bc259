#!/usr/bin/env python3
"""scikit-learn's logistic regression on the features `effnet train` cached, as the reference linear probe.

`effnet train --cache DIR` keeps each image's features in DIR/<base key>/<sha256 of the file>.f32 (float32, the image's
views one after another, view 0 first). This reads view 0 of every image of two ImageFolder trees, fits
StandardScaler + LogisticRegression on the first and prints the accuracy on the second.

    /usr/bin/python3 tools/linear_probe.py CACHE/<base key> photos/train photos/test [--dimension 1280] [--C 1.0]
"""
import argparse
import hashlib
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(cache, tree, dimension):
    classes = sorted(d for d in os.listdir(tree) if os.path.isdir(os.path.join(tree, d)) and not d.startswith("."))
    rows, labels = [], []
    for index, name in enumerate(classes):
        folder = os.path.join(tree, name)
        for root, _, files in os.walk(folder):
            for file in sorted(files):
                path = os.path.join(root, file)
                digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
                cached = os.path.join(cache, digest + ".f32")
                if not os.path.exists(cached):
                    sys.exit(f"{path}: no cached features at {cached}; run effnet train over this folder with --cache first.")
                rows.append(np.fromfile(cached, dtype=np.float32, count=dimension))
                labels.append(index)
    return classes, np.stack(rows), np.array(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", help="the base model's cache folder: CACHE/<base key>")
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("--dimension", type=int, default=1280)
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (default 1.0)")
    args = parser.parse_args()
    classes, x_train, y_train = load(args.cache, args.train, args.dimension)
    test_classes, x_test, y_test = load(args.cache, args.test, args.dimension)
    if classes != test_classes:
        sys.exit(f"class folders differ: {classes} and {test_classes}")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=5000))
    probe.fit(x_train, y_train)
    print(f"scikit-learn logistic regression (C={args.C}) on {len(y_train)} training images: "
          f"train accuracy {probe.score(x_train, y_train):.1%}, test accuracy {probe.score(x_test, y_test):.1%} on {len(y_test)}")


if __name__ == "__main__":
    main()
