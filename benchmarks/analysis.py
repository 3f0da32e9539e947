"""Time of the error analysis (``placeseg_core.analysis.analyze``) next to the evaluation.

Usage: python benchmarks/analysis.py [--images 2000] [--per-image 100] [--repeats 3] [--data DIR]

Generates (or reuses, in DIR) the val-like synthetic set of benchmarks/evaluate.py
(``synth_dataset(images, seed=0, preds_per_image)``: ~21k GT and ~198k predictions for 2,000
images; generation takes ~30 s, so pass --data to keep it), loads both files once, then times,
each as the median of ``--repeats`` runs (the machine is noisy):
- ``evaluate(gt, submission)`` (fast engine, inputs already parsed);
- ``analyze(result, gt, submission)``: cross-category IoUs, error types, dAP per type, exact
  per-image lost AP, confusion matrix (phase times from ``ErrorAnalysis.timings``);
- ``analyze(..., overlaps=...)`` at IoU 0.75, reusing the IoUs (what a threshold change costs);
- ``explain_image`` for 200 images (what the GUI asks per selected image).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median_time  # noqa: E402
from evaluate import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--per-image", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="folder to keep (and reuse) the data in")
    args = parser.parse_args()

    from placeseg_core.analysis import analyze
    from placeseg_core.evaluation import evaluate, load_ground_truth
    from placeseg_core.submissions import load_submission

    with contextlib.ExitStack() as stack:
        data = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        generate(data, args.images, args.per_image)
        gt = load_ground_truth(data / "gt.json")
        sub = load_submission(data / "predictions.json")
    print(f"data: {args.images} images, {len(gt):,} GT, {len(sub):,} predictions")

    t_eval, runs_eval, result = median_time(lambda: evaluate(gt, sub), args.repeats)
    print(f"evaluate (fast engine, parsed inputs)   median {t_eval:6.3f} s  runs {[round(t, 2) for t in runs_eval]}")

    phases: list[dict[str, float]] = []

    def run() -> object:
        a = analyze(result, gt, sub)
        phases.append(a.timings)
        return a

    t_an, runs_an, analysis = median_time(run, args.repeats)
    print(f"analyze (IoU 0.5, per-image lost AP)    median {t_an:6.3f} s  runs {[round(t, 2) for t in runs_an]}")
    for key in phases[0]:
        print(f"    {key:<14} median {statistics.median(p[key] for p in phases):6.3f} s")
    t_75, runs_75, _ = median_time(lambda: analyze(result, gt, sub, 0.75, overlaps=analysis.overlaps), args.repeats)
    print(f"analyze at 0.75 reusing the IoUs        median {t_75:6.3f} s  runs {[round(t, 2) for t in runs_75]}")
    ids = analysis.images.image_ids[:200]
    start = time.perf_counter()
    for i in ids.tolist():
        analysis.explain_image(i)
    per = (time.perf_counter() - start) / len(ids) * 1000
    print(f"explain_image                           {per:6.2f} ms per image (200 images)")
    start = time.perf_counter()
    analysis.confusion_at(0.75)
    print(f"confusion_at(0.75)                      {1000 * (time.perf_counter() - start):6.1f} ms")
    print(f"analysis AP50 == official AP50: {analysis.ap == result.summary['AP50']}; "
          f"all errors fixed: {analysis.fixed_ap['all']!r}")
    print(json.dumps({"AP50": analysis.ap, "dAP": analysis.dap, "counts": analysis.counts}, indent=None))


if __name__ == "__main__":
    main()
