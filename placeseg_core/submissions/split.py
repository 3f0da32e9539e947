"""Parse a large submission in two processes: a forked helper parses the tail of the file while
this process loads the ground truth and parses the head.

``json.loads`` plus column building is ~0.5 s of single-threaded work for 200k predictions,
a third of the fast engine's time. The file is cut between two top-level items (``}, {``, as
:func:`placeseg_core.jsonio.loads` cuts it); the helper parses its part in pieces and sends
each back as compact columns (numpy arrays, and the RLE strings as one joined string plus
lengths, which pickle much faster than 100k dicts), so this process rebuilds the RLE dicts of
one piece while the helper parses the next. Any doubt -- a cut that is not an item boundary
(then a piece fails to parse), an item the bulk path would not take, a helper that fails --
falls back to the single-process loader, so results and messages are exactly the same.
"""

from __future__ import annotations

import json
import mmap
import os
import pickle
import re
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..jsonio import paused_gc
from ..processes import choose_workers, start_helper, stop_helper
from ..safety.files import open_input
from .columns import Columns, extract_columns, load_in_one_process
from .model import Submission, first_item_uses_bbox

#: Smaller files parse in well under 0.1 s: a helper would cost more than it saves.
MIN_BYTES = 4 << 20
#: Where the cuts go (shares of the file). This process parses up to the first cut; it also
#: loads the ground truth and rebuilds the helper's RLE dicts, so it takes less than half. The
#: helper's pieces get smaller towards the end so that little is left to rebuild after its
#: last message (measured on the 200k benchmark).
CUT_SHARES = (0.44, 0.61, 0.76, 0.88, 0.96)
_BOUNDARY = re.compile(rb"\}\s*,\s*\{")
_WINDOW = 1 << 16


@dataclass
class SplitLoad:
    """A submission whose tail a forked helper is parsing (see :func:`start_split_load`)."""

    path: str | os.PathLike[str]
    close: int  # offset of the '}' ending this process's last item
    pieces: int  # messages the helper sends
    process: BaseProcess
    conn: Connection
    shared: mmap.mmap  # where the helper writes the pieces' columns

    def abandon(self) -> None:
        """Stop the helper (the caller failed before it needed the submission)."""
        stop_helper(self.process)
        self.conn.close()
        self.shared.close()


def _find_cuts(path: Path, size: int) -> list[tuple[int, int]] | None:
    """(offset of '}', offset of the next '{') near each share of the file; None if unusual."""
    cuts: list[tuple[int, int]] = []
    with open_input(path) as handle:
        # a file with a byte-order mark is refused by the single-process loader, which says why
        first = handle.read(_WINDOW).lstrip()
        if not first.startswith(b"[") or not _first_item_is_rle(first):
            return None
        for share in CUT_SHARES:
            offset = max(int(size * share), cuts[-1][1] + 1 if cuts else 0)
            handle.seek(offset)
            match = _BOUNDARY.search(handle.read(_WINDOW))
            if match is not None:
                cuts.append((offset + match.start(), offset + match.end() - 1))
    return cuts or None


def _first_item_is_rle(head: bytes) -> bool:
    """False when the file's first item (if it fits in ``head``) has a mask that is not a
    compressed RLE: polygons, run lists or boxes (see :mod:`.shapes`) take the per-item loader,
    so a helper parsing the tail would be wasted (the head would be parsed twice)."""
    try:
        text = head[1:].decode("utf-8", errors="ignore")
        item, _ = json.JSONDecoder().raw_decode(text, len(text) - len(text.lstrip()))
    except ValueError:
        return True  # cut inside the first item: let the usual path decide
    seg = item.get("segmentation") if isinstance(item, dict) else None
    return isinstance(seg, dict) and isinstance(seg.get("counts"), str)


def load_submission(path: str | os.PathLike[str], workers: int | None = None) -> Submission:
    """Read a submission file into columns: with a forked helper parsing its tail when that pays
    and forking is safe (``workers``: None decides, 1 never forks, 2+ is the caller's word that
    forking is safe), else in this process. Same columns and messages either way; raises
    :class:`~placeseg_core.submissions.SubmissionError` (or another InputError) when unusable."""
    split = start_split_load(path, workers)
    return load_in_one_process(path) if split is None else finish_split_load(split)


def start_split_load(path: Any, workers: int | None) -> SplitLoad | None:
    """Find the cuts and fork the helper; None when not worth it, unsafe or unusual (then the
    caller loads the file as before, with the same messages)."""
    # the policy of every helper (the fast engine's parts too): fork when it pays and is safe
    if not isinstance(path, (str, os.PathLike)) or choose_workers(workers, worth_it=True) < 2:
        return None
    try:
        p = Path(path)
        if not p.is_file() or p.stat().st_size < MIN_BYTES:
            return None  # small, or not a regular file: the single-process loader says which
        cuts = _find_cuts(p, p.stat().st_size)
    except (OSError, ValueError, InputError):
        return None
    if cuts is None:
        return None
    starts = [nxt for _, nxt in cuts]
    ends = [close + 1 for close, _ in cuts[1:]] + [-1]  # -1: to the end of the file
    # Trick: the pieces travel through a shared anonymous mapping, the pipe carries only their
    # places. Through the pipe alone the helper would block on its first piece until we read
    # it (a pipe holds 64 KB), i.e. until we have parsed our own part: no overlap at all. The
    # columns are smaller than their JSON text (bboxes aside), so twice the text always fits;
    # pages are only committed where written.
    try:
        shared = mmap.mmap(-1, 2 * (p.stat().st_size - starts[0]) + (1 << 20))
    except OSError:  # no memory left: load in this process, as before
        return None
    helper = start_helper(_parse_tail, p, starts, ends, shared)
    if helper is None:  # no memory or processes left: load in this process, as before
        shared.close()
        return None
    return SplitLoad(path, cuts[0][0], len(starts), helper[0], helper[1], shared)


