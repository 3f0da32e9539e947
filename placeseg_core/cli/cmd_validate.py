"""``placeseg validate``: check a submission before sending it.

Exit status: 0 valid (warnings allowed), 1 the submission has errors, 2 the inputs cannot be
used (imgCatIds.json or the ground truth missing or malformed, the submission file missing,
a folder or over the size limit).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..annotations import image_name_for_annotation
from ..atomic import check_output_path, write_json_atomic
from ..catalog import Catalog, catalog_from_ground_truth, load_catalog
from ..convert import list_annotation_files
from ..errors import InputError
from ..jsonio import read_json_file
from ..safety.numbers import is_int64, short
from ..validate import DEFAULT_MAX_LOCATIONS, render_text, validate_submission
from ..validate.codes import UNUSABLE_CODES
from .options import add_size_limit, kept_until_exit, size_limit_bytes
from .progress import StderrProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check a submission file: every problem, located, with a fix",
        description="Check a submission (JSON list of {image_id, category_id, segmentation, "
        "score}) against imgCatIds.json and, optionally, the ground truth; or, for any COCO "
        "instance-segmentation set, against its ground truth alone (--gt without --img-cat-ids: "
        "images, sizes and categories from the ground truth). Exit 0 when valid "
        "(warnings allowed), 1 when it has errors, 2 when the inputs cannot be used.",
    )
    p.add_argument("predictions", metavar="PREDS.json", help="the submission file")
    p.add_argument("--img-cat-ids", metavar="FILE",
                   help="the kit's imgCatIds.json (needed unless --gt is given)")
    p.add_argument(
        "--split",
        choices=("val", "test"),
        default=None,
        help="the images the submission is for (default: inferred from the ids, and reported)",
    )
    truth = p.add_mutually_exclusive_group()
    truth.add_argument("--gt", metavar="GT.json", help="ground truth: its images are the expected ones; "
                       "without --img-cat-ids also the source of image sizes and category ids")
    truth.add_argument(
        "--ann-dir",
        metavar="DIR",
        help="annotation PNG folder: the images with an annotation file are the expected ones",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output on stdout (default text)")
    p.add_argument("--report", metavar="OUT.json", help="also write the JSON report to this file")
    p.add_argument(
        "--max-locations",
        type=int,
        default=DEFAULT_MAX_LOCATIONS,
        metavar="N",
        help=f"locations listed per problem code; the rest are counted (default {DEFAULT_MAX_LOCATIONS})",
    )
    add_size_limit(p, "submission and other input files")
    p.set_defaults(func=run)


def ground_truth_image_ids(path: str) -> list[int]:
    """The ids of the images a ground-truth file lists (its ``images``)."""
    data = read_json_file(path)
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise InputError(f"{path}: not a COCO ground truth (expected an object with an 'images' list)")
    ids: list[int] = []
    for i, image in enumerate(images):
        image_id = image.get("id") if isinstance(image, dict) else None
        if not isinstance(image_id, int) or not is_int64(image_id):
            raise InputError(f"{path}: images[{i}].id: expected an integer (64-bit), got {short(image_id)}")
        ids.append(image_id)
    return ids


def annotation_image_ids(ann_dir: str, catalog: Catalog) -> list[int]:
    """The images the converter would put in the ground truth: those with an annotation PNG.

    Same set as ``convert_annotations(...).dataset["images"]``, without decoding the PNGs.
    """
    ids: list[int] = []
    for path in list_annotation_files(ann_dir):
        image_name = image_name_for_annotation(path)
        record = catalog.by_file_name.get(image_name)
        if record is None:
            raise InputError(f"{path}: its image {image_name} is not in {catalog.source}")
        ids.append(record.id)
    return ids


def run(args: argparse.Namespace) -> int:
    if args.max_locations < 0:
        raise InputError("--max-locations must be 0 or more")
    if args.report:
        check_output_path(args.report, [args.predictions, args.img_cat_ids, args.gt], [args.ann_dir])
    if args.img_cat_ids:
        catalog = load_catalog(args.img_cat_ids)
    elif args.gt:
        # any COCO set: image ids and sizes from its images, category ids from its categories
        catalog = catalog_from_ground_truth(read_json_file(args.gt), source=args.gt)
    elif args.ann_dir:
        raise InputError("--ann-dir needs --img-cat-ids (the kit's imgCatIds.json gives the images their ids)")
    else:
        raise InputError("give --img-cat-ids (the kit's imgCatIds.json) or --gt (a COCO ground truth)")
    if not catalog.images:
        raise InputError(f"{catalog.source}: lists no images, so there is nothing to check against")
    expected = None
    if args.gt:
        expected = ground_truth_image_ids(args.gt)
        if not expected:
            raise InputError(f"{args.gt}: lists no images, so there is nothing to check against")
    elif args.ann_dir:
        expected = annotation_image_ids(args.ann_dir, catalog)
    report = validate_submission(
        args.predictions,
        catalog,
        split=args.split,
        expected_image_ids=expected,
        progress=StderrProgress("validate"),
        max_locations=args.max_locations,
        max_bytes=size_limit_bytes(args),
        keep_parsed=kept_until_exit(),
    )
    if args.gt:
        report.stats["ground_truth"] = args.gt
    document = report.to_dict()
    if args.report:
        write_json_atomic(args.report, document, indent=1)
    if args.format == "json":
        sys.stdout.write(json.dumps(document, indent=1) + "\n")
    else:
        sys.stdout.write(render_text(report))
    if report.unusable:
        # the report above says it too; the one line on stderr is what scripts and people see
        first = next(p for p in report.problems if p.code in UNUSABLE_CODES)
        print(f"placeseg validate: error: {first.message}", file=sys.stderr)
        return 2
    return 0 if report.valid else 1
