"""Time of ``placeseg compare`` against one ``placeseg evaluate``, in the same run.

Usage: python benchmarks/compare.py [--images 2000] [--per-image 100] [--repeats 3]
                                    [--bootstrap 1000] [--data DIR]

Data: the val-like synthetic set of benchmarks/evaluate.py (``synth_dataset(images, seed=0,
preds_per_image)``: ~21k GT and ~198k predictions for 2,000 images) as file A, and a second
model on the same scenes as file B (other prediction seeds, a model that finds more small
objects and makes fewer class errors), both padded to ``--per-image`` predictions per image.
Generation takes about a minute; pass --data to keep the files.

Each measurement runs the command line (``placeseg_core.cli.main.main``) in a fresh
subprocess and times the call there (JSON parsing, evaluation, printing, ``--json`` writing
included; interpreter start-up excluded), in rounds of: ``evaluate --preds A``, ``compare
--preds A B``, ``compare --preds A B --bootstrap N``. Reported: medians, ``compare / evaluate``
(target <= 2.2) and what ``--bootstrap N`` adds over ``compare`` (target <= 30 s for 1,000
resamples), per round as well (the runs of a round share the machine's load of the moment), and
the CPU time of each command with its helper processes (a loaded machine stretches wall time,
much less CPU time).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate import generate  # noqa: E402

KINDS = ("evaluate", "compare", "bootstrap")


def generate_b(data: Path, n_images: int, per_image: int) -> None:
    """Predictions of a second model on the same scenes as ``generate``'s file."""
    from placeseg_core.synth import PredictionStyle, make_predictions, synth_scene

    shape = {"images": n_images, "per_image": per_image, "seed": 0, "model": "b"}
    marker = data / "shape_b.json"
    if marker.exists() and json.loads(marker.read_text()) == shape and (data / "predictions_b.json").exists():
        return
    start = time.perf_counter()
    style = PredictionStyle(detect_small=0.6, wrong_class=0.08, loose_fraction=0.3)
    items = []
    for index in range(n_images):
        scene = synth_scene(0, index)
        items.extend(make_predictions(np.random.default_rng([0, index, 2]), scene, style, per_image))
    with open(data / "predictions_b.json", "w") as handle:
        json.dump(items, handle)
    marker.write_text(json.dumps(shape))
    print(f"generated {len(items):,} predictions for B in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def _argv(kind: str, data: Path, out: Path, resamples: int) -> list[str]:
    gt, a, b = str(data / "gt.json"), str(data / "predictions.json"), str(data / "predictions_b.json")
    if kind == "evaluate":
        return ["evaluate", "--gt", gt, "--preds", a, "--json", str(out / "evaluate.json")]
    argv = ["compare", "--gt", gt, "--preds", a, b, "--json", str(out / f"{kind}.json")]
    return argv + (["--bootstrap", str(resamples), "--seed", "0"] if kind == "bootstrap" else [])


def worker(kind: str, data: Path, out: Path, resamples: int) -> None:
    from placeseg_core.cli.main import main

    argv = _argv(kind, data, out, resamples)
    sink = io.StringIO()
    cpu_start = _cpu_seconds()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        code = main(argv)
    seconds = time.perf_counter() - start
    deadline = time.monotonic() + 5  # reap the helper processes, so that their CPU time counts
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    cpu = _cpu_seconds() - cpu_start
    if code != 0:
        sys.exit(f"{kind}: exit {code}")
    doc = json.loads((out / f"{kind}.json").read_text())
    mean = doc["mean_ap"] if kind == "evaluate" else [doc["a"]["mean_ap"], doc["b"]["mean_ap"]]
    ci = doc["bootstrap"]["ci95"] if kind == "bootstrap" else None
    print(json.dumps({"seconds": seconds, "cpu": cpu, "mean_ap": mean, "ci95": ci}))


def _cpu_seconds() -> float:
    """CPU time of this process and its (finished, reaped) helper processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(kind: str, data: Path, out: Path, resamples: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--data", str(data), "--out", str(out),
           "--bootstrap", str(resamples)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--per-image", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples of the bootstrap run")
    parser.add_argument("--data", type=Path, default=None, help="folder to keep (and reuse) the data in")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out, args.bootstrap)
        return
    with contextlib.ExitStack() as stack:
        data = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        out = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        generate(data, args.images, args.per_image)
        generate_b(data, args.images, args.per_image)
        sizes = [(data / n).stat().st_size / 1e6 for n in ("predictions.json", "predictions_b.json")]
        print(f"data: {args.images} images, {args.per_image} predictions per image, "
              f"A {sizes[0]:.0f} MB, B {sizes[1]:.0f} MB")
        runs: dict[str, list[dict]] = {k: [] for k in KINDS}
        for _ in range(args.repeats):  # rounds: each kind sees the same load on the machine
            for kind in KINDS:
                runs[kind].append(measure(kind, data, out, args.bootstrap))
        med = {k: statistics.median(r["seconds"] for r in runs[k]) for k in KINDS}
        cpu = {k: statistics.median(r["cpu"] for r in runs[k]) for k in KINDS}
        for kind in KINDS:
            label = f"compare --bootstrap {args.bootstrap}" if kind == "bootstrap" else kind
            print(f"{label:<28} median {med[kind]:7.3f} s  runs {[round(r['seconds'], 2) for r in runs[kind]]}"
                  f"  CPU (all processes) median {cpu[kind]:6.2f} s")
        print(f"mean AP: A {runs['compare'][0]['mean_ap'][0]!r}, B {runs['compare'][0]['mean_ap'][1]!r}; "
              f"evaluate says {runs['evaluate'][0]['mean_ap']!r}")
        print(f"bootstrap ci95: {runs['bootstrap'][0]['ci95']}")
        ratio = med["compare"] / med["evaluate"]
        added = med["bootstrap"] - med["compare"]
        # per round too: the three runs of a round share the machine's load of the moment
        ratios = [c["seconds"] / e["seconds"] for e, c in zip(runs["evaluate"], runs["compare"], strict=True)]
        adds = [b["seconds"] - c["seconds"] for c, b in zip(runs["compare"], runs["bootstrap"], strict=True)]
        print(f"compare / evaluate: {ratio:.2f} (medians; target <= 2.2), per round {[round(r, 2) for r in ratios]}")
        print(f"--bootstrap {args.bootstrap} adds {added:.2f} s (medians; target <= 30 s), "
              f"per round {[round(a, 1) for a in adds]}; CPU time it adds {cpu['bootstrap'] - cpu['compare']:.2f} s "
              "(shared by 2 processes: what a quiet 2-core machine needs is about half)")


if __name__ == "__main__":
    main()
