"""``placeseg convert``: annotation PNGs to the challenge's ground-truth JSON."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from typing import TextIO

from ..annotations import Finding
from ..atomic import check_output_path
from ..catalog import load_catalog
from ..convert import convert_annotations, write_ground_truth
from .options import add_size_limit
from .progress import StderrProgress

FIRST_LOCATIONS = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="annotation PNGs -> ground-truth JSON, as the official converter makes it",
        description="Convert annotations_instance/<split> PNGs into COCO ground truth, identical "
        "to the challenge's official converter (ids from 0 by default).",
    )
    p.add_argument("ann_dir", help="folder of annotation PNGs, e.g. annotations_instance/validation")
    p.add_argument("--img-cat-ids", required=True, metavar="FILE", help="the kit's imgCatIds.json")
    p.add_argument("-o", "--output", required=True, metavar="GT.json", help="ground truth to write")
    p.add_argument(
        "--first-id",
        type=int,
        choices=(0, 1),
        default=0,
        help="first annotation id: 0 as the official converter (pycocotools then never counts a "
        "match with id 0), or 1 to avoid that quirk (default: 0)",
    )
    p.add_argument("--workers", type=int, default=None, metavar="N", help="processes (default: CPUs)")
    add_size_limit(p)
    p.set_defaults(func=run)


def summarize_findings(findings: list[Finding], stream: TextIO | None = None) -> None:
    """Warnings grouped by code: a count and the first few locations of each."""
    if not findings:
        return
    stream = stream or sys.stderr
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_code[f.code].append(f)
    counts = Counter(f.code for f in findings)
    for code, items in by_code.items():
        print(f"warning: {code}: {counts[code]} finding(s)", file=stream)
        for f in items[:FIRST_LOCATIONS]:
            print(f"  {f.message}", file=stream)
        if len(items) > FIRST_LOCATIONS:
            print(f"  ... and {len(items) - FIRST_LOCATIONS} more", file=stream)


def run(args: argparse.Namespace) -> int:
    check_output_path(args.output, [args.img_cat_ids], [args.ann_dir])
    catalog = load_catalog(args.img_cat_ids)
    if args.workers is not None and args.workers < 1:
        print("placeseg convert: error: --workers must be at least 1", file=sys.stderr)
        return 2
    result = convert_annotations(
        args.ann_dir,
        catalog,
        first_id=args.first_id,
        workers=args.workers,
        progress=StderrProgress("convert"),
    )
    summarize_findings(result.findings)
    write_ground_truth(args.output, result.dataset)
    print(
        f"wrote {args.output}: {len(result.dataset['images'])} images, "
        f"{result.num_annotations} annotations from {result.files} PNGs",
        file=sys.stderr,
    )
    return 0
