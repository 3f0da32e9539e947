"""Time ``evaluate`` on predictions given as polygons or as boxes only, against the official
pipeline on the same files, in the same run (issue 18).

Usage: python benchmarks/prediction_kinds.py [--images 2000] [--per-image 100] [--repeats 3]
                                             [--official-repeats 1] [--data DIR] [--kinds polygon box rle]

The 2,000-image val-like set of ``benchmarks/evaluate.py`` (synthetic scenes at val image
sizes, seed 0: ~21k GT instances, ~198k predictions) is written once to DIR and converted:
- ``polygon``: each prediction's mask as one polygon (its outline: the top edge of a dozen
  sampled columns left to right, the bottom edge back, 0.1 px precision) and its tight bbox;
- ``box``: each prediction's tight bbox and score, no segmentation;
- ``rle``: the set as it is, with the tight bbox added (the same box path, masks already RLE).
Item 0 has a bbox in each, so pycocotools takes its box path: areas from the boxes, polygons
and boxes drawn at the image's size in ``COCOeval._prepare`` -- every prediction rasterised. Each
side runs in fresh subprocesses: ours ``evaluate(gt.json, preds.json)`` (JSON parsing and drawing
included), the official ``COCO(gt.json)``, ``loadRes``, ``COCOeval(..., 'segm')`` with maxDets
[1, 50, 255], ``evaluate()``, ``accumulate()``. Both write precision / recall arrays, which must
be identical; medians and ratios are printed.
"""

from __future__ import annotations

import argparse
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
from _common import cached, mark_cached, official_pipeline  # noqa: E402

KINDS = ("polygon", "box", "rle")


def worker(kind: str, data: Path, out: Path) -> None:
    gt_path, preds_path = data / "gt.json", data / f"predictions_{kind}.json"
    if kind.startswith("ours:"):
        kind = kind[5:]
        from placeseg_core.evaluation import evaluate

        start = time.perf_counter()
        result = evaluate(gt_path, data / f"predictions_{kind}.json", engine="fast")
        seconds = time.perf_counter() - start
        precision, recall, timings = result.precision, result.recall, result.timings
        name = f"ours_{kind}"
    else:
        E, seconds = official_pipeline(gt_path, preds_path, [1, 50, 255])
        precision, recall, timings = E.eval["precision"], E.eval["recall"], {}
        name = f"official_{kind}"
    np.save(out / f"{name}_precision.npy", precision)
    np.save(out / f"{name}_recall.npy", recall)
    print(json.dumps({"seconds": seconds, "timings": {k: v for k, v in timings.items() if isinstance(v, float)}}))


def _outline(crop: np.ndarray, y0: int, x0: int) -> list[float]:
    """One polygon around a mask crop (see the module's doc)."""
    cols = np.flatnonzero(crop.any(axis=0))
    top = crop.argmax(axis=0)
    bottom = crop.shape[0] - crop[::-1].argmax(axis=0)
    step = max(1, len(cols) // 12)
    sel = list(cols[::step]) + ([cols[-1]] if (len(cols) - 1) % step else [])
    a, b = int(cols[0]), int(cols[-1])
    pts = [(a, top[a])] + [(x + 0.5, top[x]) for x in sel] + [(b + 1, top[b]), (b + 1, bottom[b])]
    pts += [(x + 0.5, bottom[x]) for x in reversed(sel)] + [(a, bottom[a])]
    return [round(float(v), 1) for x, y in pts for v in (x + x0, y + y0)]


def generate(data: Path, n_images: int, per_image: int, kinds: list[str]) -> None:
    from placeseg_core import rle as rle_utils
    from placeseg_core.synth import synth_dataset
    from placeseg_review.model.rle_crops import decode_crop

    shape = {"images": n_images, "per_image": per_image, "seed": 0, "kinds": sorted(kinds)}
    if cached(data, shape):
        return
    data.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    synth = synth_dataset(n_images, seed=0, preds_per_image=per_image)
    (data / "gt.json").write_text(json.dumps(synth.ground_truth))
    preds = synth.predictions
    boxes = rle_utils.bbox([p["segmentation"] for p in preds]).tolist()
    for kind in kinds:
        out = []
        for p, box in zip(preds, boxes, strict=True):
            item = {"image_id": p["image_id"], "category_id": p["category_id"], "bbox": box, "score": p["score"]}
            if kind == "polygon":
                h, w = p["segmentation"]["size"]
                y0, x0, crop = decode_crop(p["segmentation"]["counts"], h, w)  # type: ignore[misc]
                item["segmentation"] = [_outline(crop, y0, x0)]
            elif kind == "rle":
                item["segmentation"] = p["segmentation"]
            out.append(item)
        with open(data / f"predictions_{kind}.json", "w") as handle:
            json.dump(out, handle)
    mark_cached(data, shape)
    print(f"generated {len(synth.ground_truth['annotations']):,} GT instances and {len(preds):,} predictions "
          f"as {', '.join(kinds)} in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(kind: str, data: Path, out: Path, repeats: int) -> list[dict]:
    """Fresh worker processes; each run's wall time (as the worker measured it) and the CPU time
    of the whole worker (helpers included, start-up too): on a shared, loaded machine the CPU
    seconds say how much work each side does when the wall clock cannot."""
    runs = []
    for _ in range(repeats):
        cmd = [sys.executable, __file__, "--worker", kind, "--data", str(data), "--out", str(out)]
        before = _cpu_children()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        run = json.loads(done.stdout.strip().splitlines()[-1])
        run["cpu"] = _cpu_children() - before
        runs.append(run)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--per-image", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--official-repeats", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "placeseg_bench_kinds")
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--worker")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out)
        return
    generate(args.data, args.images, args.per_image, list(KINDS))
    n = len(json.loads((args.data / "gt.json").read_text())["images"])
    size_mb = {k: (args.data / f"predictions_{k}.json").stat().st_size / 1e6 for k in args.kinds}
    print(f"data: {n} images, files {', '.join(f'{k} {v:.0f} MB' for k, v in size_mb.items())}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for kind in args.kinds:  # each kind's two sides back to back: the same load on the machine
            ours = measure(f"ours:{kind}", args.data, out, args.repeats)
            ref = measure(kind, args.data, out, args.official_repeats)
            same = all(np.array_equal(np.load(out / f"ours_{kind}_{n}.npy"), np.load(out / f"official_{kind}_{n}.npy"))
                       for n in ("precision", "recall"))
            t_ours = statistics.median(r["seconds"] for r in ours)
            t_ref = statistics.median(r["seconds"] for r in ref)
            cpu_ours = statistics.median(r["cpu"] for r in ours)
            cpu_ref = statistics.median(r["cpu"] for r in ref)
            steps = ours[0]["timings"]
            detail = ", ".join(f"{k} {steps[k]:.2f}" for k in ("load_submission", "draw_masks", "parts") if k in steps)
            runs = ", ".join(f"{r['seconds']:.2f}" for r in ours)
            print(f"{kind:>8}: ours {t_ours:6.2f} s (runs {runs}; {detail}), "
                  f"pycocotools {t_ref:6.2f} s, ratio {t_ref / t_ours:5.1f}x; CPU ours {cpu_ours:.1f} s, "
                  f"pycocotools {cpu_ref:.1f} s ({cpu_ref / cpu_ours:.1f}x); identical arrays: {same}")
            failed |= not same
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