def _parse_tail(conn: Connection, path: Path, starts: list[int], ends: list[int], shared: mmap.mmap) -> None:
    """In the helper: read the file from the first cut and send each piece's packed columns."""
    pos = 0
    try:
        with open(path, "rb") as handle:
            handle.seek(starts[0])
            raw = handle.read()
        base = starts[0]
        with paused_gc():
            for a, b in zip(starts, ends, strict=True):
                # '[' + items + ']' (the last piece already ends with the file's ']'). UTF-8
                # never uses the bytes of '{' or '}' inside a character, so decoding the pieces
                # separately gives the same text as decoding the whole.
                chunk = raw[a - base:] if b < 0 else raw[a - base:b - base]
                text = "[" + str(chunk, "utf-8") + ("" if b < 0 else "]")
                items = json.loads(text)
                # box column when every item has one: the helper does not know the first item
                cols = extract_columns(items, "if_usable") if isinstance(items, list) else None
                data = None if cols is None else pickle.dumps(_pack(cols), protocol=5)
                if data is None or pos + len(data) > len(shared):
                    conn.send(None)
                    break
                shared[pos : pos + len(data)] = data
                conn.send((pos, len(data)))
                pos += len(data)
                del items, text, chunk
    except BaseException:  # noqa: BLE001 -- any failure: tell the parent, which falls back
        try:
            conn.send(None)
        except OSError:
            pass
    conn.close()


def _pack(cols: Columns) -> dict[str, Any]:
    lengths = np.fromiter(map(len, cols.counts), dtype=np.int64, count=len(cols.counts))
    return {
        "image_ids": cols.image_ids, "category_ids": cols.category_ids, "scores": cols.scores,
        # fromiter: half the time of np.array on a list of lists; overflow raises -> fallback
        "sizes": cols.hw.ravel(),
        # one string instead of 100k: much cheaper to pickle and unpickle
        "counts": "".join(cols.counts), "lengths": lengths,
        "bboxes": cols.bboxes, "extra": cols.extra, "areas": cols.areas,
    }


def _unpack_segs(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The helper's RLE dicts, rebuilt (pycocotools' mask functions need ``dict`` objects)."""
    ends = np.cumsum(payload["lengths"]).tolist()
    blob = payload["counts"]
    counts = [blob[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    # one [h, w] list per distinct size, shared (read only, as pycocotools reads it): a list per
    # prediction would be 72 bytes times 100k for the same few sizes
    # (and faster than a list per item: one unique over packed keys)
    hw = payload["sizes"].reshape(-1, 2)
    if len(hw) and int(hw.max()) < (1 << 31):
        distinct, which = np.unique((hw[:, 0] << 32) | hw[:, 1], return_inverse=True)
        lists = [[k >> 32, k & 0xFFFFFFFF] for k in distinct.tolist()]
        sizes = [lists[i] for i in which.tolist()]
    else:  # absurd sizes (which pycocotools would refuse later): one list each, as parsed
        sizes = hw.tolist()
    return [{"size": s, "counts": c} for s, c in zip(sizes, counts, strict=True)]


def finish_split_load(split: SplitLoad) -> Submission:
    """The whole submission: this process's head plus the helper's pieces, or the single-process
    loader's result (and messages) when anything is unusual."""
    parts = _collect(split)
    if parts is None:
        return load_in_one_process(split.path)
    head, payloads = parts
    segs = head.segs
    with paused_gc():
        for payload in payloads:
            segs += payload.pop("segs")
    bboxes = None if head.bboxes is None else np.concatenate([head.bboxes] + [p["bboxes"] for p in payloads])
    extra = head.extra.union(*(p["extra"] for p in payloads))
    def joined(key: str) -> np.ndarray:
        return np.concatenate([getattr(head, key)] + [p[key] for p in payloads])

    return Submission(
        image_ids=joined("image_ids"), category_ids=joined("category_ids"), scores=joined("scores"),
        rles=segs, bboxes=bboxes, source=str(split.path), extra_fields=extra,
        mask_sizes=np.concatenate([head.hw] + [p["sizes"].reshape(-1, 2) for p in payloads]),
        mask_areas=joined("areas"),
    )


def _collect(split: SplitLoad) -> tuple[Columns, list[dict[str, Any]]] | None:
    """Parse the head, then take the helper's pieces as they come; None on any doubt."""
    payloads: list[dict[str, Any]] = []
    try:
        with paused_gc():
            with open_input(split.path) as handle:
                raw = handle.read(split.close + 1)
            items = json.loads(raw.decode("utf-8") + "]")
            del raw
            if not isinstance(items, list) or not items:
                return None
            # the first item decides box areas for the whole file (pycocotools' loadRes)
            head = extract_columns(items, "required" if first_item_uses_bbox(items[0]) else "no")
            del items
            if head is None:
                return None
            for _ in range(split.pieces):
                place = split.conn.recv()
                if place is None:
                    return None
                payload = pickle.loads(split.shared[place[0] : place[0] + place[1]])
                if head.bboxes is not None and payload["bboxes"] is None:
                    return None
                # rebuilt now, while the helper parses its next piece
                payload["segs"] = _unpack_segs(payload)
                payloads.append(payload)
    except Exception:  # noqa: BLE001 -- whatever it is, the single-process loader says it
        return None
    finally:
        if len(payloads) < split.pieces:  # gave up early: stop the helper now
            stop_helper(split.process)
        # else it exits by itself; multiprocessing reaps it later (at the next process start or
        # at exit). Joining here would wait ~60 ms for the kernel to free its memory.
        split.conn.close()
        split.shared.close()
    return head, payloads
