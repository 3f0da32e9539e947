"""Image-switch time of the review window, and its start-up time to the first image.

    python benchmarks/gui_switch.py [--images 40] [--preds 100] [--keep DIR]

Generates validation-size images (the challenge's size mix, mostly 683×512) with their
annotation PNGs and 100 predictions each, in the challenge layout. Then, in an offscreen
window with every prediction shown (score threshold 0):

* **browsing**: "next" pressed 250 ms after the previous image appeared (the neighbours are
  being prefetched meanwhile, as when a person looks at each image);
* **rapid**: "next" pressed as soon as the previous image is drawn (prefetch has little time);
* **cold**: random jumps with the cache emptied first (decoding included, worst case).

A switch is timed from the request to the end of a synchronous repaint of the canvas (photo,
ground truth, 100 predictions and names drawn). Start-up is timed in a fresh process, from
launch to the first image on screen. Targets (issue 5): median ≤ 50 ms, 95th ≤ 120 ms;
start-up ≤ 1.5 s; issue 17: cold median ≤ 50 ms, 95th ≤ 100 ms (60 cold switches by default:
the machine is noisy and 20 gave medians 10 ms apart from one run to the next).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from placeseg_core.catalog import Catalog, Category  # noqa: E402
from placeseg_core.categories import CATEGORY_NAMES  # noqa: E402
from placeseg_core.synth import make_predictions, render_photo, synth_scene  # noqa: E402


def write_dataset(root: Path, n_images: int, preds_per_image: int) -> Path:
    img_dir = root / "images" / "validation"
    ann_dir = root / "annotations_instance" / "validation"
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    records, predictions = [], []
    for index in range(n_images):
        scene = synth_scene(7, index)
        photo = render_photo(scene, np.random.default_rng([7, index, 2]))
        planes = np.zeros((*scene.green.shape, 3), np.uint8)
        planes[..., 0], planes[..., 1] = scene.red, scene.green
        stem = Path(scene.record.file_name).stem
        buf = io.BytesIO()
        Image.fromarray(photo).save(buf, format="JPEG", quality=90)
        (img_dir / f"{stem}.jpg").write_bytes(buf.getvalue())
        Image.fromarray(planes).save(ann_dir / f"{stem}.png")
        predictions += make_predictions(np.random.default_rng([7, index, 1]), scene, total=preds_per_image)
        records.append(scene.record)
    catalog = Catalog(records, [Category(i + 1, n) for i, n in enumerate(CATEGORY_NAMES)])
    (root / "imgCatIds.json").write_text(json.dumps(catalog.to_json_dict()))
    pred_path = root / "predictions.json"
    pred_path.write_text(json.dumps(predictions))
    return pred_path


def startup_time(root: Path, runs: int = 3) -> list[float]:
    """Seconds from launching ``placeseg-review DATA`` to its first image on screen."""
    times = []
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "placeseg_review.main", str(root), "--quit-after-first-image",
                 "--settings", str(Path(tmp) / "s.ini")],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            line = proc.stdout.readline()
            elapsed = time.perf_counter() - t0
            proc.wait(timeout=60)
            if "first image" not in line:
                raise SystemExit(f"start-up run failed: {line!r}")
            times.append(elapsed)
    return times


def stats(name: str, ms: list[float]) -> str:
    a = np.array(ms)
    return (f"{name:<9} n={len(a):3d}  median {np.median(a):6.1f} ms   p95 {np.percentile(a, 95):6.1f} ms   "
            f"max {a.max():6.1f} ms")


def switch_times(root: Path, pred_path: Path, n_switches: int, n_cold: int = 60) -> dict[str, list[float]]:
    from PySide6.QtWidgets import QApplication

    from placeseg_review.services.settings import Settings
    from placeseg_review.services.workers import share_gil_with_gui_thread
    from placeseg_review.window.main_window import MainWindow

    share_gil_with_gui_thread()  # as placeseg-review's main() does
    app = QApplication.instance() or QApplication([])
    tmp = tempfile.TemporaryDirectory()
    win = MainWindow(Settings(Path(tmp.name) / "s.ini"))
    win.resize(1600, 1000)
    win.show()
    win.session.update_options(score_threshold=0.0, top_k=0)
    try:
        return _measure(app, win, root, pred_path, n_switches, n_cold)
    finally:
        win.close()  # stops every worker
        tmp.cleanup()


def _measure(app, win, root: Path, pred_path: Path, n_switches: int, n_cold: int) -> dict[str, list[float]]:
    ctrl, session = win.controller, win.session

    def wait(cond, timeout=60.0):
        end = time.perf_counter() + timeout
        while not cond():
            app.processEvents()
            if time.perf_counter() > end:
                raise SystemExit("timed out")
            time.sleep(0.0005)

    ctrl.open_dataset(root, predictions=pred_path)
    wait(lambda: session.image is not None and not ctrl.busy and "predictions" not in ctrl.jobs)
    wait(lambda: not ctrl.jobs)  # background scan done: measure switches alone
    ids = [e.id for e in session.dataset.entries]
    assert len(session.image.preds) == len(session.image.preds.indices)

    def timed_switch(target: int) -> float:
        t0 = time.perf_counter()
        ctrl.go_to(target)
        wait(lambda: session.image is not None and session.image.entry.id == target)
        win.canvas.viewport().repaint()
        return (time.perf_counter() - t0) * 1000

    def idle(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)

    results: dict[str, list[float]] = {"browsing": [], "rapid": [], "cold": []}
    drawn = []
    for mode in ("browsing", "rapid"):
        ctrl.go_to(ids[0])
        wait(lambda: session.image.entry.id == ids[0])
        for k in range(1, min(n_switches, len(ids) - 1) + 1):
            if mode == "browsing":
                idle(0.25)
            results[mode].append(timed_switch(ids[k]))
            drawn.append(len(win.canvas.pred_layer.shown) == len(session.image.preds) >= 90)
    rng = random.Random(1)
    for _ in range(n_cold):
        ctrl.cache.clear()
        idle(0.05)
        results["cold"].append(timed_switch(rng.choice(ids)))
    if not all(drawn):
        raise SystemExit("not every prediction was drawn")
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=40)
    p.add_argument("--preds", type=int, default=100)
    p.add_argument("--keep", metavar="DIR", help="write the data set here and keep it")
    p.add_argument("--startup-runs", type=int, default=3)
    p.add_argument("--cold", type=int, default=60, help="cold switches (random jumps, cache emptied; default 60)")
    args = p.parse_args()
    holder = None if args.keep else tempfile.TemporaryDirectory()
    root = Path(args.keep or holder.name) / "bench"
    t0 = time.perf_counter()
    pred_path = write_dataset(root, args.images, args.preds)
    print(f"generated {args.images} val-size images with {args.preds} predictions each in {time.perf_counter() - t0:.1f} s")
    start = startup_time(root, args.startup_runs)
    print(f"start-up to first image: median {np.median(start):.2f} s (runs: {', '.join(f'{s:.2f}' for s in start)})")
    res = switch_times(root, pred_path, args.images - 1, args.cold)
    print("image switch (photo + ground truth + all predictions drawn, repaint included):")
    for name, ms in res.items():
        print("  " + stats(name, ms))
    if holder is not None:
        holder.cleanup()


if __name__ == "__main__":
    main()
