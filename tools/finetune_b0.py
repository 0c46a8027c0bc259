#!/usr/bin/env python3
"""Fine-tune torchvision's efficientnet_b0 on a folder of photos, for `effnet import` and `effnet classify`.

The folder is what torchvision's ImageFolder reads: one sub-folder per class, named after it. The images go through
the preprocessing of EfficientNet_B0_Weights.DEFAULT (resize the shorter side to 256 bicubic, centre crop 224,
ImageNet mean/std), which is exactly what `effnet classify` applies to a B0, plus a random horizontal flip while
training. Writes:

  -o FILE        torch.save(model.state_dict()): the checkpoint `effnet import` reads
  --labels FILE  the class names, one a line, in the model's class order (ImageFolder's: sorted folder names)
  --eval-csv     with --eval DIR: torch's top-1 for each image of DIR (path, label, probability, true label)

Starts from ImageNet weights: --init FILE (a saved torchvision efficientnet_b0 state_dict), else torchvision's download
of the DEFAULT weights; without either (offline) it says so and starts from random weights.

    /usr/bin/python3 tools/finetune_b0.py photos/train -o ft.pth --labels labels.txt [--epochs 3] [--init b0.pth]
        [--eval photos/test [--eval-csv ft_test.csv]]
    effnet import ft.pth --labels labels.txt -o ft.effw
    effnet classify -w ft.effw photos/test/Bag/00000.png
"""
import argparse
import csv
import os
import sys
import time

import torch
from torch import nn
from torchvision import datasets, transforms
from torchvision.models import EfficientNet_B0_Weights, efficientnet_b0


def pretrained_model(init_path):
    """efficientnet_b0 with ImageNet weights from --init or torchvision's download; random weights if neither works."""
    if init_path:
        state = torch.load(init_path, map_location="cpu")
        model = efficientnet_b0(num_classes=state["classifier.1.weight"].shape[0])
        model.load_state_dict(state)
        print(f"initial weights: {init_path}")
        return model
    try:
        model = efficientnet_b0(weights=EfficientNet_B0_Weights.DEFAULT)
        print(f"initial weights: torchvision's {EfficientNet_B0_Weights.DEFAULT}")
        return model
    except Exception as e:  # no network, no cached download: the walk-through still runs, only less accurately
        print(f"initial weights: RANDOM, since the ImageNet weights could not be downloaded ({type(e).__name__}); "
              f"give --init with a saved efficientnet_b0 state_dict for a real fine-tune")
        return efficientnet_b0()


def train_one_epoch(model, loader, optimizer):
    """(mean loss, accuracy) over one pass of the training set, measured on the batches as they were trained."""
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for images, targets in loader:
        optimizer.zero_grad()
        logits = model(images)
        loss = nn.functional.cross_entropy(logits, targets)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(targets)
        correct += (logits.argmax(1) == targets).sum().item()
        seen += len(targets)
    return loss_sum / seen, correct / seen


def evaluate(model, folder, classes, preprocess, csv_path, batch_size):
    """Test accuracy; writes torch's top-1 class and its softmax probability for each image to csv_path."""
    dataset = datasets.ImageFolder(folder, transform=preprocess)
    if dataset.classes != classes:
        sys.exit(f"--eval {folder}: classes {dataset.classes} differ from the training folder's {classes}.")
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    model.eval()
    correct = 0
    with open(csv_path, "w", newline="") as f, torch.no_grad():
        rows = csv.writer(f, lineterminator="\n")
        rows.writerow(["path", "label", "probability", "true_label"])
        samples = iter(dataset.samples)
        for images, targets in loader:
            probabilities = model(images).softmax(1)
            best, predicted = probabilities.max(1)
            correct += (predicted == targets).sum().item()
            for p, i in zip(best.tolist(), predicted.tolist()):
                path, truth = next(samples)
                rows.writerow([path, classes[i], f"{p:.6f}", classes[truth]])
    return correct / len(dataset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", help="ImageFolder tree: <train>/<class>/<image>")
    parser.add_argument("-o", "--output", required=True, help="checkpoint to write (torch.save of the state_dict)")
    parser.add_argument("--labels", required=True, help="class names file to write, one a line")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (default 1e-3)")
    # 16: batches of 32 trained about 3x slower per image on this 2-core machine (page faults on the larger buffers).
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--init", help="torchvision efficientnet_b0 state_dict to start from (ImageNet weights)")
    parser.add_argument("--eval", metavar="DIR", help="ImageFolder tree to measure test accuracy on after training")
    parser.add_argument("--eval-csv", help="torch's top-1 per --eval image (default: the output's name + _test.csv)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 1:
        sys.exit(f"--epochs must be at least 1, not {args.epochs}.")
    for folder in filter(None, (args.train, args.eval)):
        if not os.path.isdir(folder):
            sys.exit(f"{folder} is not a folder; give an ImageFolder tree (one sub-folder per class).")

    torch.set_num_threads(args.threads)
    # Tiny values (denormals) appear in training from random weights on images with flat backgrounds; computing with
    # them made the CPU steps several times slower here. Flushing them to zero changes no result that matters.
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    preprocess = EfficientNet_B0_Weights.DEFAULT.transforms()  # what `effnet classify` applies to a B0
    train_set = datasets.ImageFolder(args.train, transform=transforms.Compose([transforms.RandomHorizontalFlip(), preprocess]))
    classes = train_set.classes
    print(f"{len(train_set)} training images in {len(classes)} classes: {', '.join(classes)}")

    model = pretrained_model(args.init)
    # A new last layer for our classes; the Dropout before it stays.
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, len(classes))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    start, start_cpu = time.time(), time.process_time()
    for epoch in range(1, args.epochs + 1):
        loss, accuracy = train_one_epoch(model, loader, optimizer)
        print(f"epoch {epoch}/{args.epochs}: loss {loss:.4f}, train accuracy {accuracy:.1%}, "
              f"{time.time() - start:.0f} s elapsed, {time.process_time() - start_cpu:.0f} s CPU")

    # The state_dict holds BatchNorm's running statistics as training left them: what eval mode (and effnet) uses.
    torch.save(model.state_dict(), args.output)
    with open(args.labels, "w") as f:
        f.writelines(name + "\n" for name in classes)
    print(f"wrote {args.output} and {args.labels}")

    if args.eval:
        csv_path = args.eval_csv or os.path.splitext(args.output)[0] + "_test.csv"
        accuracy = evaluate(model, args.eval, classes, preprocess, csv_path, args.batch_size)
        print(f"test accuracy (torch): {accuracy:.1%} on {args.eval}; top-1 per image in {csv_path}")


if __name__ == "__main__":
    main()
