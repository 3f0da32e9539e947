"""``placeseg evaluate``: the official score of a submission, exactly as the challenge computes it.

Exit status: 0 scored; 1 the submission cannot be scored (the validator's messages say why);
2 an input file is missing or unreadable (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..atomic import check_output_path, write_json_atomic
from ..errors import InputError
from ..evaluation import (
    CHALLENGE_MAX_DETS,
    EvalParams,
    EvaluationResult,
    GroundTruth,
    evaluate,
    ground_truth_from_ann_dir,
    load_inputs,
)
from ..evaluation.notes import quirk_notes as notes
from ..evaluation.notes import size_notes
from ..jsonio import JsonFileError
from ..submissions import Submission, SubmissionError, format_note
from .options import add_size_limit, kept_until_exit
from .progress import StderrProgress

_LINES = (  # pycocotools' summarize() layout
    ("AP", "Average Precision", "(AP)", "0.50:0.95", "all", None),
    ("AP50", "Average Precision", "(AP)", "0.50", "all", None),
    ("AP75", "Average Precision", "(AP)", "0.75", "all", None),
    ("APs", "Average Precision", "(AP)", "0.50:0.95", "small", None),
    ("APm", "Average Precision", "(AP)", "0.50:0.95", "medium", None),
    ("APl", "Average Precision", "(AP)", "0.50:0.95", "large", None),
    ("AR{0}", "Average Recall", "(AR)", "0.50:0.95", "all", 0),
    ("AR{1}", "Average Recall", "(AR)", "0.50:0.95", "all", 1),
    ("AR{2}", "Average Recall", "(AR)", "0.50:0.95", "all", 2),
    ("ARs", "Average Recall", "(AR)", "0.50:0.95", "small", None),
    ("ARm", "Average Recall", "(AR)", "0.50:0.95", "medium", None),
    ("ARl", "Average Recall", "(AR)", "0.50:0.95", "large", None),
)


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preds", required=True, metavar="P.json", help="the submission file")
    truth = p.add_mutually_exclusive_group(required=True)
    truth.add_argument("--gt", metavar="GT.json", help="ground truth (placeseg convert output)")
    truth.add_argument("--ann-dir", metavar="DIR", help="annotation PNG folder, converted on the fly "
                       "exactly as 'placeseg convert' does by default (needs --img-cat-ids)")
    p.add_argument("--img-cat-ids", metavar="FILE", help="the kit's imgCatIds.json (with --ann-dir)")
    p.add_argument("--readme-rule", action="store_true",
                   help="score only each image's 255 best predictions (the challenge text's rule)")
    p.add_argument("--engine", choices=("fast", "reference"), default="fast",
                   help="fast (default) or reference (pycocotools itself, slow)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--max-dets", type=int, nargs=3, default=list(CHALLENGE_MAX_DETS), metavar=("A", "B", "C"),
                   help="pycocotools' params.maxDets (default: the challenge's 1 50 255; COCO's own "
                   "is 1 10 100): AR is reported at each, AP at the largest")
    p.add_argument("--iou-type", default="segm", metavar="TYPE",
                   help="pycocotools' iouType; only 'segm' (mask IoU) is supported")
    add_size_limit(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a submission exactly as the challenge does (mask AP, pycocotools)",
        description="Score a submission with the challenge's evaluation: pycocotools segm AP, "
        "maxDets [1, 50, 255] (or --max-dets), every quirk included; says when a quirk changed "
        "the score. Any COCO instance-segmentation ground truth works (polygons, crowd regions).",
    )
    add_input_arguments(p)
    p.add_argument("--json", metavar="OUT.json", help="also write the numbers as JSON")
    p.add_argument("--errors", action="store_true",
                   help="add the TIDE-style error breakdown at IoU 0.5 (types, dAP, worst images; "
                   "see docs/error-analysis.md) to the text and JSON output")
    p.set_defaults(func=run)


def eval_params(args: argparse.Namespace) -> EvalParams:
    """pycocotools' Params from ``--iou-type`` and ``--max-dets``; InputError (exit 2) otherwise."""
    iou_type = getattr(args, "iou_type", "segm")
    if iou_type != "segm":
        raise InputError(f"--iou-type {iou_type}: not supported; placeseg scores masks only "
                         "(--iou-type segm, pycocotools' mask IoU); box and keypoint scoring are out of scope")
    dets = list(getattr(args, "max_dets", CHALLENGE_MAX_DETS))
    if min(dets) < 1:
        raise InputError(f"--max-dets {' '.join(map(str, dets))}: each value must be a positive integer")
    if len(set(dets)) != len(dets):
        raise InputError(f"--max-dets {' '.join(map(str, dets))}: the three values must differ "
                         "(AR is reported at each of them)")
    return EvalParams(max_dets=tuple(dets))


