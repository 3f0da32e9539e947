"""Reading JSON files the user gives us, with a one-line reason instead of a traceback."""

from __future__ import annotations

import gc
import json
import mmap
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .safety.files import read_input_bytes


@dataclass(frozen=True)
class JsonSyntaxProblem:
    """Where and why a file is not valid JSON (1-based line and column)."""

    message: str
    line: int | None
    column: int | None
    position: int | None


class JsonFileError(InputError):
    """A JSON file cannot be read or parsed; ``syntax`` is set for parse errors."""

    def __init__(self, message: str, syntax: JsonSyntaxProblem | None = None) -> None:
        super().__init__(message)
        self.syntax = syntax


@contextmanager
def paused_gc() -> Iterator[None]:
    """Suspend the cyclic garbage collector while parsing large JSON.

    ``json.loads`` of a 200k-item submission creates millions of containers, which triggers
    repeated full collections that find nothing (parsed JSON has no cycles): pausing them makes
    parsing about a third faster. The previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Between two items of a top-level list: the only places a large list is cut (see loads()).
_ITEM_BOUNDARY = re.compile(r"\}[ \t\r\n]*,[ \t\r\n]*\{")  # JSON's whitespace only
_ITEM_BOUNDARY_BYTES = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*\{")
_LIST_START = re.compile(rb"[ \t\r\n]*\[")  # JSON's own whitespace, then the list
_PIECE_CHARS = 1 << 17


def in_worker_thread() -> bool:
    """True off the main thread: there (a GUI's workers) long GIL holds are split into pieces;
    the main thread (the CLI) takes the faster single calls."""
    return threading.current_thread() is not threading.main_thread()


def loads(text: str) -> Any:
    """``json.loads`` with the collector paused, in pieces for a large top-level list.

    One ``json.loads`` of a 50 MB submission holds the GIL for half a second, which freezes a
    GUI whose worker thread is parsing. In a worker thread, a large list is therefore parsed in
    pieces of about 128 KB (about 1 ms each), cut only between two items (``}, {``), so other
    threads -- the GUI's, which needs the GIL for every call into Python -- run between
    pieces. A cut that falls inside a string or a nested value leaves a piece with an open
    string or bracket, which cannot parse; any failure falls back to one ``json.loads`` of the
    whole text, so results and error positions are exactly ``json.loads``'.
    """
    with paused_gc():
        # Only a worker thread needs to share the GIL; the main thread (the CLI) parses in one
        # call, which is about 10% faster (no piece copies).
        if in_worker_thread() and len(text) > 2 * _PIECE_CHARS and text.lstrip().startswith("["):
            items = _loads_list_in_pieces(text)
            if items is not None:
                return items
        return json.loads(text)


def loads_list_bytes(raw: bytes | mmap.mmap) -> list[Any] | None:
    """A large top-level JSON list parsed straight from its bytes, in pieces, in a worker
    thread; None anywhere else, or when any piece fails (the caller then decodes and parses
    the whole text as before, for the exact messages).

    Decoding first is one call: ``str(raw, "utf-8")`` of a 142 MB file holds the GIL for
    100 ms or more (longer still for a memory-mapped file not yet read from disk), a freeze of
    the GUI thread whatever the pieces do after it. ``json.loads`` takes bytes, and a cut at
    ``}, {`` never falls inside a UTF-8 sequence, so each piece is decoded on its own.
    """
    if not in_worker_thread() or len(raw) <= 2 * _PIECE_CHARS or not _LIST_START.match(raw):
        return None
    with paused_gc():
        return _loads_list_in_pieces(raw)


def _loads_list_in_pieces(text: Any) -> list[Any] | None:
    """``text``: a str, or bytes (or a memory map) holding UTF-8."""
    as_bytes = not isinstance(text, str)
    boundary = _ITEM_BOUNDARY_BYTES if as_bytes else _ITEM_BOUNDARY
    opening, closing = (b"[", b"]") if as_bytes else ("[", "]")
    cuts: list[tuple[int, int]] = []  # (index of the closing brace, index of the next opening one)
    pos = _PIECE_CHARS
    while pos < len(text):
        match = boundary.search(text, pos)
        if match is None:
            break
        cuts.append((match.start(), match.end() - 1))
        pos = match.end() + _PIECE_CHARS
    if not cuts:
        return None
    starts = [0] + [nxt for _, nxt in cuts]
    ends = [close + 1 for close, _ in cuts] + [len(text)]
    items: list[Any] = []
    try:
        for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
            piece = text[a:b]
            if k > 0:
                piece = opening + piece
            if k < len(cuts):
                piece = piece + closing
            part = json.loads(piece)
            if not isinstance(part, list):
                return None
            items.extend(part)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return items


def read_json_file(path: str | os.PathLike[str], what: str = "") -> Any:
    """Parse a JSON file. ``NaN`` and ``Infinity`` are accepted (Python's json writes them).

    Only a regular file within the input size limit is read (:mod:`placeseg_core.safety`).
    Raises :class:`JsonFileError` naming the file, and the line and column for syntax errors.
    """
    try:
        raw = read_input_bytes(path, what)
    except InputError as exc:
        raise JsonFileError(str(exc)) from None
    return parse_json_bytes(raw, os.fspath(path))


def parse_json_bytes(raw: bytes, source: str = "<memory>") -> Any:
    """Parse JSON bytes (see :func:`read_json_file`)."""
    if not raw.strip():
        raise JsonFileError(
            f"{source}: the file is empty",
            JsonSyntaxProblem("the file is empty", 1, 1, 0),
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        # json.load (and so pycocotools, and the official evaluation) refuses a BOM: so do we.
        raise JsonFileError(
            f"{source}: starts with a UTF-8 byte-order mark, which json.load (and so the official "
            "evaluation) rejects; save the file without BOM",
            JsonSyntaxProblem("UTF-8 byte-order mark", 1, 1, 0),
        )
    items = loads_list_bytes(raw)
    if items is not None:
        return items
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonFileError(
            f"{source}: not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})",
            JsonSyntaxProblem("not UTF-8 text", None, None, exc.start),
        ) from None
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise JsonFileError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {json_reason(exc, text)}",
            JsonSyntaxProblem(json_reason(exc, text), exc.lineno, exc.colno, exc.pos),
        ) from None
    except RecursionError:
        raise JsonFileError(
            f"{source}: JSON nested too deeply to read",
            JsonSyntaxProblem("nested too deeply", None, None, None),
        ) from None
    except ValueError as exc:  # e.g. integers with more digits than Python allows by default
        raise JsonFileError(
            f"{source}: cannot read a value: {exc}",
            JsonSyntaxProblem(str(exc), None, None, None),
        ) from None


def json_reason(exc: json.JSONDecodeError, text: str | None = None) -> str:
    """``json``'s reason as a whole phrase: its messages are written to be followed by a
    position ("Unterminated string starting at"), which our messages give separately."""
    msg = exc.msg
    for tail in (" starting at", " at"):
        if msg.endswith(tail):
            msg = msg[: -len(tail)]
            break
    msg = msg[:1].lower() + msg[1:]
    if msg == "unterminated string":
        msg += " (it runs to the end of the file, which may be cut short)"
    elif text is not None and exc.pos >= len(text.rstrip()):
        msg += " (the file ends there: it may be cut short)"
    return msg


def release_in_pieces(items: Any, piece: int = 4096) -> None:
    """Empty a large parsed list a few thousand items at a time.

    Freeing 200k parsed predictions is one C-level operation of ~90 ms that holds the GIL
    throughout; in a worker thread that freezes a GUI for as long (measured in the window's
    validation). Between pieces other threads run. Anything but a list is left alone.
    """
    if isinstance(items, list):
        while items:
            del items[-piece:]
