#!/usr/bin/python3
"""Trains the plain-PyTorch Glow on Fashion-MNIST for a wall-clock budget and reports test bits/dim.

The model, objective and units are those of `flows train --arch glow` on the same file:
  * whole 28x28 images, Glow with levels 2 (steps 8, hidden 64 by default), learned priors;
  * 8-bit data, uniform dequantization when training: x = (v + u - 128) / 256, u ~ U[0, 1);
  * loss = -mean(log p_flow(x)) / D, Adam (lr 1e-3, linear warm-up over 100 iterations),
    global gradient-norm clipping at 50, non-finite steps skipped;
  * validation: 10 % of the training images held out, 64 of them evaluated every 50 iterations at
    the bin centres (u = 0.5); the best parameters by validation bits/dim are kept;
  * bits/dim = -log p(v) / (D ln 2) with log p(v) = log p_flow(x) - D log 256, i.e.
    NLL_flow / (D ln 2) + 8, the discrete bound usual for Glow; the test figure is the mean over
    every test image evaluated at u = 0.5 (what `flows eval` reports).

Prints one JSON line: iterations, seconds, patches_per_second, train/val/test bits/dim.

Run: /usr/bin/python3 bench/train_glow_fmnist.py --minutes 10 --threads 2
"""

import argparse
import copy
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flows_torch as ft  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
OFFSET, SCALE = 128.0, 256.0


def read_idx(path):
    """Reads an IDX3 image file (optionally gzipped) into uint8 [N, H, W]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, n, h, w = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise ValueError(path + " is not an IDX3 image file")
        return np.frombuffer(f.read(n * h * w), np.uint8).reshape(n, h, w)


def batch_tensor(images, dequant):
    x = images.astype(np.float32)[:, None]
    x = x + (np.random.random_sample(x.shape).astype(np.float32) if dequant is None else dequant)
    return torch.from_numpy((x - OFFSET) / SCALE)


def augment(images, rng):
    out = np.empty_like(images)
    for i, im in enumerate(images):
        im = np.rot90(im, rng.integers(0, 4))
        out[i] = im[:, ::-1] if rng.integers(0, 2) else im
    return out


def bits_per_dim(flow, images, batch=256):
    """Per-image bits/dim at the bin centres, raw 8-bit units."""
    d = images.shape[1] * images.shape[2]
    out = []
    flow.eval()
    with torch.no_grad():
        for s in range(0, len(images), batch):
            ll, _ = flow(batch_tensor(images[s:s + batch], 0.5))
            out.append((-(ll.double() - d * math.log(SCALE)) / (d * math.log(2))).numpy())
    flow.train()
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--levels", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--clip", type=float, default=50.0)
    ap.add_argument("--augment", action="store_true", help="random flips and rot90 (off by default)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=DATA)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train_all = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    test = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
    perm = rng.permutation(len(train_all))
    n_val = len(train_all) // 10
    val_idx = perm[:n_val]
    train = train_all[perm[n_val:]]
    val_fixed = train_all[val_idx[:64]]
    d = train.shape[1] * train.shape[2]

    flow = ft.build("glow", 1, args.levels, args.steps, args.hidden)
    flow.train()
    with torch.no_grad():
        flow(batch_tensor(train[rng.integers(0, len(train), args.batch)], None))
    opt = torch.optim.Adam(flow.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda it: min(1.0, (it + 1) / args.warmup) if args.warmup > 0 else 1.0)

    budget = args.minutes * 60
    start = time.perf_counter()
    it = 0
    running = float("nan")
    best_val, best_state = float("inf"), None
    while time.perf_counter() - start < budget:
        imgs = train[rng.integers(0, len(train), args.batch)]
        if args.augment:
            imgs = augment(imgs, rng)
        ll, _ = flow(batch_tensor(imgs, None))
        loss = -ll.mean() / d
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(flow.parameters(), args.clip)
        lv = loss.item()
        if math.isfinite(lv) and math.isfinite(norm.item()):
            opt.step()
        sched.step()
        it += 1
        bpd = (lv + math.log(SCALE)) / math.log(2)
        running = bpd if math.isnan(running) else 0.95 * running + 0.05 * bpd
        if it % 50 == 0:
            val = float(bits_per_dim(flow, val_fixed).mean())
            if val < best_val:
                best_val, best_state = val, copy.deepcopy(flow.state_dict())
            print("it %d  train %.3f  val %.3f  %.1f s" % (it, running, val, time.perf_counter() - start),
                  file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    val = float(bits_per_dim(flow, val_fixed).mean())
    if val < best_val or best_state is None:
        best_val, best_state = val, copy.deepcopy(flow.state_dict())
    flow.load_state_dict(best_state)
    test_bpd = bits_per_dim(flow, test)
    print(json.dumps({"engine": "pytorch-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "arch": "glow", "levels": args.levels, "steps": args.steps, "hidden": args.hidden,
                      "batch": args.batch, "augment": args.augment, "iterations": it, "seconds": seconds,
                      "patches_per_second": it * args.batch / seconds, "train_bits_per_dim": running,
                      "val_bits_per_dim": best_val, "test_bits_per_dim": float(test_bpd.mean()),
                      "test_images": int(len(test))}))


if __name__ == "__main__":
    main()
