"""Opening image files (annotation PNGs, photos) safely: regular files, bounded pixel counts,
and PNG bit depths said out loud.

Pillow reads a 16-bit RGB PNG as 8-bit RGB without a word (it keeps the high byte of each
channel), which for an annotation PNG silently changes every category and instance id; and a
small file can declare 60000 x 60000 pixels (a "decompression bomb"). Both are caught here,
from the file's header, before any pixel is decoded.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from .files import read_input_bytes
from .numbers import MAX_IMAGE_PIXELS

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale with alpha", 6: "RGBA"}


class ImageFileError(InputError):
    """An image file cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int
    bit_depth: int
    colour_type: int

    @property
    def description(self) -> str:
        kind = _COLOUR_TYPES.get(self.colour_type, f"colour type {self.colour_type}")
        return f"{self.bit_depth}-bit {kind}"


def png_header(data: bytes) -> PngHeader | None:
    """The IHDR fields of PNG bytes, or None if they are not a PNG."""
    if len(data) < 26 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return PngHeader(width, height, depth, colour)


def annotation_png_problem(header: PngHeader | None) -> str | None:
    """Why an annotation PNG's pixel format cannot be read as category / instance planes."""
    if header is None:
        return None  # not a PNG: Pillow says what it is (or that it cannot tell)
    if header.bit_depth == 16:
        return (f"is a {header.description} PNG; an annotation PNG must be 8-bit RGB "
                "(16-bit channels would be cut to their high byte, changing every id)")
    return None


def open_image(path: str | os.PathLike[str], what: str = "image") -> Image.Image:
    """Open an image file for decoding: a regular file of at most
    :data:`~placeseg_core.safety.numbers.MAX_IMAGE_PIXELS` pixels.

    Raises :class:`ImageFileError` naming the file (``what`` says which kind, for messages).
    Only the header has been read when this returns; ``.load()`` decodes the pixels.
    """
    return _open(os.fspath(path), what)[0]


def open_annotation_png(path: str | os.PathLike[str]) -> Image.Image:
    """:func:`open_image` for an annotation PNG, refusing pixel formats Pillow would read
    wrongly without a word (16 bits per channel)."""
    p = os.fspath(path)
    img, header = _open(p, "annotation PNG")
    problem = annotation_png_problem(header)
    if problem is not None:
        img.close()
        raise ImageFileError(f"{p}: {problem}")
    return img


def _open(p: str, what: str) -> tuple[Image.Image, PngHeader | None]:
    data = read_input_bytes(p)
    header = png_header(data)
    if header is not None and header.width * header.height > MAX_IMAGE_PIXELS:
        raise ImageFileError(_too_many_pixels(p, what, header.width, header.height))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFileError(f"{p}: the {what} declares more pixels than the limit of "
                             f"{MAX_IMAGE_PIXELS:,} (a decompression bomb?)") from None
    except UnidentifiedImageError:
        kind = "PNG" if what == "annotation PNG" else "an image"
        raise ImageFileError(f"{p}: cannot read as {kind} (not an image file Pillow recognises)") from None
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise ImageFileError(f"{p}: cannot read the {what} ({exc})") from None
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        img.close()
        raise ImageFileError(_too_many_pixels(p, what, width, height))
    return img, header


def _too_many_pixels(path: str, what: str, width: int, height: int) -> str:
    return (f"{path}: the {what} is {width} x {height} = {width * height:,} pixels, above the "
            f"limit of {MAX_IMAGE_PIXELS:,} (a decompression bomb?)")
