#!/usr/bin/env python3
"""torch 1.13 fine-tuning speed on the shapes `bench finetune` times in EffNet (bench/EffNet.Bench/FineTuneSpeed.cs).

The network is torchvision's EfficientNet in eval() with every BatchNorm folded into its conv (the network EffNet trains:
BatchNorm frozen), all parameters frozen but those of the last K blocks, the head conv and the classifier. From random
block inputs (what EffNet trains from: the frozen layers' output, computed once), it times forward, cross-entropy,
backward and an AdamW step over 256 images a pass, batch 32, after one pass to warm up.

    /usr/bin/python3 tools/torch_finetune_speed.py [--model fashion|b0] [--blocks 1,2,10] [--threads 1,2] [--epochs 3]
"""
import argparse
import time

import torch
from torch import nn

from make_golden import build, fill
from make_gradient_golden import fold_batchnorms

MODELS = {"fashion": (None, 0.5, 0.5, 64), "b0": (0, None, None, 224)}
IMAGES, BATCH, CLASSES = 256, 32, 5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="fashion", choices=MODELS)
    parser.add_argument("--blocks", default="1,2,10")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    phi, width, depth, resolution = MODELS[args.model]
    model, _ = build(phi, width, depth, CLASSES)
    fill(model)
    model.eval()
    fold_batchnorms(model)
    blocks = [block for stage in model.features[1:-1] for block in stage]
    print(f"{args.model} at {resolution} px, {len(blocks)} blocks: {IMAGES} images a pass, batch {BATCH}, {args.epochs} passes "
          f"after one to warm up; images/s forward, backward and AdamW step (torch {torch.__version__})")
    for k in map(int, args.blocks.split(",")):
        k = min(k, len(blocks))
        with torch.no_grad():
            x = model.features[0](torch.zeros(1, 3, resolution, resolution))
            for block in blocks[:len(blocks) - k]:
                x = block(x)
        tail = nn.Sequential(*blocks[len(blocks) - k:], model.features[-1], model.avgpool, nn.Flatten(1), model.classifier)
        for p in model.parameters():
            p.requires_grad_(False)
        trained = [p for p in tail.parameters()]
        for p in trained:
            p.requires_grad_(True)
        generator = torch.Generator().manual_seed(1)
        inputs = torch.rand((IMAGES,) + tuple(x.shape[1:]), generator=generator) * 2 - 1
        labels = torch.arange(IMAGES) % CLASSES
        for threads in map(int, args.threads.split(",")):
            torch.set_num_threads(threads)
            optimizer = torch.optim.AdamW(trained, lr=1e-4, weight_decay=0.01)

            def one_pass():
                for start in range(0, IMAGES, BATCH):
                    optimizer.zero_grad(set_to_none=True)
                    loss = nn.functional.cross_entropy(tail(inputs[start:start + BATCH]), labels[start:start + BATCH])
                    loss.backward()
                    optimizer.step()

            one_pass()
            began = time.perf_counter()
            for _ in range(args.epochs):
                one_pass()
            seconds = time.perf_counter() - began
            print(f"--unfreeze {k} ({sum(p.numel() for p in trained):,} parameters) threads={threads}: "
                  f"{IMAGES * args.epochs / seconds:.0f} images/s", flush=True)


if __name__ == "__main__":
    main()
