"""Time and memory of ``placeseg validate`` against pycocotools' ``json.load`` + ``loadRes``.

Usage: python benchmarks/validate.py [--images 2000] [--per-image 100] [--repeats 5] [--data DIR]

Generates a val-like submission (synthetic scenes, val image sizes, about 100 predictions per
image: 200k for 2,000 images), writes it to a temporary folder (or DIR, reused when it already
holds one of the same shape), then runs each side ``--repeats`` times, alternating, every run in a fresh
subprocess so that its peak memory (VmHWM) is its own. Timed: from the file on disk to the
finished report (ours) or to the finished ``loadRes`` (pycocotools, which checks almost
nothing); the catalogue / ground-truth object is built before the clock starts on both sides.
Our worker keeps what it parsed and ends without freeing it, as ``placeseg validate`` does.
Also times whole processes: ``placeseg validate`` against the pycocotools worker (start-up,
imports, loading, exit). Targets (issue 3): time <= 0.5x, peak memory <= 2x; issue 17, on the
505k file (--per-image 255): <= 0.45x, memory <= pycocotools'.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cached, mark_cached, placeseg_command, status_kb, subprocess_env  # noqa: E402


def _rss_now_kb() -> int:
    return status_kb("VmRSS")


def worker(kind: str, data: Path) -> None:
    """One measured run; prints a JSON line with seconds and memory figures (kB)."""
    preds = data / "predictions.json"
    if kind == "validate":
        from placeseg_core.catalog import load_catalog
        from placeseg_core.validate import validate_submission

        catalog = load_catalog(data / "imgCatIds.json")
        base = _rss_now_kb()
        start = time.perf_counter()
        kept: list = []  # as placeseg validate does: the parsed items are not freed, the process ends
        report = validate_submission(preds, catalog, keep_parsed=kept)
        seconds = time.perf_counter() - start
        extra = {"valid": report.valid, "codes": report.counts, "predictions": report.stats.get("predictions")}
    else:
        from pycocotools.coco import COCO

        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(str(data / "gt.json"))
            base = _rss_now_kb()
            start = time.perf_counter()
            with open(preds) as handle:
                anns = json.load(handle)
            res = gt.loadRes(anns)
            seconds = time.perf_counter() - start
        extra = {"predictions": len(res.anns)}
    peak = status_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "peak_kb": peak, "base_kb": base, **extra}), flush=True)
    if kind == "validate":
        os._exit(0)  # as placeseg validate ends (cli.main.console_main)


def generate(data: Path, n_images: int, per_image: int) -> None:
    from placeseg_core.synth import synth_dataset

    shape = {"images": n_images, "per_image": per_image}
    if cached(data, shape):
        return
    data.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    synth = synth_dataset(n_images, seed=0, preds_per_image=per_image)
    (data / "imgCatIds.json").write_text(json.dumps(synth.catalog.to_json_dict()))
    gt = {**synth.ground_truth, "annotations": []}  # loadRes needs only images and categories
    (data / "gt.json").write_text(json.dumps(gt))
    with open(data / "predictions.json", "w") as handle:
        json.dump(synth.predictions, handle)
    mark_cached(data, shape)
    print(f"generated {len(synth.predictions):,} predictions in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def run_worker(kind: str, data: Path) -> dict:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--data", str(data)],
        check=True, capture_output=True, text=True, env=subprocess_env(),
    )
    wall = time.perf_counter() - start
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall": wall}


def run_cli(data: Path) -> float:
    """Wall time of a whole ``placeseg validate`` process (exit code 0 or 1 both fine)."""
    start = time.perf_counter()
    done = subprocess.run(placeseg_command() + ["validate", "--img-cat-ids", str(data / "imgCatIds.json"),
                                  str(data / "predictions.json")], capture_output=True, env=subprocess_env())
    if done.returncode not in (0, 1):
        sys.exit(f"placeseg validate failed ({done.returncode}): {done.stderr[-500:]!r}")
    return time.perf_counter() - start


def measure(data: Path, repeats: int) -> tuple[list[dict], list[dict], list[float]]:
    """Alternate the sides, so that a busy spell of the machine hits them alike."""
    ours, ref, cli = [], [], []
    run_cli(data)  # untimed: writes the bytecode caches
    for _ in range(repeats):
        ours.append(run_worker("validate", data))
        ref.append(run_worker("pycocotools", data))
        cli.append(run_cli(data))
    return ours, ref, cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--per-image", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None, help="folder to keep (and reuse) the data in")
    parser.add_argument("--worker", choices=("validate", "pycocotools"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data)
        return
    with contextlib.ExitStack() as stack:
        data = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        generate(data, args.images, args.per_image)
        size_mb = (data / "predictions.json").stat().st_size / 1e6
        ours, ref, cli = measure(data, args.repeats)
    t_ours = statistics.median(r["seconds"] for r in ours)
    t_ref = statistics.median(r["seconds"] for r in ref)
    peak_ours = statistics.median(r["peak_kb"] for r in ours) / 1024
    peak_ref = statistics.median(r["peak_kb"] for r in ref) / 1024
    grow_ours = statistics.median(r["peak_kb"] - r["base_kb"] for r in ours) / 1024
    grow_ref = statistics.median(r["peak_kb"] - r["base_kb"] for r in ref) / 1024
    print(f"submission: {ours[0]['predictions']:,} predictions, {args.images} images, {size_mb:.0f} MB; "
          f"valid: {ours[0]['valid']} {ours[0]['codes']}")
    print(f"validate_submission        median {t_ours:6.3f} s  runs {[round(r['seconds'], 3) for r in ours]}")
    print(f"json.load + COCO.loadRes   median {t_ref:6.3f} s  runs {[round(r['seconds'], 3) for r in ref]}")
    print(f"time ratio: {t_ours / t_ref:.2f}x   (target <= 0.5x; issue 17 at 505k: <= 0.45x)")
    t_cli = statistics.median(cli)
    t_ref_wall = statistics.median(r["wall"] for r in ref)
    print(f"whole processes: placeseg validate median {t_cli:6.3f} s {[round(t, 2) for t in cli]}; "
          f"pycocotools' load as a process {t_ref_wall:6.3f} s: {t_cli / t_ref_wall:.2f}x")
    print(f"peak RSS: validate {peak_ours:.0f} MB, pycocotools {peak_ref:.0f} MB, ratio {peak_ours / peak_ref:.2f}x "
          f"(target <= 2x); above each process's start: {grow_ours:.0f} MB vs {grow_ref:.0f} MB "
          f"({grow_ours / grow_ref:.2f}x)")


if __name__ == "__main__":
    main()
