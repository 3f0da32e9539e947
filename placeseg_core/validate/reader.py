"""Reading a submission file into Python objects, turning every failure into a located problem.

Whatever the file holds — nothing, a folder, bytes that are not UTF-8, a truncated list,
nesting a million levels deep, a number with 10,000 digits — the result is a problem in the
report, never an exception. Files above a size limit are refused before reading, so a stray
multi-gigabyte file cannot exhaust memory.
"""

from __future__ import annotations

import json
import mmap
import os
from typing import Any

from ..errors import InputError
from ..jsonio import json_reason, loads, loads_list_bytes
from ..safety.files import DEFAULT_MAX_BYTES, human_size, open_input
from .report import ProblemCollector

_BOM = b"\xef\xbb\xbf"


class _Failed:
    """The file gave no items (the reason is in the collector)."""


FAILED = _Failed()



def _line_column(raw: bytes | mmap.mmap, pos: int) -> tuple[int, int]:
    before = bytes(raw[:pos])
    return before.count(b"\n") + 1, pos - (before.rfind(b"\n") + 1) + 1


def read_bytes(path: str | os.PathLike[str], out: ProblemCollector, max_bytes: int) -> bytes | mmap.mmap | _Failed:
    """The file's bytes: memory-mapped when possible (decoding then reads the page cache
    directly, without first copying the whole file), else read. Only a regular file is
    opened (a FIFO or a device would hang or never end: :mod:`placeseg_core.safety`)."""
    p = os.fspath(path)
    try:
        handle = open_input(p, max_bytes=1 << 62)  # the size is judged here, with its own code
    except InputError as exc:
        out.add("unreadable-file", str(exc))
        return FAILED
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            # the default limit is far above any real submission; a lowered one is the user's
            why = ("(even a full test submission, 255 masks for each of 3,352 images, is smaller); "
                   "reading it would need about five times its size in memory"
                   if max_bytes >= DEFAULT_MAX_BYTES else "")
            out.add("file-too-large", f"{p}: {human_size(size)} is above the limit of {human_size(max_bytes)} {why}".rstrip())
            return FAILED
        try:
            if size > 0:
                try:
                    mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                except (OSError, ValueError):
                    mapped = None
                if mapped is not None and len(mapped) <= max_bytes:
                    return mapped
                if mapped is not None:
                    mapped.close()
            raw = handle.read(max_bytes + 1)
        except OSError as exc:
            out.add("unreadable-file", f"{p}: cannot read ({exc.strerror or exc})")
            return FAILED
    if len(raw) > max_bytes:  # grew while we looked
        out.add("file-too-large", f"{p}: more than {human_size(max_bytes)}")
        return FAILED
    return raw


def parse_submission(
    raw: bytes | mmap.mmap, source: str, out: ProblemCollector, where: dict[str, Any] | None = None
) -> Any:
    """JSON text -> Python objects; ``NaN``/``Infinity`` are read (as Python's json writes them).

    On a syntax error, ``where`` (if given) receives its ``line`` and ``column``.
    """
    where = {} if where is None else where
    if raw[: len(_BOM)] == _BOM:
        out.add(
            "json-syntax",
            f"{source}: line 1, column 1: the file starts with a UTF-8 byte-order mark, which "
            "json.load (and so the official evaluation) rejects; save it without BOM",
        )
        raw = raw[len(_BOM):]
    items = loads_list_bytes(raw)
    if items is not None:
        return items
    try:
        text = str(raw, "utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_column(raw, exc.start)
        where.update(line=line, column=col)
        out.add(
            "json-syntax",
            f"{source}: line {line}, column {col}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
        )
        return FAILED
    del raw
    if not text or text.isspace():
        where.update(line=1, column=1)
        out.add("json-syntax", f"{source}: line 1, column 1: the file is empty")
        return FAILED
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        where.update(line=exc.lineno, column=exc.colno)
        out.add("json-syntax", f"{source}: line {exc.lineno}, column {exc.colno}: {json_reason(exc)}")
    except RecursionError:
        out.add("json-syntax", f"{source}: the JSON is nested too deeply to read")
    except MemoryError:
        out.add("file-too-large", f"{source}: not enough memory to read the file")
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        out.add("json-syntax", f"{source}: a value cannot be read: {exc}")
    return FAILED
