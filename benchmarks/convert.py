"""Time ``placeseg convert`` against a straight port of the official converter, in one run.

Usage: python benchmarks/convert.py [--images 500] [--repeats 3] [--workers 2]

Generates val-size annotation PNGs (about 11 instances each) into a temporary folder, converts
them with both implementations, checks that the outputs are identical, and prints the median
times and their ratio. Target (issue 2): at least 4x faster on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time  # noqa: E402

from placeseg_core.catalog import Catalog, Category, load_catalog  # noqa: E402
from placeseg_core.categories import CATEGORY_NAMES  # noqa: E402
from placeseg_core.convert import convert_annotations, dump_ground_truth  # noqa: E402
from placeseg_core.convert_reference import convert_reference  # noqa: E402
from placeseg_core.synth import synth_scene  # noqa: E402


def generate(root: Path, n: int) -> tuple[Path, Path]:
    ann_dir = root / "annotations_instance" / "validation"
    ann_dir.mkdir(parents=True)
    records = []
    for index in range(n):
        scene = synth_scene(seed=7, index=index)
        planes = np.zeros((*scene.green.shape, 3), np.uint8)
        planes[..., 0], planes[..., 1] = scene.red, scene.green
        Image.fromarray(planes).save(ann_dir / scene.record.file_name.replace(".jpg", ".png"))
        records.append(scene.record)
    catalog = Catalog(records, [Category(i + 1, c) for i, c in enumerate(CATEGORY_NAMES)])
    cat_path = root / "imgCatIds.json"
    cat_path.write_text(json.dumps(catalog.to_json_dict()))
    return ann_dir, cat_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ann_dir, cat_path = generate(Path(tmp), args.images)
        catalog = load_catalog(cat_path)
        ours_t, ours_all, ours = median_time(
            lambda: convert_annotations(ann_dir, catalog, workers=args.workers), args.repeats
        )
        ref_t, ref_all, ref = median_time(lambda: convert_reference(str(ann_dir), str(cat_path)), args.repeats)
        identical = dump_ground_truth(ours.dataset) == json.dumps(ref)
        n_ann = len(ref["annotations"])
    print(f"images: {args.images}, instances: {n_ann}, workers: {args.workers}, repeats: {args.repeats}")
    print(f"placeseg convert      median {ours_t:7.3f} s   runs {[round(t, 3) for t in ours_all]}")
    print(f"official (straight)   median {ref_t:7.3f} s   runs {[round(t, 3) for t in ref_all]}")
    print(f"speed-up: {ref_t / ours_t:.1f}x   (target >= 4x)   outputs identical: {identical}")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
