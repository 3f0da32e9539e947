"""Ground truth from annotation PNGs, identical to the official converter's output.

The official script (``convert_anns_to_json_dataset.py`` of the challenge kit) no longer runs on
Python 3; this module reproduces its output exactly — file order, instance order, ids, category
rule, image list — with the fixes docs/scoring.md (section 2) lists (``counts`` as ``str``, ``area`` as ``int``)
and reports the integrity problems it silently passed over.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .annotations import UNREADABLE, Finding, decode_annotation, image_name_for_annotation
from .atomic import write_text_atomic
from .catalog import Catalog
from .errors import InputError

ProgressCallback = Callable[[int, int], None]

# Per-file payload crossing the process boundary: (category_id, rle, area) per instance.
# One PNG's conversion: (category id, RLE, area, instance id = green value) per instance, and
# its findings. Public so that a caller that decodes the PNGs anyway (the review window's
# background scan) can hand its results to ``convert_annotations`` instead of decoding twice.
FileResult = tuple[list[tuple[int, dict[str, Any], int, int]], list[Finding]]


@dataclass
class ConversionResult:
    """The ground-truth dataset dict and what was found on the way."""

    dataset: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    # the instance id (green value) of each annotation, in the annotations' order: the PNG's
    # own identity of the object, which the viewer uses (the dataset dict has no room for it)
    instance_ids: list[int] = field(default_factory=list)

    @property
    def num_annotations(self) -> int:
        return len(self.dataset["annotations"])


def list_annotation_files(ann_dir: str | os.PathLike[str]) -> list[str]:
    """The PNGs the official converter reads: ``sorted(glob(ann_dir/*.png))``."""
    folder = os.fspath(ann_dir)
    if not os.path.exists(folder):
        raise InputError(f"{folder}: annotation folder not found")
    if not os.path.isdir(folder):
        raise InputError(f"{folder}: not a folder (expected annotations_instance/<split>)")
    files = sorted(glob.glob(os.path.join(glob.escape(folder), "*.png")))
    if not files:
        jpgs = len(glob.glob(os.path.join(glob.escape(folder), "*.jpg")))
        hint = (f"; it holds {jpgs} .jpg files: is this the images folder? The annotations are in "
                "annotations_instance/<split>") if jpgs else ""
        raise InputError(f"{folder}: no annotation PNGs (*.png) in this folder{hint}")
    return files


def decode_for_conversion(path: str, height: int, width: int) -> FileResult:
    """What the conversion keeps of one PNG (the catalogue gives its expected size)."""
    from .catalog import ImageRecord  # noqa: PLC0415 (kept local: runs in worker processes)

    record = ImageRecord(id=-1, file_name=os.path.basename(path), width=width, height=height, split=None)
    decoded = decode_annotation(path, record)
    instances = [(inst.category_id, dict(inst.rle), inst.area, inst.instance_id) for inst in decoded.instances]
    return instances, decoded.findings


def _decode_for_conversion(args: tuple[str, int, int]) -> FileResult:
    return decode_for_conversion(*args)


def convert_annotations(
    ann_dir: str | os.PathLike[str],
    catalog: Catalog,
    first_id: int = 0,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
    decoded: Mapping[str, FileResult] | None = None,
) -> ConversionResult:
    """Build the ground truth of every PNG in ``ann_dir``.

    ``decoded``: PNGs already decoded by ``decode_for_conversion`` (by path as
    ``list_annotation_files`` gives it); only the others are decoded here.

    ``first_id`` 0 reproduces the official numbering, whose annotation id 0 pycocotools can
    never count as matched (docs/scoring.md, section 2); 1 avoids that quirk.
    Raises :class:`InputError` when a PNG names an image that is not in the catalogue (the
    official converter stops there too, with a KeyError).
    """
    if first_id not in (0, 1):
        raise ValueError("first_id must be 0 or 1")
    files = list_annotation_files(ann_dir)
    jobs: list[tuple[str, int, int]] = []
    records = []
    for path in files:
        image_name = image_name_for_annotation(path)
        record = catalog.by_file_name.get(image_name)
        if record is None:
            raise InputError(
                f"{path}: its image {image_name} is not in {catalog.source} "
                "(wrong imgCatIds.json or a stray file in the annotation folder)"
            )
        records.append(record)
        jobs.append((path, record.height, record.width))

    known = decoded or {}
    todo = [job for job in jobs if job[0] not in known]
    fresh: dict[str, FileResult] = {}
    total = len(todo)
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if n_workers > 1 and total >= 8:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            for done, (job, res) in enumerate(zip(todo, pool.map(_decode_for_conversion, todo, chunksize=8),
                                                  strict=True), 1):
                fresh[job[0]] = res
                if progress:
                    progress(done, total)
                if cancelled and cancelled():
                    pool.shutdown(cancel_futures=True)
                    raise InterruptedError("conversion cancelled")
    else:
        for done, job in enumerate(todo, 1):
            fresh[job[0]] = _decode_for_conversion(job)
            if progress:
                progress(done, total)
            if cancelled and cancelled():
                raise InterruptedError("conversion cancelled")
    results = [known[path] if path in known else fresh[path] for path, _h, _w in jobs]

    unreadable = [f for _, fs in results for f in fs if f.code in (UNREADABLE,)]
    if unreadable:
        more = f" (and {len(unreadable) - 1} more unreadable PNGs)" if len(unreadable) > 1 else ""
        raise InputError(unreadable[0].message + more)

    images: list[dict[str, Any]] = []
    seen: set[str] = set()
    annotations: list[dict[str, Any]] = []
    findings: list[Finding] = []
    instance_ids: list[int] = []
    ann_id = first_id
    for record, (instances, file_findings) in zip(records, results, strict=True):
        findings.extend(file_findings)
        if record.file_name not in seen:
            seen.add(record.file_name)
            images.append(catalog.image_dict(record))
        for category_id, rle, area, instance_id in instances:
            instance_ids.append(instance_id)
            # Key order as the official script builds each dict.
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": record.id,
                    "segmentation": rle,
                    "category_id": category_id,
                    "iscrowd": 0,
                    "area": area,
                }
            )
            ann_id += 1
    dataset = {"categories": catalog.categories_json(), "images": images, "annotations": annotations}
    return ConversionResult(dataset=dataset, findings=findings, files=len(jobs), instance_ids=instance_ids)


def dump_ground_truth(dataset: dict[str, Any]) -> str:
    """Serialise as the official script does (``json.dump`` with default separators)."""
    return json.dumps(dataset)


def write_ground_truth(path: str | os.PathLike[str], dataset: dict[str, Any]) -> None:
    write_text_atomic(path, dump_ground_truth(dataset))
