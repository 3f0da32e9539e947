"""The input-safety layer: every file, number and mask the user gives passes through here
before numpy, Pillow or pycocotools sees it (see docs/adr/0003-input-safety.md).

- :mod:`.files`: only regular files are read, within a size limit, and remembered as inputs;
- :mod:`.numbers`: integers bounded to what the columns and pycocotools hold, floats finite;
- :mod:`.masks`: compressed and uncompressed RLE and polygons checked before pycocotools;
- :mod:`.images`: image files with bounded pixel counts, annotation PNGs in 8-bit RGB;
- :mod:`.rledecode`: the vectorised RLE decoder the mask checks and the validator share.
"""

from .files import (
    DEFAULT_MAX_BYTES,
    NotARegularFile,
    check_input,
    human_size,
    max_input_bytes,
    open_input,
    read_input_bytes,
    set_max_input_bytes,
    was_read,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NotARegularFile",
    "check_input",
    "human_size",
    "max_input_bytes",
    "open_input",
    "read_input_bytes",
    "set_max_input_bytes",
    "was_read",
]
