"""Time and peak memory of ``evaluate`` (fast engine) against the official pipeline, end to end.

Usage: python benchmarks/evaluate.py [--images 2000] [--per-image 100] [--repeats 3]
                                     [--official-repeats 1] [--data DIR] [--no-official]

Generates a val-like set (synthetic scenes at val image sizes: ~22k GT instances and, at 100
per image, ~200k predictions for 2,000 images), writes gt.json and predictions.json (to DIR,
reused when it already holds a set of the same shape), then runs each side in fresh
subprocesses:
- ours: ``evaluate(gt.json, predictions.json)`` -- JSON parsing included;
- official: ``COCO(gt.json)``, ``loadRes(predictions.json)``, ``COCOeval(..., 'segm')`` with
  maxDets [1, 50, 255], ``evaluate()``, ``accumulate()``, as the challenge runs it.
Both write precision / recall arrays, which must be identical. Times are medians (the machine is
noisy). Peak memory is VmHWM of the measuring process (not ru_maxrss, which Linux carries over
from the parent across exec); the fast engine's helper processes (one parses the tail of the
file, one evaluates half of the categories) are reported separately, the larger of the two
(its RSS counts the pages it shares with the main process), and, from one more untimed run,
the peak of all of them together, sampled as PSS (shared pages counted once).
Targets (issue 4): >= 14x faster, peak <= 400 MB; 255 per image (--per-image 255) in <= 8 s.

Whole processes (issue 17), as a user sees them: ``placeseg evaluate --json`` (start-up,
parsing, scoring, printing, writing the JSON) against the official pipeline's worker process
(start-up, imports, the same pipeline), both with bytecode caches in use; its peak with all its
helpers (PSS). Target: >= 15x, <= 400 MB.

``--coco-crowd [DIR]`` (issue 8) times a set with crowd regions and polygons instead: the 100 COCO
val2014 images of ../shared/coco-val2014-100 (830 polygons, 9 crowd regions, pycocotools' fake
segm results) replicated ``--copies`` times under new image / annotation ids, maxDets
[1, 10, 100]; fast engine and pycocotools, each in fresh subprocesses, arrays compared, both
times and the ratio printed. Target: exact, and at least as fast as pycocotools.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    cached,
    mark_cached,
    official_pipeline,
    placeseg_command,
    status_kb,
    subprocess_env,
)


def _max_dets(data: Path) -> list[int]:
    marker = data / "shape.json"
    shape = json.loads(marker.read_text()) if marker.exists() else {}
    return list(shape.get("max_dets", [1, 50, 255]))


def worker(kind: str, data: Path, out: Path, workers: int | None) -> None:
    gt_path, preds_path = data / "gt.json", data / "predictions.json"
    max_dets = _max_dets(data)
    if kind == "fast":
        from placeseg_core.evaluation import EvalParams, evaluate

        start = time.perf_counter()
        result = evaluate(gt_path, preds_path, engine="fast", workers=workers,
                          params=EvalParams(max_dets=tuple(max_dets)))
        seconds = time.perf_counter() - start
        precision, recall, mean_ap = result.precision, result.recall, result.mean_ap
    else:
        E, seconds = official_pipeline(gt_path, preds_path, max_dets)
        precision, recall = E.eval["precision"], E.eval["recall"]
        p = precision[:, :, :, 0, 2]
        mean_ap = float(np.mean(p[p > -1]))
    np.save(out / f"{kind}_precision.npy", precision)
    np.save(out / f"{kind}_recall.npy", recall)
    helper_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kb": status_kb("VmHWM"), "helper_kb": helper_kb,
                      "mean_ap": mean_ap}))


def generate(data: Path, n_images: int, per_image: int) -> None:
    from placeseg_core.synth import synth_dataset

    shape = {"images": n_images, "per_image": per_image, "seed": 0}
    if cached(data, shape):
        return
    data.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    synth = synth_dataset(n_images, seed=0, preds_per_image=per_image)
    (data / "gt.json").write_text(json.dumps(synth.ground_truth))
    with open(data / "predictions.json", "w") as handle:
        json.dump(synth.predictions, handle)
    mark_cached(data, shape)
    print(f"generated {len(synth.ground_truth['annotations']):,} GT instances and "
          f"{len(synth.predictions):,} predictions in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def generate_coco_crowd(data: Path, folder: Path, copies: int) -> tuple[int, int, int]:
    """The COCO 100-image set ``copies`` times (new ids), for a crowd-region timing."""
    gt = json.loads((folder / "instances_val2014_100.json").read_text())
    items = json.loads((folder / "instances_val2014_fakesegm100_results.json").read_text())
    step = 10 ** 7  # above every COCO image and annotation id
    images, anns, preds = [], [], []
    for k in range(copies):
        images += [dict(im, id=im["id"] + k * step) for im in gt["images"]]
        anns += [dict(a, id=a["id"] + k * step, image_id=a["image_id"] + k * step) for a in gt["annotations"]]
        preds += [dict(it, image_id=it["image_id"] + k * step) for it in items]
    data.mkdir(parents=True, exist_ok=True)
    (data / "gt.json").write_text(json.dumps({**gt, "images": images, "annotations": anns}))
    (data / "predictions.json").write_text(json.dumps(preds))
    mark_cached(data, {"coco_copies": copies, "max_dets": [1, 10, 100]})
    return len(images), len(anns), sum(a["iscrowd"] for a in anns)


def coco_crowd(args: argparse.Namespace, data: Path, out: Path) -> None:
    folder = args.coco_crowd
    if not (folder / "instances_val2014_100.json").is_file():
        sys.exit(f"{folder}: no instances_val2014_100.json (the COCO reference files of ../shared)")
    n_img, n_gt, n_crowd = generate_coco_crowd(data, folder, args.copies)
    n_preds = len(json.loads((data / "predictions.json").read_text()))
    print(f"data: COCO val2014 x{args.copies}: {n_img} images, {n_gt} GT ({n_crowd} crowd regions, "
          f"polygons), {n_preds} predictions, maxDets [1, 10, 100]")
    ours = measure("fast", data, out, args.repeats, args.workers)
    ref = measure("official", data, out, args.official_repeats, None)
    print(_line("fast engine (parse + evaluate)", ours))
    print(_line("official pipeline (pycocotools)", ref))
    same = all(np.array_equal(np.load(out / f"fast_{n}.npy"), np.load(out / f"official_{n}.npy"))
               for n in ("precision", "recall"))
    t_ours = statistics.median(r["seconds"] for r in ours)
    t_ref = statistics.median(r["seconds"] for r in ref)
    print(f"mean AP: fast {ours[0]['mean_ap']!r}, official {ref[0]['mean_ap']!r}; "
          f"precision and recall arrays identical: {same}")
    print(f"crowd set: fast {t_ours:.3f} s, pycocotools {t_ref:.3f} s, ratio {t_ref / t_ours:.1f}x "
          "(target: exact and >= 1x)")
    if not same or t_ours > t_ref:
        sys.exit(1)


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages count once across the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            kids = [int(k) for k in handle.read().split()]
    except OSError:
        kids = []
    return _pss_kb(pid) + sum(_pss_kb(k) for k in kids)


def measure(kind: str, data: Path, out: Path, repeats: int, workers: int | None) -> list[dict]:
    """Timed runs in fresh worker processes, nothing else running; each run's ``wall`` is the
    whole process (start-up and imports included)."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(_worker_cmd(kind, data, out, workers), check=True, capture_output=True, text=True,
                              env=subprocess_env())
        wall = time.perf_counter() - start
        runs.append({**json.loads(done.stdout.strip().splitlines()[-1]), "wall": wall})
    return runs


