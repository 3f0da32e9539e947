"""Responsiveness of the review window while an evaluation runs, and how fast cancel returns.

    python benchmarks/gui_responsiveness.py [--images 2000] [--per-image 100] [--repeats 3]
                                            [--data DIR]

Generates a val-like set with ``synth_dataset(N, seed=0, preds_per_image=P)`` (about 30 s for
2,000 images; cached as gt.json + predictions.json in a temporary folder keyed by the
parameters, reused on the next run), opens it in an offscreen window as a COCO ground truth
with its predictions, then, per repeat:

* **evaluate**: starts the evaluation view's run (fast engine, in a worker) and measures, with a
  QTimer ticking every 10 ms on the GUI thread, the gaps between ticks until the result is on
  screen: the longest gap is the longest event-loop stall (target ≤ 100 ms);
* **cancel**: starts another run, presses Cancel after a random 1–4 s and times until the view
  says it stopped (target ≤ 1 s).

Prints the longest stall, the median gap, the evaluation time and the cancel latency, each as
the median (and worst) over the repeats: the machine is noisy.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def dataset_dir(n_images: int, per_image: int, seed: int, base: Path | None) -> Path:
    root = base or Path(tempfile.gettempdir()) / "placeseg-bench"
    return root / f"synth-n{n_images}-seed{seed}-ppi{per_image}"


def ensure_dataset(folder: Path, n_images: int, per_image: int, seed: int) -> Path:
    """gt.json and predictions.json for these parameters, generated once (atomic writes)."""
    gt, preds = folder / "gt.json", folder / "predictions.json"
    if gt.is_file() and preds.is_file():
        return folder
    from placeseg_core.atomic import write_json_atomic
    from placeseg_core.synth import synth_dataset

    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {n_images} images x {per_image} predictions into {folder} (once)...", file=sys.stderr)
    t0 = time.perf_counter()
    data = synth_dataset(n_images, seed=seed, preds_per_image=per_image)
    write_json_atomic(gt, data.ground_truth)
    write_json_atomic(preds, data.predictions)
    print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return folder


class Ticker:
    """A 10 ms QTimer on the GUI thread; the gaps between its ticks are the event-loop stalls."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        self._tick()  # the gap up to now counts too
        return max(self.gaps), statistics.median(self.gaps)


def wait_until(app, condition, timeout_s: float) -> None:
    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.001)


def run_evaluation(app, window, ticker: Ticker) -> tuple[float, float, float]:
    """(longest stall, median gap, seconds to the result on screen) of one evaluation."""
    from PySide6.QtCore import QEventLoop

    view, analysis, session = window.evaluation_view, window.analysis, window.session
    session.set_evaluation(None)
    loop = QEventLoop()

    def on_result(ev) -> None:
        if ev is not None:
            loop.quit()

    def on_error(*_args) -> None:
        loop.quit()

    session.evaluationChanged.connect(on_result)
    window.errorShown.connect(on_error)
    ticker.start()
    t0 = time.perf_counter()
    view.run_button.click()
    loop.exec()  # Qt's own event loop, as in the application: the ticks measure it
    seconds = time.perf_counter() - t0
    stall, median = ticker.stop()
    session.evaluationChanged.disconnect(on_result)
    window.errorShown.disconnect(on_error)
    wait_until(app, lambda: not analysis.running("evaluate"), 30)
    if session.evaluation is None:
        raise RuntimeError(f"evaluation failed: {window.last_error}")
    return stall, median, seconds


