"""Bounds on the numbers of the inputs, checked before they reach numpy or pycocotools.

JSON integers have no size limit in Python: a 400-digit ``image_id`` parses fine and then
raises ``OverflowError`` deep inside numpy (int64 columns) or pycocotools (its C sizes). Each
field is checked here where it is read, so the message names the file, the item and the field.
"""

from __future__ import annotations

import math
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

#: The most pixels an image (or a mask's ``size``) may have for the tool to draw or rasterise
#: it: Pillow's own decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``, about 9,459 x
#: 9,459). The largest ADE20K and COCO images are far smaller.
MAX_IMAGE_PIXELS = 89_478_485


def is_int(value: Any) -> bool:
    """A JSON integer (``True``/``False`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_int64(value: Any) -> bool:
    """A JSON integer that a numpy int64 column can hold."""
    return is_int(value) and INT64_MIN <= value <= INT64_MAX


def is_number(value: Any) -> bool:
    """A JSON number (int or float, not a bool), of any size."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_float(value: Any) -> float | None:
    """``value`` as a float64, or None if it is not a number or too large for one."""
    if not is_number(value):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond +-1.8e308
        return None


def is_finite_number(value: Any) -> bool:
    """A JSON number that is a finite float64 (not NaN, +-Infinity or a 400-digit integer)."""
    f = as_float(value)
    return f is not None and math.isfinite(f)


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages (a 400-digit number would
    otherwise fill the terminal)."""
    if is_int(value) and abs(value) > 10**30:
        digits = len(str(abs(value)))
        return f"{'-' if value < 0 else ''}an integer of {digits} digits"
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return "a number too long to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def image_side_problem(value: Any, field: str) -> str | None:
    """Why ``value`` cannot be an image's height or width, or None."""
    if not is_int(value):
        return f"{field}: expected a positive integer, got {short(value)}"
    if value <= 0:
        return f"{field}: expected a positive integer, got {value}"
    if value > MAX_IMAGE_PIXELS:
        return f"{field}: {short(value)} pixels is not a usable image side"
    return None


def image_area_problem(height: int, width: int) -> str | None:
    """Why a height x width image is too large to draw or rasterise, or None."""
    if height * width > MAX_IMAGE_PIXELS:
        return (f"{width} x {height} = {height * width:,} pixels is above the limit of "
                f"{MAX_IMAGE_PIXELS:,} pixels (Pillow's decompression-bomb limit)")
    return None
