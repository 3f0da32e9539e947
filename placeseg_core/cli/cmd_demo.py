"""``placeseg demo``: a synthetic data set in the challenge layout, so everything runs offline."""

from __future__ import annotations

import argparse
import sys

from ..demo import DEFAULT_IMAGES, build_demo
from .progress import StderrProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write a synthetic data set with predictions (challenge layout)",
        description="Write DIR/images/validation, DIR/annotations_instance/validation, "
        "DIR/imgCatIds.json and DIR/predictions.json: seeded and deterministic.",
    )
    p.add_argument("dir", help="output folder (created; existing demo files are replaced)")
    p.add_argument("--images", type=int, default=DEFAULT_IMAGES, metavar="N", help=f"number of images (default {DEFAULT_IMAGES})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.seed < 0:
        print("placeseg demo: error: --seed must be 0 or more", file=sys.stderr)
        return 2
    if args.images < 1 or args.images > 2000:
        print("placeseg demo: error: --images must be between 1 and 2000", file=sys.stderr)
        return 2
    info = build_demo(args.dir, n_images=args.images, seed=args.seed, progress=StderrProgress("demo"))
    print(
        f"wrote {info.root}: {info.n_images} images, {info.n_instances} instances, "
        f"{info.n_predictions} predictions",
        file=sys.stderr,
    )
    return 0