def run_cancel(app, window, after_s: float) -> float:
    """Seconds from pressing Cancel ``after_s`` into an evaluation to the view's 'cancelled'."""
    view, analysis = window.evaluation_view, window.analysis
    done: list[float] = []

    def on_cancelled(kind: str) -> None:
        if kind == "evaluate":
            done.append(time.perf_counter())

    analysis.cancelled.connect(on_cancelled)
    view.run_button.click()
    start = time.perf_counter()
    wait_until(app, lambda: time.perf_counter() >= start + after_s or not analysis.running("evaluate"), after_s + 30)
    latency = float("nan")  # finished before the cancel: not a measurement
    if analysis.running("evaluate"):
        pressed = time.perf_counter()
        view.cancel_button.click()
        wait_until(app, lambda: bool(done), 10)
        latency = done[0] - pressed
    analysis.cancelled.disconnect(on_cancelled)
    wait_until(app, lambda: not analysis.running("evaluate"), 30)
    return latency


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--per-image", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="folder for the cached data (default: temp)")
    ap.add_argument("--generate-only", action="store_true")
    args = ap.parse_args()
    folder = ensure_dataset(dataset_dir(args.images, args.per_image, args.seed, args.data),
                            args.images, args.per_image, args.seed)
    if args.generate_only:
        return 0

    from PySide6.QtWidgets import QApplication

    from placeseg_review.services.assets import apply_theme
    from placeseg_review.services.settings import Settings
    from placeseg_review.services.workers import share_gil_with_gui_thread
    from placeseg_review.window.layouts import apply_view
    from placeseg_review.window.main_window import MainWindow

    share_gil_with_gui_thread()  # as placeseg-review's main() does
    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app)
    scratch = tempfile.TemporaryDirectory(prefix="placeseg-bench-")
    window = MainWindow(Settings(Path(scratch.name) / "settings.ini"))
    window.resize(1600, 1000)
    apply_view(window, "evaluation")
    window.analysis.auto_evaluate = False  # runs are started below, one at a time
    window.analysis.auto_validate = False  # measured on its own at the end
    window.show()
    ticker = Ticker()
    ticker.start()
    t0 = time.perf_counter()
    window.controller.open_dataset(folder / "gt.json", predictions=folder / "predictions.json")
    wait_until(app, lambda: window.session.predictions is not None and not window.controller.jobs
               and window.session.image is not None, 300)
    open_stall, _ = ticker.stop()
    print(f"opened {len(window.session.dataset.entries)} images, {len(window.session.predictions.submission):,} "
          f"predictions in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    stalls, medians, seconds = [], [], []
    for k in range(args.repeats):
        stall, median, secs = run_evaluation(app, window, ticker)
        stalls.append(stall)
        medians.append(median)
        seconds.append(secs)
        print(f"  evaluate #{k + 1}: {secs:.2f} s, longest stall {stall * 1000:.0f} ms, "
              f"median gap {median * 1000:.1f} ms", file=sys.stderr)
    rng = random.Random(0)
    eval_s = statistics.median(seconds)
    latencies = []
    for k in range(args.repeats):
        after = rng.uniform(0.15, 0.75) * eval_s
        latency = run_cancel(app, window, after)
        latencies.append(latency)
        print(f"  cancel #{k + 1} after {after:.2f} s: returned in {latency * 1000:.0f} ms", file=sys.stderr)

    # the validator on the same file, for comparison (it runs when predictions are opened)
    ticker.start()
    t1 = time.perf_counter()
    window.analysis.validate()
    wait_until(app, lambda: window.session.validation is not None and not window.analysis.running("validate"), 600)
    v_secs = time.perf_counter() - t1
    v_stall, v_median = ticker.stop()

    valid = [v for v in latencies if v == v]
    print(f"evaluation of {args.images} images x {args.per_image} predictions (fast engine, worker thread), "
          f"median of {args.repeats}:")
    print(f"  longest event-loop stall: {statistics.median(stalls) * 1000:.0f} ms "
          f"(worst {max(stalls) * 1000:.0f} ms; target <= 100 ms)")
    print(f"  median tick gap:          {statistics.median(medians) * 1000:.1f} ms (timer interval 10 ms)")
    print(f"  evaluation time:          {eval_s:.2f} s (click to result on screen)")
    if valid:
        print(f"  cancel latency:           {statistics.median(valid) * 1000:.0f} ms "
              f"(worst {max(valid) * 1000:.0f} ms; target <= 1000 ms)")
    print(f"opening the set (ground truth + predictions, in workers): longest stall {open_stall * 1000:.0f} ms")
    print(f"validation of the same file: {v_secs:.1f} s, longest stall {v_stall * 1000:.0f} ms, "
          f"median gap {v_median * 1000:.1f} ms")
    window.shutdown()
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