def load_cli_inputs(args: argparse.Namespace) -> tuple[GroundTruth, Submission] | int:
    """Ground truth and submission, or an exit code after explaining what is wrong."""
    truth: GroundTruth | str = args.gt
    if args.ann_dir:
        if not args.img_cat_ids:
            raise InputError("--ann-dir needs --img-cat-ids (the kit's imgCatIds.json)")
        from .cmd_convert import summarize_findings  # noqa: PLC0415

        # the same warnings as 'placeseg convert' (mode, red values, sizes): never silent
        truth = ground_truth_from_ann_dir(args.ann_dir, args.img_cat_ids, progress=StderrProgress("convert"),
                                          on_findings=summarize_findings)
    loaded: list[GroundTruth] = []  # the ground truth, once loaded: the submission's faults are explained against it
    try:
        gt, sub, _ = load_inputs(truth, args.preds, getattr(args, "workers", None), on_ground_truth=loaded.append)
    except JsonFileError:
        raise  # missing / unreadable / not JSON: one line, exit 2
    except (SubmissionError, InputError) as exc:
        if not loaded:
            raise  # the ground truth's own fault: one line, exit 2
        return explain_unscorable(args.preds, loaded[0], exc, getattr(args, "command", "evaluate"))
    return gt, sub


def explain_unscorable(path: str, gt: GroundTruth, exc: Exception, command: str = "evaluate") -> int:
    """Print the validator's findings for a submission that cannot be scored; exit code 1."""
    text = None
    from ..catalog import catalog_from_ground_truth  # noqa: PLC0415
    from ..validate import render_text, validate_submission  # noqa: PLC0415

    try:
        catalog = catalog_from_ground_truth(gt.dataset, source=gt.source)
        report = validate_submission(path, catalog, expected_image_ids=gt.image_ids.tolist())
        if not report.valid:
            text = render_text(report)
    except InputError:
        text = None  # a ground truth without file names or sizes: no catalogue for the validator
    print(f"placeseg {command}: error: the submission cannot be scored: {exc}", file=sys.stderr)
    if text:
        sys.stderr.write(text)
    return 1


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:0.3f}"


def summary_lines(result: EvaluationResult) -> list[str]:
    dets = result.params.max_dets
    lines = []
    for key, title, kind, iou, area, m in _LINES:
        max_det = dets[-1] if m is None else dets[m]
        key = key.format(*dets)
        lines.append(f" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6s} | maxDets={max_det:>3d} ] = "
                     f"{_fmt(result.summary.get(key))}")
    return lines


def category_table(result: EvaluationResult) -> list[str]:
    lines = [f"{'id':>4}  {'category':<24} {'AP':>6}"]
    for cid, ap in zip(result.category_ids.tolist(), result.scores.category_ap, strict=True):
        name = result.category_names.get(cid, str(cid))
        lines.append(f"{cid:>4}  {name[:24]:<24} {_fmt(ap):>6}")
    return lines


def run(args: argparse.Namespace) -> int:
    params = eval_params(args)
    if args.json:
        check_output_path(args.json, [args.preds, args.gt, args.img_cat_ids], [args.ann_dir])
    loaded = load_cli_inputs(args)
    if isinstance(loaded, int):
        return loaded
    gt, sub = loaded
    result = evaluate(gt, sub, engine=args.engine, readme_rule=args.readme_rule,
                      progress=StderrProgress("evaluate"), workers=args.workers, params=params)
    kept = kept_until_exit()
    if kept is not None:  # not freed one by one: the process ends right after (console_main)
        kept += [gt, sub, result]
    out = sys.stdout
    for line in summary_lines(result):
        print(line, file=out)
    print("", file=out)
    mean = result.mean_ap
    print(f"mean AP: {'n/a' if mean is None else f'{mean:.10f}'}"
          f"{'  (README rule applied)' if result.readme.applied else ''}", file=out)
    print("", file=out)
    for line in category_table(result):
        print(line, file=out)
    # a file pycocotools scores though it is not the challenge's RLE: one line says so
    extra = [line for line in (format_note(sub),) if line] + notes(result) + size_notes(gt, sub)
    if any(line.startswith("README rule broken") for line in extra):  # (notes name it for Places sets)
        extra.append("To score with the README rule applied, run again with --readme-rule.")
    if extra:
        print("", file=out)
        for line in extra:
            print(line, file=out)
    errors = None
    if getattr(args, "errors", False):
        from ..analysis import analyze  # noqa: PLC0415 (only --errors needs it)

        errors = analyze(result, gt, sub)
        print("", file=out)
        for line in errors.text_lines():
            print(line, file=out)
    if args.json:
        doc: dict[str, Any] = result.to_json()
        doc["notes"] = extra
        if errors is not None:
            doc["errors"] = errors.to_json()
        write_json_atomic(args.json, doc, indent=1, allow_nan=False)
    return 0


