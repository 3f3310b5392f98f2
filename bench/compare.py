#!/usr/bin/python3
"""Side by side: `flows bench` against the plain-PyTorch baseline (`bench_torch.py`), as ratios.

Runs the same scenario on both sides one after the other, alternating which side goes first from
round to round (so a machine that speeds up or slows down over the run does not favour one side),
and prints, per scenario, every round's figures and the ratio Java / PyTorch of their means:

  train   patches/s, RealNVP, Glow, IAF at the default sizes and the large Glow (both sides run
          each scenario untimed for --warmup seconds first, then time the steady state after the
          first fifth of the timed run)
  map     megapixels/s of the exact map of a 2048x2048 16-bit plane, Glow and RealNVP; the
          PyTorch figure is the faster of its two ways (tiles with the Java margin, or the whole
          plane in one pass, Glow only)
  sample  images/s drawing 256x256 images, per architecture

Prints a table on stderr and one JSON line on stdout. Needs a built `target/flows.jar` and the
baseline's Python (Debian: `apt-get install python3-torch libopenblas0-pthread`, see
bench/README.md).

Run: /usr/bin/python3 bench/compare.py --threads 2 [--rounds 2] [--seconds 30] [--warmup 10] [--only train,map,sample]
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCENARIOS = ("train", "map", "sample")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def last_json_line(cmd, what):
    """Runs cmd; returns the JSON object on its last stdout line, or exits naming the command."""
    log("  " + " ".join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        sys.exit(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        sys.exit(f"{what} printed no JSON on its last line: {' '.join(cmd)}\n{lines[-1][:500]}")


def java_figures(scenario, out):
    """{name: figure} from a `flows bench --json` object."""
    if scenario == "train":
        return {k: v["patches_per_second"] for k, v in out["train"].items()}
    if scenario == "map":
        return {k: v["megapixels_per_second"] for k, v in out["map_plane"].items()}
    return {k: v["images_per_second"] for k, v in out["sample"].items()}


def torch_figures(scenario, out):
    """{name: figure} from a `bench_torch.py` object (the map: the faster of tiles and whole plane)."""
    if scenario == "train":
        return {k: v["patches_per_second"] for k, v in out["train"].items()}
    if scenario == "map":
        figures = {}
        for key, v in out.items():
            if key.startswith("map_plane_"):
                arch = key.rsplit("_", 1)[1]
                figures[arch] = max(figures.get(arch, 0.0), v["megapixels_per_second"])
        return figures
    return {k: v["images_per_second"] for k, v in out["sample"].items()}


def mean(xs):
    return sum(xs) / len(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads on both sides (default: all cores)")
    ap.add_argument("--rounds", type=int, default=2, help="pairs of runs per scenario (default 2)")
    ap.add_argument("--seconds", type=float, default=30.0, help="seconds per training scenario (default 30)")
    ap.add_argument("--warmup", type=float, default=10.0,
                    help="seconds of the untimed run before each training scenario, on both sides (default 10)")
    ap.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios: train, map, sample")
    ap.add_argument("--jar", default=os.path.join(ROOT, "target", "flows.jar"), help="the flows jar to run")
    ap.add_argument("--java", default="java", help="the Java launcher")
    ap.add_argument("--python", default="/usr/bin/python3", help="the Python that has PyTorch")
    args = ap.parse_args()
    scenarios = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            sys.exit(f"Unknown scenario '{s}': use {', '.join(SCENARIOS)}")
    if args.threads < 1 or args.rounds < 1 or args.seconds <= 0 or not args.warmup >= 0:
        sys.exit("--threads and --rounds must be >= 1, --seconds > 0 and --warmup >= 0")
    if not os.path.isfile(args.jar):
        sys.exit(f"No {args.jar}: build it first with  mvn -q -B package -DskipTests")

    result = {"threads": args.threads, "rounds": args.rounds, "train_seconds": args.seconds,
              "train_warmup_seconds": args.warmup, "scenarios": {}}
    for scenario in scenarios:
        java_cmd = [args.java, "-jar", args.jar, "bench", "--json", "--only", scenario,
                    "--threads", str(args.threads), "--train-seconds", str(args.seconds),
                    "--train-warmup", str(args.warmup)]
        torch_cmd = [args.python, os.path.join(HERE, "bench_torch.py"), "--only", scenario,
                     "--threads", str(args.threads), "--seconds", str(args.seconds),
                     "--warmup-seconds", str(args.warmup)]
        rounds = []
        for r in range(args.rounds):
            log(f"{scenario}, round {r + 1} of {args.rounds}")
            sides = [("java", java_cmd), ("torch", torch_cmd)]
            if r % 2 == 1:
                sides.reverse()
            figures = {}
            for side, cmd in sides:
                out = last_json_line(cmd, "flows bench" if side == "java" else "bench_torch.py")
                figures[side] = java_figures(scenario, out) if side == "java" else torch_figures(scenario, out)
            figures["first"] = sides[0][0]
            rounds.append(figures)
        names = [k for k in rounds[0]["java"] if all(k in f["torch"] for f in rounds)]
        table = {}
        for name in names:
            j = [f["java"][name] for f in rounds]
            t = [f["torch"][name] for f in rounds]
            table[name] = {"java": j, "torch": t, "ratio_of_means": mean(j) / mean(t),
                           "ratio_per_round": [a / b for a, b in zip(j, t)]}
        result["scenarios"][scenario] = {"unit": {"train": "patches/s", "map": "megapixels/s",
                                                  "sample": "images/s"}[scenario],
                                         "first_per_round": [f["first"] for f in rounds], "figures": table}

    log("")
    log(f"{'scenario':24s} {'Java':>22s} {'PyTorch':>22s} {'ratio':>6s}")
    for scenario, s in result["scenarios"].items():
        for name, f in s["figures"].items():
            j = ", ".join(f"{x:.3g}" for x in f["java"])
            t = ", ".join(f"{x:.3g}" for x in f["torch"])
            log(f"{scenario + ' ' + name:24s} {j:>22s} {t:>22s} {f['ratio_of_means']:6.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