def _cli_cmd(data: Path, out: Path) -> list[str]:
    """``placeseg evaluate`` as a user runs it: the summary on stdout, the numbers as JSON."""
    return placeseg_command() + ["evaluate", "--gt", str(data / "gt.json"), "--preds", str(data / "predictions.json"),
                   "--max-dets", *map(str, _max_dets(data)), "--json", str(out / "cli.json")]


def measure_cli(data: Path, out: Path, repeats: int) -> list[float]:
    """Wall times of whole ``placeseg evaluate`` processes (one untimed run first: it writes
    the bytecode caches)."""
    subprocess.run(_cli_cmd(data, out), check=True, capture_output=True, env=subprocess_env())
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(_cli_cmd(data, out), check=True, capture_output=True, env=subprocess_env())
        walls.append(time.perf_counter() - start)
    return walls


def _worker_cmd(kind: str, data: Path, out: Path, workers: int | None) -> list[str]:
    cmd = [sys.executable, __file__, "--worker", kind, "--data", str(data), "--out", str(out)]
    return cmd + (["--workers", str(workers)] if workers is not None else [])


def footprint_mb(cmd: list[str]) -> float:
    """Peak memory of a process and its helpers together (PSS, shared pages counted once),
    sampled every 20 ms in one more run. Not timed: reading /proc/PID/smaps_rollup walks the
    process's page tables and slows it down."""
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=subprocess_env()) as proc:
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_pss_kb(proc.pid))
            time.sleep(0.02)
        _, stderr = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{cmd[:3]} failed ({proc.returncode}):\n{stderr}")
    return peak / 1024


