#!/usr/bin/python3
"""Plain-PyTorch (eager) throughput of the project's flows, for comparison with `flows bench`.

Scenarios (same models, sizes, batches and thread count as the Java benchmark):
  train    patches/s of maximum-likelihood training (dequantize, normalise, forward, backward,
           gradient-norm clipping at 50, Adam lr 1e-3) on random patches of a synthetic 16-bit image;
           RealNVP, Glow, IAF at the default sizes (patch 32, batch 16) and the large Glow
           (levels 3, steps 16, hidden 128, patch 32, batch 32).
  map      exact per-pixel likelihood map of a 2048x2048 16-bit plane, megapixels/s, Glow and
           RealNVP at the default sizes with the Java Mapper's tiling (tile 256 + receptive margin,
           4 tiles per batch), and Glow once more on the whole plane in one pass.
  sample   images/s drawing 256x256 images (4 per batch, like the Java Sampler) per architecture:
           one untimed round of 16 images, then rounds of 16 until 5 s have passed.

Every model is untrained (data-dependent ActNorm initialisation on one batch), as in the Java
benchmark. Prints one JSON line on stdout; progress goes to stderr.

Run: /usr/bin/python3 bench/bench_torch.py --threads 2 [--quick] [--seconds 30]
"""

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flows_torch as ft  # noqa: E402


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def synthetic_plane(height, width, seed=1):
    """A 16-bit fluorescence-like plane: smooth blobs on a background with Poisson-like noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.full((height, width), 400.0, np.float32)
    for _ in range(max(4, height * width // 4000)):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        r = rng.uniform(4, 12)
        y0, y1 = int(max(0, cy - 3 * r)), int(min(height, cy + 3 * r))
        x0, x1 = int(max(0, cx - 3 * r)), int(min(width, cx + 3 * r))
        img[y0:y1, x0:x1] += 3000 * np.exp(-((yy[y0:y1, x0:x1] - cy) ** 2 + (xx[y0:y1, x0:x1] - cx) ** 2) / (2 * r * r))
    img += rng.normal(0, 1, img.shape).astype(np.float32) * np.sqrt(img)
    return np.clip(np.floor(img), 0, 65535).astype(np.float32)


def normaliser(plane):
    """The Java robust-percentile normaliser for integer data: 0.1 % and 99.9 % percentiles."""
    lo, hi = np.percentile(plane, 0.1), np.percentile(plane, 99.9)
    lo, hi = math.floor(lo), math.ceil(hi)
    return (lo + hi + 1) / 2.0, float(hi + 1 - lo)


def make_model(arch, patch, batch, data, norm, **sizes):
    torch.manual_seed(1)
    flow = ft.build(arch, **sizes)
    flow.train()
    x = random_patches(data, patch, batch, norm, np.random.default_rng(0))
    with torch.no_grad():
        flow(x)
    return flow


def random_patches(data, patch, batch, norm, rng, augment=True):
    """Random patches with flips/rot90, uniform dequantization, normalised: [B, 1, p, p]."""
    h, w = data.shape
    out = np.empty((batch, 1, patch, patch), np.float32)
    for i in range(batch):
        y, x = rng.integers(0, h - patch + 1), rng.integers(0, w - patch + 1)
        p = data[y:y + patch, x:x + patch]
        if augment:
            p = np.rot90(p, rng.integers(0, 4))
            if rng.integers(0, 2):
                p = p[:, ::-1]
        out[i, 0] = p
    out += rng.random(out.shape, dtype=np.float32)
    return torch.from_numpy((out - norm[0]) / norm[1])


WARMUP_SHARE = 0.2  # as in the Java benchmark: the first fifth of a training run is left out


def train_throughput(arch, patch, batch, seconds, warmup, data, norm, **sizes):
    """Steady-state patches/s over a run of `seconds`: timed from the first iteration that ends after
    the first WARMUP_SHARE of the run (and after `warmup` iterations) to the last, like `flows bench`."""
    flow = make_model(arch, patch, batch, data, norm, **sizes)
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    rng = np.random.default_rng(2)
    dims = patch * patch
    marks = []  # (iteration, time) at the end of every iteration
    start = time.perf_counter()
    loss = torch.tensor(float("nan"))
    it = 0
    while True:
        x = random_patches(data, patch, batch, norm, rng)
        try:
            ll, _ = flow(x)
            loss = -ll.mean() / dims
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm_ = torch.nn.utils.clip_grad_norm_(flow.parameters(), 50.0)
            if math.isfinite(loss.item()) and math.isfinite(norm_.item()):
                opt.step()
        except ArithmeticError:
            # an IAF density solve that leaves the working range: a failed step, as in the Java trainer
            pass
        it += 1
        now = time.perf_counter()
        marks.append((it, now))
        if now - start >= seconds and it >= warmup + 3:
            break
    warm_end = marks[0][1] + WARMUP_SHARE * (marks[-1][1] - marks[0][1])
    first = next(m for m in marks if m[0] >= warmup and m[1] >= warm_end)
    n = marks[-1][0] - first[0]
    dt = marks[-1][1] - first[1]
    return {"patches_per_second": n * batch / dt if n > 0 else float("nan"),
            "patches_per_second_including_warmup": it * batch / (now - start),
            "iterations": it, "timed_iterations": n, "warmup_iterations": first[0],
            "warmup_seconds": first[1] - marks[0][1], "seconds": now - start, "batch": batch, "patch": patch,
            "bits_per_dim_last": (loss.item() + math.log(norm[1])) / math.log(2)}


def timed_training(warmup_seconds, arch, patch, batch, seconds, warmup, data, norm, **sizes):
    """An untimed run of `warmup_seconds` (its own model), then the timed run, like `flows bench`;
    the untimed run's figures are reported as warmup_run_*."""
    before = train_throughput(arch, patch, batch, warmup_seconds, 0, data, norm, **sizes) if warmup_seconds > 0 else None
    r = train_throughput(arch, patch, batch, seconds, warmup, data, norm, **sizes)
    r["warmup_run_seconds"] = before["seconds"] if before else 0
    r["warmup_run_iterations"] = before["iterations"] if before else 0
    r["warmup_run_patches_per_second"] = before["patches_per_second_including_warmup"] if before else 0
    return r


