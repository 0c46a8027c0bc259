#!/usr/bin/env python3
"""Trains a small EfficientNet from random weights as the base model of the training tests and the transfer figures.

torchvision's EfficientNet builder at width 0.5 and depth 0.5 (660,325 parameters, 640 features), 64x64 inputs, on an
ImageFolder tree (`tools/fashion_mnist_photos.py` with Fashion-MNIST classes 0-4), with the preprocessing `effnet` will
record for it: resize the shorter side to 73 (bilinear), centre crop 64, ImageNet mean and std. Uses the training loop
of tools/finetune_b0.py. The int8 accuracy fixture is the same builder on all ten classes at 32 px
(`--resolution 32 --resize 32`).

    /usr/bin/python3 tools/train_small_base.py photos/train -o base.pth --labels labels.txt [--epochs 6] [--eval photos/test]
    effnet import base.pth --width 0.5 --depth 0.5 --resolution 64 --resize 73 --crop 64 --interpolation bilinear \\
        --labels labels.txt -o base.effw
"""
import argparse
import time

import torch
from torchvision import datasets, transforms
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

from finetune_b0 import evaluate, train_one_epoch

WIDTH, DEPTH = 0.5, 0.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval", metavar="DIR")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=64, help="input size the model is trained at (default 64)")
    parser.add_argument("--resize", type=int, default=73, help="shorter side before the centre crop (default 73)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.set_flush_denormal(True)  # see finetune_b0.py: denormals made CPU training several times slower
    torch.manual_seed(args.seed)
    RESOLUTION, RESIZE = args.resolution, args.resize
    preprocess = transforms.Compose([
        transforms.Resize(RESIZE, interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.CenterCrop(RESOLUTION),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    train_set = datasets.ImageFolder(args.train, transform=transforms.Compose([transforms.RandomHorizontalFlip(), preprocess]))
    classes = train_set.classes
    settings, last_channel = _efficientnet_conf("efficientnet_b0", width_mult=WIDTH, depth_mult=DEPTH)
    model = EfficientNet(settings, 0.2, last_channel=last_channel, num_classes=len(classes))
    print(f"{len(train_set)} images in {len(classes)} classes; width {WIDTH}, depth {DEPTH}, {RESOLUTION} px, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        loss, accuracy = train_one_epoch(model, loader, optimizer)
        print(f"epoch {epoch}/{args.epochs}: loss {loss:.4f}, train accuracy {accuracy:.1%}, {time.time() - start:.0f} s")
    torch.save(model.state_dict(), args.output)
    with open(args.labels, "w") as f:
        f.writelines(name + "\n" for name in classes)
    print(f"wrote {args.output} and {args.labels}")
    if args.eval:
        accuracy = evaluate(model, args.eval, classes, preprocess, args.output + "_test.csv", args.batch_size)
        print(f"test accuracy (torch): {accuracy:.1%} on {args.eval}")


if __name__ == "__main__":
    main()