def _line(label: str, runs: list[dict]) -> str:
    t = statistics.median(r["seconds"] for r in runs)
    peak = statistics.median(r["peak_kb"] for r in runs) / 1024
    return (f"{label:<34} median {t:7.3f} s  peak {peak:6.0f} MB  "
            f"runs {[round(r['seconds'], 2) for r in runs]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--per-image", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--official-repeats", type=int, default=1)
    parser.add_argument("--no-official", action="store_true", help="time only the fast engine")
    parser.add_argument("--workers", type=int, default=None, help="processes for the fast engine")
    parser.add_argument("--data", type=Path, default=None, help="folder to keep (and reuse) the data in")
    parser.add_argument("--coco-crowd", type=Path, nargs="?", metavar="DIR",
                        const=Path(__file__).resolve().parents[2] / "shared" / "coco-val2014-100",
                        help="time the COCO set with crowd regions instead (default ../shared/coco-val2014-100)")
    parser.add_argument("--copies", type=int, default=20, help="with --coco-crowd: copies of the 100 images")
    parser.add_argument("--worker", choices=("fast", "official"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out, args.workers)
        return
    with contextlib.ExitStack() as stack:
        data = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        out = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.coco_crowd is not None:
            coco_crowd(args, data, out)
            return
        generate(data, args.images, args.per_image)
        n_preds = (data / "predictions.json").stat().st_size / 1e6
        ours = measure("fast", data, out, args.repeats, args.workers)
        cli = measure_cli(data, out, args.repeats)
        print(f"data: {args.images} images, {args.per_image} predictions per image, "
              f"predictions.json {n_preds:.0f} MB")
        print(_line("fast engine (parse + evaluate)", ours))
        helper = statistics.median(r["helper_kb"] for r in ours) / 1024
        together = footprint_mb(_worker_cmd("fast", data, out, args.workers))
        print(f"{'':<34} largest helper process peak {helper:.0f} MB (shares pages with the main process);"
              f" all processes together (PSS) {together:.0f} MB")
        t_cli = statistics.median(cli)
        cli_mb = footprint_mb(_cli_cmd(data, out))
        print(f"{'placeseg evaluate (whole process)':<34} median {t_cli:7.3f} s  all processes together (PSS) "
              f"{cli_mb:4.0f} MB  runs {[round(t, 2) for t in cli]}")
        t_ours = statistics.median(r["seconds"] for r in ours)
        if args.no_official:
            return
        ref = measure("official", data, out, args.official_repeats, None)
        print(_line("official pipeline (pycocotools)", ref))
        t_ref_wall = statistics.median(r["wall"] for r in ref)
        print(f"{'official pipeline (whole process)':<34} median {t_ref_wall:7.3f} s  "
              f"runs {[round(r['wall'], 2) for r in ref]}")
        same = all(np.array_equal(np.load(out / f"fast_{n}.npy"), np.load(out / f"official_{n}.npy"))
                   for n in ("precision", "recall"))
        t_ref = statistics.median(r["seconds"] for r in ref)
        print(f"mean AP: fast {ours[0]['mean_ap']!r}, official {ref[0]['mean_ap']!r}; "
              f"precision and recall arrays identical: {same}")
        cli_map = json.loads((out / "cli.json").read_text()).get("mean_ap")
        print(f"placeseg evaluate's JSON mean AP {cli_map!r}: {'same' if cli_map == ref[0]['mean_ap'] else 'DIFFERENT'}")
        print(f"speed-up in process: {t_ref / t_ours:.1f}x (parse + evaluate); as a user sees it, whole processes: "
              f"{t_ref_wall / t_cli:.1f}x (target >= 15x, <= 400 MB)")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