def receptive_radius(arch, levels, steps, blocks):
    """The Java Mapper's tile margin (Mapper.receptiveRadius): a conditioner of radius r at a scale of
    s pixels per position adds r*s, a squeeze or a conditional split prior adds s, plus one block of
    the coarsest scale, rounded up to a multiple of 2^levels."""
    r, s = 0, 1
    for l in range(levels):
        last = l == levels - 1
        if arch == "glow":
            r += s
            s *= 2
            r += steps * 2 * s
        elif arch == "realnvp":
            net = 2 + 2 * blocks
            r += (steps + 1 if last else steps) * net * s
            if not last:
                r += s
                s *= 2
                r += steps * net * s
        else:
            raise ValueError("IAF maps are computed on whole planes")
        if not last:
            r += s
    m = 1 << levels
    return (r + m + m - 1) // m * m


def exact_map(flow, plane, norm, tile, margin, tile_batch):
    """Exact map of a plane (sides multiples of 2^levels); tile 0 = whole plane in one pass."""
    h, w = plane.shape
    x = torch.from_numpy((plane + 0.5 - norm[0]) / norm[1])
    per_pixel = -math.log(norm[1])
    out = torch.empty(h, w)
    with torch.no_grad():
        if tile == 0:
            _, m = flow(x.view(1, 1, h, w), True)
            out.copy_(m[0] + per_pixel)
            return out
        rows = (h + tile - 1) // tile
        for r in range(rows):
            ty0 = r * tile
            th = min(tile, h - ty0)
            iy0, iy1 = max(0, ty0 - margin), min(h, ty0 + th + margin)
            tiles = []
            for tx0 in range(0, w, tile):
                tw = min(tile, w - tx0)
                ix0, ix1 = max(0, tx0 - margin), min(w, tx0 + tw + margin)
                tiles.append((tx0, tw, ix0, ix1))
            i = 0
            while i < len(tiles):
                j = i + 1
                while j < len(tiles) and j - i < tile_batch and \
                        tiles[j][3] - tiles[j][2] == tiles[i][3] - tiles[i][2]:
                    j += 1
                group = tiles[i:j]
                xb = torch.stack([x[iy0:iy1, t[2]:t[3]] for t in group]).unsqueeze(1)
                _, m = flow(xb, True)
                for k, (tx0, tw, ix0, _) in enumerate(group):
                    out[ty0:ty0 + th, tx0:tx0 + tw] = m[k, ty0 - iy0:ty0 - iy0 + th, tx0 - ix0:tx0 - ix0 + tw] + per_pixel
                i = j
    return out


