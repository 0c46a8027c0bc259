#!/usr/bin/env python3
"""Checkpoint fixtures for the import tests, written by the real torch.save and torchvision.

Uses the seeded weights of make_golden.py and writes into tests/Runtime.Tests/Fixtures/:
  b0_c10_fp16.pt                       torch.save(state_dict) of torchvision efficientnet_b0, 10 classes, in float16
  b0_c10_fp16.json                     torchvision's logits for exactly those fp16-rounded weights (input at 224)
  custom_c10.pt                        float32 torch.save of the custom net (width 0.5, depth 0.6, 10 classes), with
                                       non-contiguous tensors (transposed, permuted, strided, sharing a storage)
  custom_c10.json                      torchvision's logits for it (input at 128)
  custom_c10_torchvision_bf16.safetensors, custom_c10_timm_bf16.safetensors
                                       the same weights rounded to bfloat16, torchvision and timm key names
  custom_c10_bf16.json                 torchvision's logits for the bfloat16-rounded weights
  evil_*.pt                            torch.save zips whose pickle asks for a forbidden global (never loaded here)
  tiny.pt                              a few small tensors of every element type, some as strided views
  npy/*.npy                            arrays written by numpy itself: float32 and float64, both byte orders,
                                       header versions 1-3, a scalar, and two it must refuse (Fortran order, int32)

The safetensors files are written by hand (the format is an 8-byte header length, a JSON header, the raw bytes).
Run with the system interpreter:   /usr/bin/python3 tools/make_checkpoints.py
"""
import collections
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as g  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Runtime.Tests", "Fixtures")
MADE_BY = "tools/make_checkpoints.py"

B0_C10 = (0, None, None, 224, 10)
CUSTOM_C10 = (None, 0.5, 0.6, 128, 10)


def out(name):
    return os.path.join(OUT_DIR, name)


def seeded(spec):
    phi, width, depth, _, classes = spec
    torch.manual_seed(0)
    model, eps = g.build(phi, width, depth, classes)
    g.fill(model)
    return model, eps


def golden(name, spec, model, eps, **extra):
    logits, stages = g.evaluate(model, spec[3])
    g.write_golden(out(name + ".json"), name, spec, model, eps, logits, stages, made_by=MADE_BY, **extra)


def b0_fp16():
    model, eps = seeded(B0_C10)
    model.half()
    torch.save(model.state_dict(), out("b0_c10_fp16.pt"))
    golden("b0_c10_fp16", B0_C10, model.float(), eps, checkpoint="b0_c10_fp16.pt", weights="float16, rounded by model.half()")


def strided_copies(state):
    """The same values, but several tensors become non-contiguous views, as torch.save keeps them."""
    state = collections.OrderedDict(state)  # a copy; the caller carries _metadata over
    w = state["classifier.1.weight"]
    state["classifier.1.weight"] = w.t().contiguous().t()  # strides (1, classes)
    w = state["features.0.0.weight"]
    state["features.0.0.weight"] = w.permute(2, 3, 1, 0).contiguous().permute(3, 2, 0, 1)  # HWIO storage, OIHW view
    mean, var = state["features.0.1.running_mean"], state["features.0.1.running_var"]
    shared = torch.cat([mean, var])  # one storage, the second tensor at offset n
    state["features.0.1.running_mean"], state["features.0.1.running_var"] = shared[: len(mean)], shared[len(mean):]
    w = state["features.8.1.weight"]
    state["features.8.1.weight"] = torch.stack([torch.full_like(w, 99.0), w], 1)[:, 1]  # stride 2, offset 1
    for key in ("classifier.1.weight", "features.0.0.weight", "features.8.1.weight"):
        assert not state[key].is_contiguous(), key
    return state


def custom_fp32():
    model, eps = seeded(CUSTOM_C10)
    state = model.state_dict()
    saved = strided_copies(state)
    saved._metadata = state._metadata
    path = out("custom_c10.pt")
    torch.save(saved, path)
    back = torch.load(path)
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state)
    golden("custom_c10", CUSTOM_C10, model, eps, checkpoint="custom_c10.pt", weights="float32")
    return model, eps


# torchvision module -> timm module (architecture reference 5.2), inside a block without and with expansion.
DS_BLOCK = {"block.0.0": "conv_dw", "block.0.1": "bn1", "block.1.fc1": "se.conv_reduce", "block.1.fc2": "se.conv_expand",
            "block.2.0": "conv_pw", "block.2.1": "bn2"}
IR_BLOCK = {"block.0.0": "conv_pw", "block.0.1": "bn1", "block.1.0": "conv_dw", "block.1.1": "bn2",
            "block.2.fc1": "se.conv_reduce", "block.2.fc2": "se.conv_expand", "block.3.0": "conv_pwl", "block.3.1": "bn3"}
