#!/usr/bin/env python3
"""Loads a medsyn checkpoint's generator into PyTorch, following docs/checkpoints.md, and checks that PyTorch
produces medsyn's samples for the same latents. Not part of `npm test`; needs torch and numpy:

    apt-get install -y python3-torch          # Debian; or pip install torch numpy
    npx tsc -p tsconfig.json
    node dist/test/training/export_pytorch_check.js /tmp/medsyn-pt
    /usr/bin/python3 test/training/pytorch_load_check.py /tmp/medsyn-pt

For every case folder (a run + check.safetensors from export_pytorch_check.ts) it prints the max |difference|
between PyTorch's and medsyn's outputs and exits non-zero if any, relative to the outputs' standard deviation,
exceeds TOLERANCE.

The safetensors reader below is written from the format spec (no `safetensors` package needed).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

TOLERANCE = 1e-4
DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    """{name: np.ndarray}, metadata: 8-byte LE header length, JSON header, raw little-endian data."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy()
    return out, meta


ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky-relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "selu": nn.SELU,
}


def make_norm(kind, channels):
    if kind == "batch":
        return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, eps=1e-5, affine=True)
    return nn.Identity()


class Generator(nn.Module):
    """medsyn's DCGAN generator (src/models/dcgan.ts) with PyTorch modules, per docs/checkpoints.md."""

    def __init__(self, latent_dim, filters, size, channels, norm, activation, spectral):
        super().__init__()
        blocks = int(np.log2(size // 4))
        c = lambda i: filters * min(2 ** (blocks - i), 8)
        sn = nn.utils.spectral_norm if spectral else (lambda m: m)
        hidden_bias = norm == "none"
        self.c0 = c(0)
        self.input = nn.ModuleDict({"fc": sn(nn.Linear(latent_dim, 16 * c(0), bias=hidden_bias)), "norm": make_norm(norm, c(0))})
        self.blocks = nn.ModuleList([
            nn.ModuleDict({
                "conv": sn(nn.ConvTranspose2d(c(i), c(i + 1), 4, stride=2, padding=1, bias=hidden_bias)),
                "norm": make_norm(norm, c(i + 1)),
            })
            for i in range(blocks)
        ])
        self.output = nn.ModuleDict({"conv": sn(nn.Conv2d(c(blocks), channels, 3, stride=1, padding=1, bias=True))})
        self.act = ACTIVATIONS[activation]()

    def forward(self, z):
        n = z.shape[0]
        x = self.input["fc"](z).view(n, 4, 4, self.c0).permute(0, 3, 1, 2)  # TF.js reshapes channels-last
        x = self.act(self.input["norm"](x))
        for block in self.blocks:
            x = self.act(block["norm"](block["conv"](x)))
        return torch.tanh(self.output["conv"](x))  # [N, C, H, W]


def to_pytorch(name, value):
    """TF.js layout → PyTorch layout (docs/checkpoints.md, "Mapping to PyTorch")."""
    t = torch.from_numpy(value)
    if t.ndim == 4:  # conv [kh, kw, in, out] → [out, in, kh, kw]; transposed conv [kh, kw, out, in] → [in, out, kh, kw]
        return t.permute(3, 2, 0, 1).contiguous()
    if t.ndim == 2:  # dense [in, out] → [out, in]
        return t.T.contiguous()
    return t


def check(case_dir):
    run = json.loads((case_dir / "run.json").read_text())
    gan, shape = run["gan"], run["shape"]
    tensors, meta = read_safetensors(case_dir / "checkpoint-latest.safetensors")
    assert json.loads(meta["format"]) == "medsyn-checkpoint/1"
    group = "G_ema" if any(k.startswith("G_ema.") for k in tensors) else "G"
    state = {k[len(group) + 1:]: to_pytorch(k, v) for k, v in tensors.items() if k.startswith(group + ".")}

    g = gan["g"]
    model = Generator(gan["latentDim"], g["filters"], shape["height"], shape["imageChannels"] + shape["numClasses"],
                      g["norm"], g["activation"], g["spectralNorm"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, f"checkpoint tensors PyTorch does not know: {unexpected}"
    assert all(k.endswith("num_batches_tracked") for k in missing), f"PyTorch parameters missing from the checkpoint: {missing}"
    model.eval()

    check_tensors, _ = read_safetensors(case_dir / "check.safetensors")
    with torch.no_grad():
        ours = model(torch.from_numpy(check_tensors["latents"])).permute(0, 2, 3, 1).numpy()  # → [N, H, W, C]
    theirs = check_tensors["outputs"]
    diff = float(np.max(np.abs(ours - theirs)))
    spread = float(np.std(theirs))
    print(f"{case_dir.name}: {len(state)} tensors from {group}, output {list(ours.shape)} (std {spread:.3e}), "
          f"max |PyTorch − medsyn| = {diff:.3e}, relative to std {diff / spread:.1e}")
    # Relative to the outputs' spread, so that near-constant outputs cannot make a wrong mapping look right.
    return diff / spread


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "pytorch-check")
    cases = sorted(p for p in root.iterdir() if (p / "check.safetensors").exists())
    if not cases:
        sys.exit(f"{root}: no case folders; run dist/test/training/export_pytorch_check.js {root} first")
    print(f"torch {torch.__version__}")
    worst = max(check(c) for c in cases)
    print(f"max over cases of max|diff| / std(output): {worst:.1e} (tolerance {TOLERANCE:g})")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main()