def map_throughput(arch, size, tile, repeats, data_seed, **sizes):
    plane = synthetic_plane(size, size, data_seed)
    norm = normaliser(plane)
    flow = make_model(arch, 32, 16, plane, norm, **sizes)
    flow.eval()
    d = ft.DEFAULTS[arch]
    levels, steps, blocks = sizes.get("levels") or d[0], sizes.get("steps") or d[1], sizes.get("blocks") or d[3]
    margin = receptive_radius(arch, levels, steps, blocks) if tile else 0
    exact_map(flow, plane[:256, :256].copy(), norm, 0, 0, 4)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        m = exact_map(flow, plane, norm, tile, margin, 4)
    dt = (time.perf_counter() - t0) / repeats
    return {"megapixels_per_second": size * size / 1e6 / dt, "seconds": dt, "width": size, "height": size,
            "tile": tile, "margin": margin, "map_sum_nats": float(m.double().sum())}


def sample_throughput(arch, size, count, batch, data, norm, min_seconds):
    """One untimed round of `count` images, then rounds of `count` until `min_seconds` have passed
    (as `flows bench`)."""
    flow = make_model(arch, 32, 16, data, norm)
    flow.eval()

    def one_round():
        done = 0
        while done < count:
            b = min(batch, count - done)
            x, _ = flow.sample(b, size, size)
            x.numpy()
            done += b
        return done

    with torch.no_grad():
        one_round()
        t0 = time.perf_counter()
        images, rounds = 0, 0
        while True:
            images += one_round()
            rounds += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds:
                break
    return {"images_per_second": images / dt, "images": images, "rounds": rounds, "seconds": dt,
            "width": size, "height": size, "batch": batch}


def matmul_gflops(n=1024, seconds=2.0):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    k = 0
    while time.perf_counter() - t0 < seconds:
        a @ b
        k += 1
    return 2.0 * n ** 3 * k / (time.perf_counter() - t0) / 1e9


def conv_gflops(seconds=2.0):
    """A 3x3 convolution 64 -> 64 channels on a batch of 16 64x64 images: the flows' dominant op."""
    x, w = torch.randn(16, 64, 64, 64), torch.randn(64, 64, 3, 3)
    with torch.no_grad():
        torch.nn.functional.conv2d(x, w, padding=1)
        t0 = time.perf_counter()
        k = 0
        while time.perf_counter() - t0 < seconds:
            torch.nn.functional.conv2d(x, w, padding=1)
            k += 1
    return 2.0 * 16 * 64 * 64 * 64 * 64 * 9 * k / (time.perf_counter() - t0) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads (default: all cores)")
    ap.add_argument("--quick", action="store_true", help="small sizes, about a minute in all")
    ap.add_argument("--seconds", type=float, default=30.0,
                    help="seconds per training scenario (the first fifth is warm-up), as `flows bench --train-seconds`")
    ap.add_argument("--warmup-seconds", type=float, default=10.0,
                    help="seconds of the untimed run before each training scenario's timed run (default 10, "
                         "1 with --quick; 0 = none), as `flows bench --train-warmup`")
    ap.add_argument("--only", default="train,map,sample", help="comma-separated scenarios")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    only = set(args.only.split(","))
    quick = args.quick
    seconds = 3.0 if quick else args.seconds
    warmup_seconds = min(args.warmup_seconds, 1.0) if quick else args.warmup_seconds
    data = synthetic_plane(512, 512, 1)
    norm = normaliser(data)
    result = {"engine": "pytorch-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "interop_threads": torch.get_num_interop_threads(), "quick": quick}
    result["matmul_gflops"] = matmul_gflops(seconds=1.0 if quick else 3.0)
    result["conv3x3_gflops"] = conv_gflops(seconds=1.0 if quick else 3.0)
    if "train" in only:
        train = {}
        for arch in ("realnvp", "glow", "iaf"):
            log("train " + arch)
            train[arch] = timed_training(warmup_seconds, arch, 32, 16, seconds, 3, data, norm)
        log("train glow_large")
        train["glow_large"] = timed_training(warmup_seconds, "glow", 32, 32, seconds, 2, data, norm,
                                             levels=3, steps=16, hidden=128)
        result["train"] = train
    if "map" in only:
        size = 512 if quick else 2048
        for arch in ("glow", "realnvp"):
            log("map %s %dx%d tiled" % (arch, size, size))
            result["map_plane_tiled_" + arch] = map_throughput(arch, size, 256, 1, 3)
        log("map glow %dx%d whole plane" % (size, size))
        result["map_plane_whole_glow"] = map_throughput("glow", size, 0, 1, 3)
    if "sample" in only:
        sample = {}
        count = 4 if quick else 16
        for arch in ("realnvp", "glow", "iaf"):
            log("sample " + arch)
            sample[arch] = sample_throughput(arch, 256, count, 4, data, norm, 1.0 if quick else 5.0)
        result["sample"] = sample
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
