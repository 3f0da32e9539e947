"""The test set's real ceiling, end to end: 3,352 test images, 255 predictions each (855k).

    python benchmarks/test_split.py [--images 3352] [--per-image 255] [--data DIR] [--repeats 3]
                                    [--skip-window]

Writes a data root as a participant has it for the test split -- ``images/testing/*.jpg`` and
``imgCatIds.json``, no annotations -- and a submission of ``--per-image`` box-shaped RLE masks
per image (pycocotools' ``frPyObjects`` on random boxes: real RLE strings, written fast), cached
in DIR (default: a folder in the temporary directory keyed by the parameters). Then:

* **CLI**: ``placeseg validate --split test --img-cat-ids ... predictions.json`` as whole
  processes: wall time and peak memory (the child's maxrss, from ``wait4``), median of
  ``--repeats``; it must say the file is valid;
* **window**: ``placeseg-review``'s main window (offscreen) opens the data root with the
  submission, as ``placeseg-review ROOT PREDICTIONS`` does; the validation runs by itself when
  the predictions arrive. Measured with a 10 ms QTimer on the GUI thread: the longest event-loop
  stall (target <= 100 ms) from the click to the validation report on screen, the time to the
  first image, to the predictions and to the report, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cached, mark_cached, placeseg_command, status_kb, subprocess_env  # noqa: E402

FIRST_TEST_ID = 22210  # the kit's numbering: train 0..20209, val 20210..22209, test from 22210
SIZES = ((683, 512), (256, 256), (768, 512), (512, 683), (640, 480), (512, 512))  # (width, height)


def data_dir(base: Path | None, n_images: int, per_image: int) -> Path:
    return (base or Path(tempfile.gettempdir()) / "placeseg-bench") / f"test-split-n{n_images}-ppi{per_image}"


def generate(root: Path, n_images: int, per_image: int) -> None:
    """The data root and its submission, once (a marker file says they are complete)."""
    shape = {"images": n_images, "per_image": per_image, "seed": 0}
    if cached(root, shape, "complete.json"):
        return
    from PIL import Image
    from pycocotools import mask as mask_utils

    from placeseg_core.atomic import write_json_atomic
    from placeseg_core.categories import CATEGORY_NAMES

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    photos = root / "images" / "testing"
    photos.mkdir(parents=True, exist_ok=True)
    jpeg: dict[tuple[int, int], bytes] = {}
    images, items = [], []
    for k in range(n_images):
        width, height = SIZES[int(rng.integers(len(SIZES)))]
        number = k + 1 + k // 7  # the kit's test file numbers have gaps
        name = f"ADE_test_{number:08d}.jpg"
        images.append({"id": FIRST_TEST_ID + k, "file_name": name, "width": width, "height": height,
                       "cat_ids": []})
        if (width, height) not in jpeg:
            buf = io.BytesIO()
            pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(buf, format="JPEG", quality=80)
            jpeg[(width, height)] = buf.getvalue()
        (photos / name).write_bytes(jpeg[(width, height)])
        x, y = rng.uniform(0, width * 0.8, per_image), rng.uniform(0, height * 0.8, per_image)
        w = rng.uniform(4, width * 0.5, per_image)
        h = rng.uniform(4, height * 0.5, per_image)
        boxes = np.stack([x, y, np.minimum(w, width - x), np.minimum(h, height - y)], axis=1)
        rles = mask_utils.frPyObjects(boxes, height, width)
        cats = rng.integers(1, len(CATEGORY_NAMES) + 1, per_image).tolist()
        scores = np.round(rng.uniform(0.01, 1.0, per_image), 4).tolist()
        for rle, cat, score in zip(rles, cats, scores, strict=True):
            items.append({"image_id": FIRST_TEST_ID + k, "category_id": cat,
                          "segmentation": {"size": [height, width], "counts": rle["counts"].decode("ascii")},
                          "score": score})
    catalog = {"images": images,
               "categories": [{"id": i + 1, "name": n} for i, n in enumerate(CATEGORY_NAMES)]}
    write_json_atomic(root / "imgCatIds.json", catalog)
    with open(root / "predictions.json.tmp", "w") as handle:
        json.dump(items, handle)
    os.replace(root / "predictions.json.tmp", root / "predictions.json")
    mark_cached(root, shape, "complete.json")
    print(f"generated {n_images} test images and {len(items):,} predictions in "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)


def cli_validate(root: Path, repeats: int) -> tuple[list[float], list[float], str]:
    """Whole ``placeseg validate --split test`` processes: walls, peak MB, the last summary line."""
    cmd = placeseg_command() + ["validate", "--split", "test", "--img-cat-ids", str(root / "imgCatIds.json"),
                  str(root / "predictions.json")]
    env = subprocess_env()
    walls, peaks, last = [], [], ""
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            with open(Path(tmp) / "out", "w+") as out, open(Path(tmp) / "err", "w+") as err:
                start = time.perf_counter()
                proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
                _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak (ru_maxrss)
                walls.append(time.perf_counter() - start)
                proc.returncode = os.waitstatus_to_exitcode(status)
                peaks.append(usage.ru_maxrss / 1024)
                out.seek(0)
                err.seek(0)
                text, errors = out.read(), err.read()
            if proc.returncode != 0:
                sys.exit(f"placeseg validate failed ({proc.returncode}):\n{text[-2000:]}\n{errors[-2000:]}")
            last = next((ln for ln in text.splitlines() if ln.strip()), "")
    return walls, peaks, last


def window_open(root: Path, trace: bool = False) -> dict[str, float]:
    """Open ROOT with its predictions in the main window; the stall and the times."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from placeseg_review.services.assets import apply_theme
    from placeseg_review.services.settings import Settings
    from placeseg_review.services.workers import share_gil_with_gui_thread
    from placeseg_review.window.main_window import MainWindow

    share_gil_with_gui_thread()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app)
    scratch = tempfile.TemporaryDirectory(prefix="placeseg-bench-")
    window = MainWindow(Settings(Path(scratch.name) / "settings.ini"))
    window.resize(1600, 1000)
    window.show()
    settle = time.perf_counter() + 1.0  # the first paint is start-up, not opening
    while time.perf_counter() < settle:
        app.processEvents()
        time.sleep(0.005)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer(interval=10)
    timer.timeout.connect(tick)
    tracers = []
    if trace:  # where the stalls come from (slows the GUI thread: not for the figures)
        from _stalls import GcTimer, SlotTimer

        tracers = [SlotTimer(Path(__file__).name), GcTimer()]
        for tracer in tracers:
            tracer.start()
    marks: dict[str, float] = {}
    session = window.session
    t0 = time.perf_counter()
    last[0] = t0
    timer.start()
    window.controller.open_dataset(root, predictions=root / "predictions.json")
    deadline = t0 + 900
    while True:
        app.processEvents()
        now = time.perf_counter()
        if "image" not in marks and session.image is not None:
            marks["image"] = now - t0
        if "predictions" not in marks and session.predictions is not None:
            marks["predictions"] = now - t0
        if "report" not in marks and session.validation is not None:
            marks["report"] = now - t0
        if len(marks) == 3 and not window.controller.jobs and not window.analysis.running("validate"):
            break
        if window.last_error:
            sys.exit(f"the window reported an error: {window.last_error}")
        if now > deadline:
            sys.exit(f"timed out; reached {marks}")
        time.sleep(0.001)
    tick()
    timer.stop()
    for tracer in tracers:
        tracer.stop()
        tracer.report()
    report = session.validation
    out = {**marks, "stall": max(gaps), "valid": float(bool(report.valid)), "peak_mb": status_kb("VmHWM") / 1024,
           "listed": float(len(window.controller.navigation))}
    window.shutdown()
    scratch.cleanup()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=3352)
    ap.add_argument("--per-image", type=int, default=255)
    ap.add_argument("--data", type=Path, default=None, help="folder for the cached data (default: temp)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-window", action="store_true")
    ap.add_argument("--window-only", action="store_true",
                    help="only the window's measurement, in this process (with --trace: where its stalls come from)")
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = data_dir(args.data, args.images, args.per_image)
    generate(root, args.images, args.per_image)
    if args.window_only:  # in a process of its own: its peak memory is the window's
        print(json.dumps(window_open(root, args.trace)))
        return 0
    size_mb = (root / "predictions.json").stat().st_size / 1e6
    print(f"data root {root}: {args.images} test images, no annotations; predictions.json {size_mb:.0f} MB")
    walls, peaks, summary = cli_validate(root, args.repeats)
    print(f"placeseg validate --split test: median {statistics.median(walls):.2f} s "
          f"(runs {[round(w, 2) for w in walls]}), peak {statistics.median(peaks):.0f} MB; it says: {summary}")
    if args.skip_window:
        return 0
    done = subprocess.run([sys.executable, __file__, "--window-only", "--images", str(args.images),
                           "--per-image", str(args.per_image)] + (["--data", str(args.data)] if args.data else []),
                          check=True, capture_output=True, text=True, env=subprocess_env())
    w = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"window: first image {w['image']:.1f} s, predictions {w['predictions']:.1f} s, validation report "
          f"{w['report']:.1f} s ({'valid' if w['valid'] else 'NOT valid'}), {w['listed']:.0f} images listed; "
          f"longest event-loop stall {w['stall'] * 1000:.0f} ms (target <= 100 ms); peak {w['peak_mb']:.0f} MB")
    return 0 if w["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())