TOP = {"features.0.0": "conv_stem", "features.0.1": "bn1", "features.8.0": "conv_head", "features.8.1": "bn2",
       "classifier.1": "classifier"}


def timm_name(key, keys):
    module, field = key.rsplit(".", 1)
    if module in TOP:
        return f"{TOP[module]}.{field}"
    _, stage, block, inner = module.split(".", 3)  # features.S.J.<inner>
    expanded = f"features.{stage}.{block}.block.3.0.weight" in keys
    return f"blocks.{int(stage) - 1}.{block}.{(IR_BLOCK if expanded else DS_BLOCK)[inner]}.{field}"


def write_safetensors(path, tensors, float_dtype, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            dtype, data = "I64", t.numpy().tobytes()
        elif float_dtype == torch.bfloat16:
            dtype, data = "BF16", t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            dtype, data = "F32", t.float().numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def custom_bf16(model, eps):
    state = model.state_dict()
    write_safetensors(out("custom_c10_torchvision_bf16.safetensors"), state, torch.bfloat16,
                      {"format": "pt", "made_by": MADE_BY})
    timm = collections.OrderedDict((timm_name(k, state), v) for k, v in state.items())
    assert len(timm) == len(state)
    write_safetensors(out("custom_c10_timm_bf16.safetensors"), timm, torch.bfloat16, {"format": "pt", "made_by": MADE_BY})
    rounded = model.bfloat16().float()
    golden("custom_c10_bf16", CUSTOM_C10, rounded, eps, checkpoint="custom_c10_*_bf16.safetensors",
           weights="bfloat16, rounded to nearest even by torch")


class Forbidden:
    """Pickles as a call of `target`: what a malicious checkpoint does. Only pickled here, never unpickled."""

    def __init__(self, target, args):
        self.target, self.args = target, args

    def __reduce__(self):
        return self.target, self.args


def evil():
    cases = {
        "evil_os_system.pt": (os.system, ("echo owned",)),
        "evil_builtins_eval.pt": (eval, ("1 + 1",)),
        "evil_subprocess_popen.pt": (subprocess.Popen, (["echo", "owned"],)),
        "evil_load_from_bytes.pt": (torch.storage._load_from_bytes, (b"not a storage",)),
    }
    for name, (target, args) in cases.items():
        state = collections.OrderedDict()
        state["features.0.0.weight"] = torch.zeros(2)
        state["payload"] = Forbidden(target, args)
        torch.save(state, out(name))


def tiny():
    """Exactly representable values, so the C# test can spell them out."""
    state = collections.OrderedDict()
    state["transposed"] = torch.arange(6, dtype=torch.float32).reshape(3, 2).t()  # [[0, 2, 4], [1, 3, 5]], strides (1, 2)
    state["half"] = torch.tensor([0.5, -1.25, 65504.0, 2.0 ** -14, 2.0 ** -24], dtype=torch.float16)
    state["bfloat"] = torch.tensor([1.0, -2.5, 2.0 ** 100, 2.0 ** -130], dtype=torch.bfloat16)
    state["double"] = torch.tensor([1.5, -0.125], dtype=torch.float64)
    state["count"] = torch.tensor(7, dtype=torch.int64)
    state["int32"] = torch.tensor([3, -4], dtype=torch.int32)
    state["sliced"] = torch.arange(10, dtype=torch.float32)[2:9:3]  # [2, 5, 8]: offset 2, stride 3
    state["empty"] = torch.zeros(0, 3)
    torch.save(state, out("tiny.pt"))


def npy():
    os.makedirs(out("npy"), exist_ok=True)
    arange = np.arange(6, dtype="<f4").reshape(2, 3)
    np.save(out("npy/f32.npy"), arange)
    np.save(out("npy/f64_big_endian.npy"), np.array([[1.5, -2.25]], dtype=">f8"))
    np.save(out("npy/scalar.npy"), np.float32(3.5))
    for version in (2, 3):
        with open(out(f"npy/f32_v{version}.npy"), "wb") as f:
            np.lib.format.write_array(f, arange, version=(version, 0))
    np.save(out("npy/fortran.npy"), np.asfortranarray(arange))
    np.save(out("npy/int32.npy"), np.arange(3, dtype="<i4"))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    b0_fp16()
    model, eps = custom_fp32()
    custom_bf16(model, eps)
    evil()
    tiny()
    npy()
    for root, _, files in os.walk(OUT_DIR):
        for name in sorted(files):
            path = os.path.join(root, name)
            print(f"{os.path.relpath(path, OUT_DIR)}: {os.path.getsize(path):,} bytes")


if __name__ == "__main__":
    main()
