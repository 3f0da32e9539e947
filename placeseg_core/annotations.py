"""Decoding an instance annotation PNG (Red = category, Green = instance id) into instances.

Faults in a file never raise: they come back as :class:`Finding` records, so that a converter
run over 2,000 files reports every problem instead of stopping at the first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import UnidentifiedImageError

from . import rle as rle_utils
from .catalog import ImageRecord
from .errors import InputError
from .safety.images import open_annotation_png

# Finding codes (stable names: tests, the CLI summary and the GUI refer to them).
MULTIPLE_CATEGORIES = "multiple-categories"
CATEGORY_OUT_OF_RANGE = "category-out-of-range"
CATEGORY_ZERO = "category-zero"
SIZE_MISMATCH = "size-mismatch"
NOT_RGB = "not-rgb"
UNREADABLE = "unreadable"
MISSING_FILE = "missing-file"

FINDING_CODES = (
    MULTIPLE_CATEGORIES,
    CATEGORY_OUT_OF_RANGE,
    CATEGORY_ZERO,
    SIZE_MISMATCH,
    NOT_RGB,
    UNREADABLE,
    MISSING_FILE,
)


@dataclass(frozen=True)
class Finding:
    """An integrity problem in an annotation file, as data."""

    code: str
    message: str
    file: str
    instance_id: int | None = None


@dataclass
class Instance:
    """One ground-truth object of an annotation PNG."""

    instance_id: int  # the green value
    category_id: int  # red value at the first pixel in row-major order (official converter)
    area: int
    bbox: tuple[float, float, float, float]  # x, y, w, h (pycocotools toBbox)
    rle: rle_utils.RLE
    red_values: dict[int, int] = field(default_factory=dict)  # red value -> pixel count


@dataclass
class DecodedAnnotation:
    """The instances of one annotation PNG, its label planes and its findings."""

    path: str
    height: int
    width: int
    instances: list[Instance]
    findings: list[Finding]
    category_plane: np.ndarray | None = None  # (H, W) uint8, the red channel
    instance_plane: np.ndarray | None = None  # (H, W) uint8, the green channel

    @property
    def readable(self) -> bool:
        """False when the file was missing or could not be decoded at all."""
        return not any(f.code in (MISSING_FILE, UNREADABLE) for f in self.findings) and self.height > 0

    def mask(self, instance_id: int) -> np.ndarray:
        """Binary mask of one instance (computed from the label plane, no RLE decoding)."""
        if self.instance_plane is None:
            raise ValueError(f"{self.path}: no pixels were read")
        return self.instance_plane == instance_id


def read_label_planes(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, list[Finding]]:
    """Read the red and green planes of an annotation PNG; findings instead of exceptions.

    Returns empty planes (0×0) when nothing could be read.
    """
    p = str(path)
    empty = np.zeros((0, 0), dtype=np.uint8)
    if not os.path.lexists(p):  # a dangling or looping link is not "missing": it is unreadable
        return empty, empty, [Finding(MISSING_FILE, f"{p}: file not found", p)]
    try:
        # a regular file, at most MAX_IMAGE_PIXELS pixels, 8 bits per channel (placeseg_core.safety)
        with open_annotation_png(p) as img:
            mode = img.mode
            img.load()
            if mode in ("RGB", "RGBA"):
                arr = np.asarray(img)
                findings: list[Finding] = []
            else:
                arr = np.asarray(img.convert("RGB"))
                findings = [
                    Finding(
                        NOT_RGB,
                        f"{p}: image mode is {mode}, expected RGB (red = category, green = instance)",
                        p,
                    )
                ]
                if mode in ("L", "LA", "I", "I;16", "1", "F"):
                    # A grey image has no separate category and instance planes: nothing usable.
                    findings = [
                        Finding(
                            UNREADABLE,
                            f"{p}: image mode is {mode} (one channel); an annotation PNG must be RGB "
                            "with red = category and green = instance",
                            p,
                        )
                    ]
                    return empty, empty, findings
    except InputError as exc:
        return empty, empty, [Finding(UNREADABLE, str(exc), p)]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        return empty, empty, [Finding(UNREADABLE, f"{p}: cannot read as PNG ({exc})", p)]
    # Views into the decoded pixels, not copies: the decoder reads each plane once.
    return arr[:, :, 0], arr[:, :, 1], findings


def instances_from_planes(
    red: np.ndarray, green: np.ndarray, path: str = "<memory>", with_rle: bool = True
) -> tuple[list[Instance], list[Finding]]:
    """Instances of a pair of label planes, in ascending instance id, with their findings.

    One pass over the pixels: areas and per-instance red values come from a single bincount of
    ``green * 256 + red``; the category is the red value at the instance's first pixel in
    row-major order, which is what the official converter takes (``Om[imask][0]``).
    """
    findings: list[Finding] = []
    width = green.shape[1]
    g = green.ravel()  # a copy when green is a strided view, which the run search needs anyway
    key = (green.astype(np.uint16) << 8) | red  # instance * 256 + category, per pixel
    pair_counts = np.bincount(key.ravel(), minlength=65536).reshape(256, 256)
    areas = pair_counts.sum(axis=1)
    ids = np.flatnonzero(areas)
    ids = ids[ids != 0]
    if ids.size == 0:
        return [], findings
    # First row-major pixel of each id: the run starts of the row-major flattening are far
    # fewer than the pixels, so a stable unique over them is cheap.
    change = np.flatnonzero(g[1:] != g[:-1]) + 1
    run_starts = np.concatenate(([0], change))
    run_values = g[run_starts]
    uniq, first_run = np.unique(run_values, return_index=True)
    first_pixel = dict(zip(uniq.tolist(), run_starts[first_run].tolist(), strict=True))
    rles = rle_utils.label_image_to_rles(green, ids) if with_rle else []
    boxes = rle_utils.bbox(rles) if with_rle else np.zeros((len(ids), 4))
    instances: list[Instance] = []
    for k, inst_id in enumerate(ids.tolist()):
        row = pair_counts[inst_id]
        reds = {int(v): int(row[v]) for v in np.flatnonzero(row)}
        fp = first_pixel[inst_id]
        category = int(red[fp // width, fp % width])
        if len(reds) > 1:
            detail = ", ".join(f"{v}: {n} px" for v, n in sorted(reds.items()))
            findings.append(
                Finding(
                    MULTIPLE_CATEGORIES,
                    f"{path}: instance {inst_id} carries {len(reds)} red values ({detail}); "
                    f"the official converter takes {category}, the first in row-major order",
                    path,
                    inst_id,
                )
            )
        if category == 0:
            findings.append(
                Finding(CATEGORY_ZERO, f"{path}: instance {inst_id} has red value 0 (no category)", path, inst_id)
            )
        elif category > 100:
            findings.append(
                Finding(
                    CATEGORY_OUT_OF_RANGE,
                    f"{path}: instance {inst_id} has category {category}, outside 1..100",
                    path,
                    inst_id,
                )
            )
        instances.append(
            Instance(
                instance_id=inst_id,
                category_id=category,
                area=int(areas[inst_id]),
                bbox=tuple(float(x) for x in boxes[k]),  # type: ignore[arg-type]
                rle=rles[k] if with_rle else {"size": [0, 0], "counts": ""},
                red_values=reds,
            )
        )
    return instances, findings


def decode_annotation(
    path: str | os.PathLike[str],
    image: ImageRecord | None = None,
    keep_planes: bool = False,
    with_rle: bool = True,
) -> DecodedAnnotation:
    """Decode one annotation PNG; compare its size with the catalogue's when ``image`` is given."""
    p = str(path)
    red, green, findings = read_label_planes(p)
    if green.size == 0 and findings:
        return DecodedAnnotation(p, 0, 0, [], findings)
    height, width = green.shape
    if image is not None and (image.height, image.width) != (height, width):
        findings.append(
            Finding(
                SIZE_MISMATCH,
                f"{p}: PNG is {width}×{height} (W×H) but imgCatIds.json gives "
                f"{image.width}×{image.height} for {image.file_name}",
                p,
            )
        )
    instances, inst_findings = instances_from_planes(red, green, p, with_rle=with_rle)
    findings.extend(inst_findings)
    return DecodedAnnotation(
        p,
        height,
        width,
        instances,
        findings,
        category_plane=red if keep_planes else None,
        instance_plane=green if keep_planes else None,
    )


def annotation_name_for_image(file_name: str) -> str:
    """``ADE_val_00000001.jpg`` -> ``ADE_val_00000001.png``."""
    return Path(file_name).with_suffix(".png").name


def image_name_for_annotation(png_name: str) -> str:
    """The official converter's mapping: the PNG's base name with ``.png`` replaced by ``.jpg``."""
    return os.path.basename(png_name).replace(".png", ".jpg")
