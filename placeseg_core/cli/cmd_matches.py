"""``placeseg matches``: one image's per-prediction and per-GT matches, as JSON.

The pairs are pycocotools' per-image evaluation for area "all" and maxDets 255, at each of the
10 IoU thresholds. A geometric match with GT id 0 shows ``matched_gt`` 0 and the outcome
``fp_gt_id_0``: the official scoring counts it as no match.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputError
from ..evaluation import evaluate
from ..submissions import format_note
from .cmd_evaluate import add_input_arguments, eval_params, load_cli_inputs
from .progress import StderrProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "matches",
        help="one image's matches (prediction <-> ground truth at each IoU threshold) as JSON",
        description="Print one image's evaluation records as JSON: for each prediction the GT it "
        "matched at each IoU threshold, the IoU and its status; for each GT the prediction.",
    )
    add_input_arguments(p)
    p.add_argument("--image-id", required=True, type=int, metavar="N", help="the image's id")
    p.set_defaults(func=run)


def format_records(doc: dict) -> str:
    """JSON with one line per prediction and per ground truth (valid JSON, easy to grep)."""
    def lines(items: list) -> str:
        if not items:
            return "[]"
        return "[\n" + ",\n".join("  " + json.dumps(x, allow_nan=False) for x in items) + "\n ]"

    return (f'{{"image_id": {json.dumps(doc["image_id"])},\n "predictions": {lines(doc["predictions"])},\n'
            f' "ground_truth": {lines(doc["ground_truth"])}}}')


def run(args: argparse.Namespace) -> int:
    params = eval_params(args)
    loaded = load_cli_inputs(args)
    if isinstance(loaded, int):
        return loaded
    gt, sub = loaded
    if args.image_id not in set(gt.image_ids.tolist()):
        raise InputError(f"image {args.image_id} is not in the ground truth's images")
    result = evaluate(gt, sub, engine=args.engine, readme_rule=args.readme_rule,
                      progress=StderrProgress("evaluate"), workers=args.workers, params=params)
    note = format_note(sub)
    if note:  # stdout is JSON: the note that the file is not the challenge's format goes to stderr
        print(f"placeseg matches: {note}", file=sys.stderr)
    doc = result.records.image(args.image_id).to_json()
    sys.stdout.write(format_records(doc) + "\n")
    return 0
