"""The hostile-input corpus: generators, runners and checks shared by test_hostile_cli.py and
test_hostile_window.py.

Everything is generated under pytest's tmp_path (no committed data). Inputs are organised by
failure class; each test module parametrizes (class, instance, command) over the tables here.

Commands that could hang or kill the process (FIFOs, devices, bad RLEs and polygons, PNG bombs)
run in subprocesses with a timeout and an address-space limit, many at once in a background
pool (:class:`BatchRunner`) so that a hanging case costs wall time only once. A process blocked
opening a FIFO (kernel wait channel ``wait_for_partner``: no writer will ever come) is a hang and
is stopped at once instead of waiting for the timeout.

Run as a script, ``python tests/hostile_corpus.py window-probe SPEC.json`` opens an input in the
real window (offscreen), waits for an error or for the window to settle, then opens a good data
set, and prints what happened as one JSON line: the window cases that could crash the process
(NaN polygons, device files, decompression bombs) run so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

BIG = "9" * 400  # a 400-digit integer, written into JSON text as it is
SUBPROCESS_TIMEOUT = 60.0
CLI_MEMORY_LIMIT = 2 << 30  # address space of a CLI subprocess: a runaway allocation fails, the machine lives
WINDOW_MEMORY_LIMIT = 6 << 30  # Qt maps a lot of address space
PARALLEL = 4
WAIT_FOR_PARTNER = "wait_for_partner"  # a thread blocked in open() of a FIFO without a partner
BAD_PNG = "ADE_val_00000001.png"  # the annotation PNG the PNG cases replace (image 20210, shown first)
BAD_ITEM = 3  # the prediction item (and ground-truth annotation) the item-level cases spoil


# ----------------------------------------------------------------------------- the demo set


@dataclass(frozen=True)
class Demo:
    """The tiny demo set (3 images, seed 1) and its converted ground truth (``gt.json`` inside)."""

    root: Path

    @property
    def ann_dir(self) -> Path:
        return self.root / "annotations_instance" / "validation"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def catalog(self) -> Path:
        return self.root / "imgCatIds.json"

    @property
    def preds(self) -> Path:
        return self.root / "predictions.json"

    @property
    def gt(self) -> Path:
        return self.root / "gt.json"

    @property
    def bad_png(self) -> Path:
        return self.ann_dir / BAD_PNG

    def items(self) -> list[dict]:
        return json.loads(self.preds.read_text())

    def gt_doc(self) -> dict:
        return json.loads(self.gt.read_text())

    def catalog_doc(self) -> dict:
        return json.loads(self.catalog.read_text())

    def all_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file() and not p.is_symlink())


def build_demo_set(root: Path) -> Demo:
    from placeseg_core.catalog import load_catalog
    from placeseg_core.convert import convert_annotations, write_ground_truth
    from placeseg_core.demo import build_demo

    build_demo(root, n_images=3, seed=1)
    demo = Demo(root)
    result = convert_annotations(demo.ann_dir, load_catalog(demo.catalog), workers=1)
    write_ground_truth(demo.gt, result.dataset)
    return demo


def copy_demo(demo: Demo, dst: Path) -> Demo:
    shutil.copytree(demo.root, dst, symlinks=True)
    return Demo(dst)


# ------------------------------------------------------------------------------ JSON text


def json_text(obj: Any, raw: dict[str, str] | None = None) -> str:
    """``json.dumps`` (NaN and Infinity allowed), then placeholders replaced by raw JSON text."""
    text = json.dumps(obj, allow_nan=True)
    for key, value in (raw or {}).items():
        quoted = json.dumps(key)
        assert quoted in text, key
        text = text.replace(quoted, value)
    return text


def write_json(path: Path, obj: Any, raw: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_text(obj, raw), encoding="utf-8")
    return path


def big_items(demo: Demo, min_bytes: int = 5_000_000) -> list[dict]:
    items = demo.items()
    one = len(json.dumps(items))
    return items * (min_bytes // one + 1)


def write_big_predictions(demo: Demo, path: Path, bom: bool = False) -> Path:
    data = json.dumps(big_items(demo)).encode()
    assert len(data) >= 4 << 20  # evaluate's split loader takes files of 4 MiB and more
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


# --------------------------------------------------------------------------------- RLEs


def rle_string(runs: Iterable[int]) -> str:
    """pycocotools' rleToString for any runs (negative and huge ones too)."""
    cnts = list(runs)
    out = []
    for i, run in enumerate(cnts):
        x = run - cnts[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def truncated_inside_a_number(counts: str) -> str:
    """A real counts string cut right after a character that announces a continuation."""
    cont = [i for i, ch in enumerate(counts) if (ord(ch) - 48) & 0x20]
    assert cont, "no multi-character number in this RLE"
    return counts[: cont[-1] + 1]


@dataclass(frozen=True)
class RleCase:
    name: str
    make: Callable[[str, int, int], dict]  # (real counts, h, w) -> segmentation
    fields: tuple[str, ...]  # the located field names accepted (any of them)
    tolerant: bool = False  # scoring it (exit 0, with a size warning) is acceptable too


_C = ("segmentation.counts",)
_CS = ("segmentation.counts", "segmentation.size")
RLE_CASES: tuple[RleCase, ...] = (
    RleCase("counts-P", lambda s, h, w: {"size": [h, w], "counts": "P"}, _C),
    RleCase("truncated-real", lambda s, h, w: {"size": [h, w], "counts": truncated_inside_a_number(s)}, _C),
    RleCase("runs-over-hw", lambda s, h, w: {"size": [h, w], "counts": rle_string([h * w, 10])}, _CS),
    RleCase("runs-under-hw", lambda s, h, w: {"size": [h, w], "counts": rle_string([100, 50])}, _CS),
    RleCase("negative-run", lambda s, h, w: {"size": [h, w], "counts": rle_string([100, -50, h * w - 50])}, _C),
    RleCase("run-beyond-int64", lambda s, h, w: {"size": [h, w], "counts": rle_string([2**70])}, _CS),
    RleCase("non-ascii", lambda s, h, w: {"size": [h, w], "counts": s[:5] + "é€" + s[5:]}, _C),
    RleCase("nul-char", lambda s, h, w: {"size": [h, w], "counts": s[:5] + "\x00" + s[5:]}, _C),
    RleCase("char-below-0", lambda s, h, w: {"size": [h, w], "counts": s[:5] + " " + s[5:]}, _C),
    RleCase("char-above-o", lambda s, h, w: {"size": [h, w], "counts": s[:5] + "~" + s[5:]}, _C),
    RleCase("empty-counts", lambda s, h, w: {"size": [h, w], "counts": ""}, _CS),
    RleCase("size-0x0", lambda s, h, w: {"size": [0, 0], "counts": s}, _CS),
    RleCase("size-100000x100000", lambda s, h, w: {"size": [100000, 100000], "counts": s}, _CS),
    RleCase("size-not-the-image", lambda s, h, w: {"size": [h // 2, w], "counts": s}, _CS),
    # a well-formed 10^10-pixel RLE (all background): no decode may allocate it
    RleCase("size-100000x100000-consistent",
            lambda s, h, w: {"size": [100000, 100000], "counts": rle_string([10**10])}, _CS, tolerant=True),
)


def write_rle_case(demo: Demo, case: RleCase, path: Path) -> Path:
    items = demo.items()
    seg = items[BAD_ITEM]["segmentation"]
    h, w = seg["size"]
    items[BAD_ITEM]["segmentation"] = case.make(seg["counts"], h, w)
    return write_json(path, items)


# ------------------------------------------------------------------------- absurd numbers


@dataclass(frozen=True)
class FieldCase:
    """One spoiled field of one item: ``where`` is the item's location (``item 3``,
    ``annotations[3]``, ``images[0]``) and ``field`` the field as located messages name it."""

    name: str
    where: str
    field: str
    write: Callable[[Demo, Path], Path]
    tolerant: bool = False  # a polygon pycocotools handles its own way: scoring is acceptable


def _pred_field(name: str, field_: str, set_item: Callable[[dict], None], raw: dict[str, str] | None = None,
                all_bbox: bool = False) -> FieldCase:
    def write(demo: Demo, path: Path) -> Path:
        items = demo.items()
        if all_bbox:  # the first item has a bbox: pycocotools reads every item's (areas from boxes)
            for it in items:
                it["bbox"] = [0.0, 0.0, 10.0, 10.0]
        set_item(items[BAD_ITEM])
        return write_json(path, items, raw)

    return FieldCase(name, f"item {BAD_ITEM}", field_, write)


def _set(*keys_value: Any) -> Callable[[dict], None]:
    *keys, value = keys_value

    def apply(d: dict) -> None:
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return apply


def _size0(v: Any) -> Callable[[dict], None]:
    return lambda it: it["segmentation"].__setitem__("size", [v, it["segmentation"]["size"][1]])


PRED_NUMBER_CASES: tuple[FieldCase, ...] = (
    _pred_field("image_id-400-digits", "image_id", _set("image_id", "@BIG@"), {"@BIG@": BIG}),
    _pred_field("category_id-400-digits", "category_id", _set("category_id", "@BIG@"), {"@BIG@": BIG}),
    _pred_field("size-400-digits", "segmentation.size", _size0("@BIG@"), {"@BIG@": BIG}),
    _pred_field("bbox-400-digits", "bbox", _set("bbox", [0, 0, "@BIG@", 10]), {"@BIG@": BIG}, all_bbox=True),
    _pred_field("score-400-digits", "score", _set("score", "@BIG@"), {"@BIG@": BIG}),
    _pred_field("score-nan", "score", _set("score", float("nan"))),
    _pred_field("score-inf", "score", _set("score", float("inf"))),
    _pred_field("score-minus-inf", "score", _set("score", float("-inf"))),
    _pred_field("bbox-nan", "bbox", _set("bbox", [0.0, 0.0, float("nan"), 10.0]), all_bbox=True),
    _pred_field("bbox-inf", "bbox", _set("bbox", [0.0, 0.0, float("inf"), 10.0]), all_bbox=True),
    _pred_field("size-negative", "segmentation.size", _size0(-512)),
    _pred_field("size-zero-height", "segmentation.size", _size0(0)),
)


def _gt_field(name: str, where: str, field_: str, set_doc: Callable[[dict], None],
              raw: dict[str, str] | None = None, tolerant: bool = False) -> FieldCase:
    def write(demo: Demo, path: Path) -> Path:
        doc = demo.gt_doc()
        set_doc(doc)
        return write_json(path, doc, raw)

    return FieldCase(name, where, field_, write, tolerant)


def _ann(key: str, value: Any) -> Callable[[dict], None]:
    return lambda doc: doc["annotations"][BAD_ITEM].__setitem__(key, value)


def _img(key: str, value: Any) -> Callable[[dict], None]:
    return lambda doc: doc["images"][0].__setitem__(key, value)


_A = f"annotations[{BAD_ITEM}]"
_R = {"@BIG@": BIG}
GT_ANNOTATION_CASES: tuple[FieldCase, ...] = (
    _gt_field("ann-id-400-digits", _A, "id", _ann("id", "@BIG@"), _R),
    _gt_field("ann-image_id-400-digits", _A, "image_id", _ann("image_id", "@BIG@"), _R),
    _gt_field("ann-category_id-400-digits", _A, "category_id", _ann("category_id", "@BIG@"), _R),
    _gt_field("ann-area-400-digits", _A, "area", _ann("area", "@BIG@"), _R),
    _gt_field("ann-iscrowd-400-digits", _A, "iscrowd", _ann("iscrowd", "@BIG@"), _R),
    _gt_field("ann-area-nan", _A, "area", _ann("area", float("nan"))),
    _gt_field("ann-area-inf", _A, "area", _ann("area", float("inf"))),
    _gt_field("ann-iscrowd-nan", _A, "iscrowd", _ann("iscrowd", float("nan"))),
    _gt_field("ann-iscrowd-inf", _A, "iscrowd", _ann("iscrowd", float("inf"))),
)
GT_IMAGE_CASES: tuple[FieldCase, ...] = (
    _gt_field("image-id-400-digits", "images[0]", "id", _img("id", "@BIG@"), _R),
    _gt_field("image-width-400-digits", "images[0]", "width", _img("width", "@BIG@"), _R),
    _gt_field("image-height-400-digits", "images[0]", "height", _img("height", "@BIG@"), _R),
    _gt_field("image-width-zero", "images[0]", "width", _img("width", 0)),
    _gt_field("image-height-negative", "images[0]", "height", _img("height", -512)),
    _gt_field("image-width-nan", "images[0]", "width", _img("width", float("nan"))),
)


def _poly(name: str, segmentation: Any, tolerant: bool = False) -> FieldCase:
    return _gt_field(name, _A, "segmentation", _ann("segmentation", segmentation), tolerant=tolerant)


NAN, INF = float("nan"), float("inf")
POLYGON_CASES: tuple[FieldCase, ...] = (
    _poly("nan", [[10.0, 10.0, NAN, 20.0, 30.0, 40.0, 50.0, 10.0]]),
    _poly("infinity", [[10.0, 10.0, INF, 20.0, 30.0, 40.0, 50.0, 10.0]]),
    _poly("minus-infinity", [[10.0, 10.0, 60.0, -INF, 30.0, 40.0]]),
    # far outside the image: pycocotools' int conversion overflows; clipping and scoring is fine
    _poly("far-outside-1e12", [[1e12, 1e12, 1e12 + 10, 1e12, 1e12, 1e12 + 10]], tolerant=True),
    _poly("far-outside-minus-1e12", [[-1e12, -1e12, 100.0, 10.0, 200.0, 300.0]], tolerant=True),
    _poly("one-point", [[10.0, 10.0]]),
    # pycocotools reads a 4-number polygon as a box: scoring it so is acceptable
    _poly("two-points", [[10.0, 10.0, 200.0, 300.0]], tolerant=True),
    _poly("odd-coordinates", [[10.0, 10.0, 200.0, 10.0, 200.0, 300.0, 5.0]]),
    _poly("empty-list", []),
    _poly("empty-polygon", [[]]),
    _poly("nested-too-deep", [[[10.0, 10.0], [200.0, 10.0], [200.0, 300.0]]]),
    _poly("flat-not-nested", [10.0, 10.0, 200.0, 10.0, 200.0, 300.0]),
    # pycocotools converts numeric strings with np.array(..., dtype=float): scoring is acceptable
    _poly("strings", [["10", "10", "200", "10", "200", "300"]], tolerant=True),
)


def _cat_field(name: str, field_: str, value: Any, raw: dict[str, str] | None = None) -> FieldCase:
    def write(demo: Demo, path: Path) -> Path:
        doc = demo.catalog_doc()
        doc["images"][0][field_] = value
        return write_json(path, doc, raw)

    return FieldCase(name, "images[0]", field_, write)


CATALOG_NUMBER_CASES: tuple[FieldCase, ...] = (
    _cat_field("id-400-digits", "id", "@BIG@", _R),
    _cat_field("width-400-digits", "width", "@BIG@", _R),
    _cat_field("height-400-digits", "height", "@BIG@", _R),
    _cat_field("width-zero", "width", 0),
    _cat_field("height-negative", "height", -1),
    _cat_field("height-nan", "height", float("nan")),
)


# ---------------------------------------------------------------------------- JSON text


@dataclass(frozen=True)
class TextCase:
    name: str
    make: Callable[[bytes], bytes]  # good file bytes -> hostile bytes
    needle: str = ""  # a word the message must contain ('' = any)


def _truncate_in_string(data: bytes) -> bytes:
    i = data.index(b'"counts": "') + len(b'"counts": "') + 5 if b'"counts": "' in data else data.index(b'"', 20) + 3
    return data[:i]


def _truncate_after_comma(data: bytes) -> bytes:
    return data[: data.index(b",", len(data) // 2) + 1]


def _truncate_in_number(data: bytes) -> bytes:
    m = re.search(rb"\d\d\d", data[len(data) // 2:])
    assert m is not None
    return data[: len(data) // 2 + m.start() + 2]


TEXT_CASES: tuple[TextCase, ...] = (
    TextCase("bom", lambda b: b"\xef\xbb\xbf" + b, "byte-order mark"),
    TextCase("truncated-in-string", _truncate_in_string),
    TextCase("truncated-after-comma", _truncate_after_comma),
    TextCase("truncated-in-number", _truncate_in_number),
    TextCase("empty-file", lambda b: b"", "empty"),
    TextCase("whitespace-only", lambda b: b" \n\t\n", "empty"),
    TextCase("deeply-nested", lambda b: b"[" * 200_000 + b"]" * 200_000, ""),
    TextCase("invalid-utf8", lambda b: b[:40] + b"\xff\xfe\xc3" + b[40:], "UTF-8"),
    TextCase("nul-bytes", lambda b: b"\x00" * 64, ""),
)
TRUNCATED = {"truncated-in-string", "truncated-after-comma", "truncated-in-number"}

DANGLING_WORDS = {"at", "of", "in", "to", "the", "a", "an", "and", "or", "with", "for", "from", "by", "is",
                  "starting", "expecting", "near", "after", "before", "on"}


def whole_sentence_problem(line: str) -> str | None:
    """Why a message line looks cut mid-phrase, or None."""
    text = line.rstrip()
    if not text:
        return "empty message"
    if text[-1] in ":,;(-":
        return f"ends with {text[-1]!r}"
    last = re.findall(r"[A-Za-z]+", text.split()[-1])
    if last and last[-1].lower() in DANGLING_WORDS:
        return f"ends mid-phrase with {last[-1]!r}"
    return None


# --------------------------------------------------------------------------------- PNGs


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def zeros_zlib(total: int, chunk: int) -> bytes:
    """A zlib stream of ``total`` zero bytes, made in milliseconds: one deflate block of
    ``chunk`` zeros (after a zero window every such block compresses alike) repeated."""
    assert total % chunk == 0 and total >= 3 * chunk
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    z = bytes(chunk)
    first = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    second = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    third = c.compress(z) + c.flush(zlib.Z_SYNC_FLUSH)
    assert second == third
    tail = c.flush(zlib.Z_FINISH)
    adler = ((total % 65521) << 16) | 1  # adler32 of zeros: a = 1, b = total
    return b"\x78\xda" + first + second * (total // chunk - 1) + tail + struct.pack(">I", adler)


def bomb_png(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    channels = {0: 1, 2: 3}[colour_type]
    row = 1 + (width * channels * bit_depth + 7) // 8  # filter byte + pixels
    rows_per_chunk = next(k for k in range(1, height + 1) if height % k == 0 and row * k >= 1 << 20)
    return png_bytes(width, height, bit_depth, colour_type, zeros_zlib(row * height, row * rows_per_chunk))


def rgb16_png(rgb8: np.ndarray) -> bytes:
    """A 16-bit RGB PNG (Pillow cannot write one) with the same values scaled by 257."""
    h, w, _ = rgb8.shape
    data = (rgb8.astype(">u2") * 257).reshape(h, w * 3)
    raw = b"".join(b"\x00" + data[y].tobytes() for y in range(h))
    return png_bytes(w, h, 16, 2, zlib.compress(raw, 6))


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _pil_bytes(arr: np.ndarray, mode_fn: Callable[[Any], Any]) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    mode_fn(Image.fromarray(arr)).save(buf, format="PNG")
    return buf.getvalue()


@dataclass(frozen=True)
class PngCase:
    name: str
    make: Callable[[Path], bytes]  # the good PNG -> the hostile bytes
    kind: str  # "broken" (exit 2 naming it) or "mode" (a located warning naming it, or exit 2)
    needle: str = ""  # what a warning about it must also say
    heavy: bool = False  # could exhaust memory: subprocess only


PNG_CASES: tuple[PngCase, ...] = (
    PngCase("bomb-rgb-20000x20000", lambda p: bomb_png(20000, 20000, 8, 2), "broken", heavy=True),
    PngCase("bomb-bilevel-60000x60000", lambda p: bomb_png(60000, 60000, 1, 0), "broken", heavy=True),
    PngCase("rgb-16-bit", lambda p: rgb16_png(_read_rgb(p)), "mode", "16"),
    PngCase("grayscale", lambda p: _pil_bytes(_read_rgb(p)[:, :, 0], lambda im: im), "mode"),
    PngCase("palette", lambda p: _pil_bytes(_read_rgb(p), lambda im: im.convert("P", palette=1, colors=256)), "mode"),
    PngCase("truncated", lambda p: p.read_bytes()[: p.stat().st_size // 2], "broken"),
    PngCase("not-a-png", lambda p: b"this is not a PNG, just text with a .png name\n", "broken"),
    PngCase("empty-file", lambda p: b"", "broken"),
)


def write_png_case(demo: Demo, case: PngCase) -> Path:
    target = demo.bad_png
    data = case.make(target)
    target.write_bytes(data)
    return target


# ------------------------------------------------------------------- files that are not files


def make_fifo(path: Path) -> Path:
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)
    return path


def make_special(kind: str, path: Path) -> Path:
    """Replace ``path`` by a FIFO, a folder, a symlink loop, a dangling symlink, a device link or
    an unreadable file. Returns the path to give the command."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
        (path / "inside.txt").write_text("a folder, not a file\n")
    elif kind == "symlink-loop":
        other = path.with_name(path.name + ".loop")
        os.symlink(other.name, path)
        os.symlink(path.name, other)
    elif kind == "dangling-symlink":
        os.symlink(path.name + ".gone", path)
    elif kind in ("dev-zero", "dev-urandom"):
        os.symlink("/dev/" + kind[4:], path)
    elif kind == "unreadable":
        path.write_text('{"a": 1}')
        path.chmod(0)
    else:
        raise ValueError(kind)
    return path


def unjam_fifo(path: Path) -> None:
    """Unblock a thread of this process stuck opening ``path`` for reading (then it reads EOF)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


def blocked_on_fifo(pid: int | str = "self") -> bool:
    """A thread of ``pid`` (or of its children) is blocked opening a FIFO nobody writes to."""
    pids = [str(pid)] + ([str(c) for c in children_of(int(pid))] if pid != "self" else [])
    for p in pids:
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/wchan") as f:
                    if f.read().strip() == WAIT_FOR_PARTNER:
                        return True
            except OSError:
                pass
    return False


def children_of(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def process_state(pid: int) -> str | None:
    """The state letter of a process (``Z`` zombie), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2]


def pids_with_argument(needle: str) -> list[int]:
    """Living (not zombie) processes whose command line contains ``needle``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle.encode() in cmd and process_state(int(entry)) not in (None, "Z"):
            found.append(int(entry))
    return found


# --------------------------------------------------------------------------- snapshots


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(paths: Iterable[Path]) -> dict[str, Any]:
    """What each input is: a regular file's hash; a FIFO's, device's or link's type, inode and
    mtime (never opened); a folder's files, each hashed."""
    out: dict[str, Any] = {}
    todo = list(paths)
    while todo:
        p = Path(todo.pop())
        key = str(p)
        if key in out:
            continue
        try:
            st = os.lstat(p)
        except OSError as exc:
            out[key] = ("absent", exc.errno)
            continue
        if stat.S_ISLNK(st.st_mode):
            out[key] = ("link", os.readlink(p), st.st_ino)
        elif stat.S_ISREG(st.st_mode):
            if st.st_mode & 0o444 == 0 and os.geteuid() != 0:
                out[key] = ("unreadable", st.st_ino, st.st_mtime_ns, st.st_size)
            else:
                out[key] = ("file", _file_digest(p))
        elif stat.S_ISDIR(st.st_mode):
            out[key] = ("dir", st.st_ino)
            todo += [p / n for n in os.listdir(p)]
        else:
            out[key] = ("special", stat.S_IFMT(st.st_mode), st.st_ino, st.st_mtime_ns)
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in before if after.get(k) != before[k])


# ------------------------------------------------------------------------------ outcomes


@dataclass
class Outcome:
    """What a command did (in a subprocess or in process)."""

    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float = 0.0
    hang: str = ""  # why it was stopped: "timeout after 60 s" / "blocked opening a FIFO"
    crash: str = ""  # an uncaught exception in process (its traceback)
    changed: list[str] = field(default_factory=list)  # inputs changed by the run

    @property
    def first_err(self) -> str:
        """stderr's first line that is not a progress report (``convert: 2/3 (67%)``): a slow
        run (a loaded machine) prints progress before the error, a fast one does not."""
        lines = [ln for ln in self.stderr.splitlines() if not PROGRESS_LINE.match(ln)]
        return lines[0] if lines else ""

    def describe(self) -> str:
        if self.hang:
            return f"hang: {self.hang}"
        if self.crash:
            return "uncaught " + self.crash.strip().splitlines()[-1]
        if self.returncode is not None and self.returncode < 0:
            return f"killed by signal {-self.returncode} ({signal.Signals(-self.returncode).name})"
        first = self.first_err or ("(stdout) " + (self.stdout.strip().splitlines() or [""])[0])
        return f"exit {self.returncode}: {first[:300]}"


#: What placeseg_core.cli.progress.StderrProgress prints (after a carriage return on a terminal).
PROGRESS_LINE = re.compile(r"^\r?[a-z ]+: \d+/\d+ \(\d+%\)$")


def run_main_inprocess(argv: list[str], capsys: Any, inputs: Iterable[Path] = ()) -> Outcome:
    """``placeseg_core.cli.main.main(argv)`` with capsys; an uncaught exception is recorded."""
    from placeseg_core.cli.main import main

    inputs = list(inputs)
    before = snapshot(inputs)
    capsys.readouterr()
    t0 = time.perf_counter()
    crash = ""
    code: int | None
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # noqa: BLE001 - the test reports it
        code, crash = None, traceback.format_exc()
    seconds = time.perf_counter() - t0
    captured = capsys.readouterr()
    err = captured.err + (crash if crash else "")
    return Outcome([str(a) for a in argv], code, captured.out, err, seconds, crash=crash,
                   changed=changed(before, snapshot(inputs)))


def _limit_memory(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


# The environment as it was when the corpus was imported (on pytest's main thread): background
# threads build subprocess environments from this copy, never by iterating os.environ, which
# pytest changes at every test phase (PYTEST_CURRENT_TEST) -- iterating it from another thread
# then fails with "dictionary changed size during iteration".
_BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(_BASE_ENV)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # the checkout's core first (as in process: pytest runs from the repository), whatever the cwd
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra or {})
    return env


def run_subprocess(argv: list[str], inputs: Iterable[Path] = (), timeout: float = SUBPROCESS_TIMEOUT,
                   memory: int = CLI_MEMORY_LIMIT, env: dict[str, str] | None = None,
                   workdir: Path | None = None) -> Outcome:
    """Run with a timeout and a memory limit; stop it at once when it blocks opening a FIFO."""
    inputs = list(inputs)
    before = snapshot(inputs)
    workdir = workdir or Path(os.environ.get("TMPDIR", "/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = workdir / f".out-{os.getpid()}-{threading.get_ident()}", workdir / f".err-{os.getpid()}-{threading.get_ident()}"
    t0 = time.monotonic()
    hang = ""
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        proc = subprocess.Popen([str(a) for a in argv], stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL,
                                env=env or subprocess_env(), start_new_session=True,
                                preexec_fn=_limit_memory(memory), cwd=str(workdir))
        delay = 0.005
        while proc.poll() is None:
            elapsed = time.monotonic() - t0
            if elapsed > timeout:
                hang = f"timeout after {timeout:.0f} s"
            elif elapsed > 0.2 and blocked_on_fifo(proc.pid):
                hang = f"blocked opening a FIFO after {elapsed:.1f} s (no writer will ever come)"
            if hang:
                kill_group(proc)
                break
            time.sleep(delay)  # polling the process, with its deadline above
            delay = min(delay * 1.5, 0.05)
        proc.wait()
    seconds = time.monotonic() - t0
    stdout = out_path.read_bytes().decode("utf-8", "replace")
    stderr = err_path.read_bytes().decode("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    return Outcome([str(a) for a in argv], proc.returncode, stdout, stderr, seconds, hang=hang,
                   changed=changed(before, snapshot(inputs)))


def kill_group(proc: subprocess.Popen) -> None:
    """Kill the process we started and its process group (its session: start_new_session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def placeseg(*args: Any) -> list[str]:
    return [sys.executable, "-m", "placeseg_core.cli.main", *map(str, args)]


# ---------------------------------------------------------------------- the background pool


@dataclass(frozen=True)
class SubCase:
    """A case run in a subprocess by :class:`BatchRunner`: ``build(case_dir, demo)`` makes the
    inputs and returns (argv, inputs to watch, options for :func:`run_subprocess`)."""

    id: str
    build: Callable[[Path, Demo], tuple[list[str], list[Path], dict[str, Any]]]

    def __repr__(self) -> str:  # readable in pytest's failure output
        return f"SubCase({self.id})"


class BatchRunner:
    """Runs a module's subprocess cases in the background, several at a time, as soon as the
    module starts; each test then waits for its own case's outcome."""

    def __init__(self, base: Path, demo: Demo, cases: list[SubCase], parallel: int = PARALLEL) -> None:
        self.base, self.demo = base, demo
        self.pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="hostile")
        self.futures: dict[str, Future] = {}
        for case in cases:
            self.submit(case)

    def submit(self, case: SubCase) -> Future:
        if case.id not in self.futures:
            self.futures[case.id] = self.pool.submit(self._run, case)
        return self.futures[case.id]

    def case_dir(self, case: SubCase) -> Path:
        return self.base / re.sub(r"[^\w.-]+", "_", case.id)

    def _run(self, case: SubCase) -> Outcome:
        case_dir = self.case_dir(case)
        case_dir.mkdir(parents=True, exist_ok=True)
        try:
            argv, inputs, options = case.build(case_dir, self.demo)
        except BaseException:  # noqa: BLE001 - a broken generator is the test's failure, said so
            return Outcome([], None, "", "", crash="building the case failed:\n" + traceback.format_exc())
        options.setdefault("workdir", case_dir)
        return run_subprocess(argv, inputs, **options)

    def result(self, case: SubCase) -> Outcome:
        return self.submit(case).result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def selected_subcases(request: Any) -> list[SubCase]:
    """The SubCase parameters of this module's selected tests, in test order."""
    cases: list[SubCase] = []
    for item in request.session.items:
        if getattr(item, "module", None) is not request.module or not hasattr(item, "callspec"):
            continue
        cases += [v for v in item.callspec.params.values() if isinstance(v, SubCase)]
    return cases


# ------------------------------------------------------------------------------ checks


def _word(field_: str) -> str:
    return rf"(?<![\w]){re.escape(field_)}(?![\w])"


def item_pattern(where: str) -> str:
    """``item 3`` also as ``[3]``; ``annotations[3]`` also as ``annotation 3`` (its id)."""
    m = re.fullmatch(r"item (\d+)", where)
    if m:
        return rf"\bitems? #?{m[1]}\b|\bitem\[{m[1]}\]|(?<!\w)\[{m[1]}\]"
    m = re.fullmatch(r"(\w+)\[(\d+)\]", where)
    if m:
        singular = m[1].rstrip("s")
        return rf"{re.escape(where)}|\b{singular}s? (?:id )?#?{m[2]}\b"
    return re.escape(where)


def names(text: str, path: Path | str | None = None, where: str | None = None,
          fields: Iterable[str] | str | None = None) -> list[str]:
    """What ``text`` fails to name (empty when it names the file, the item and a field)."""
    missing = []
    if path is not None and str(path) not in text:
        missing.append(f"the file {path}")
    if where is not None and not re.search(item_pattern(where), text):
        missing.append(f"the item ({where})")
    if fields is not None:
        fields = [fields] if isinstance(fields, str) else list(fields)
        if not any(re.search(_word(f), text) for f in fields):
            missing.append(f"the field ({' or '.join(fields)})")
    return missing


def assert_ran_cleanly(o: Outcome) -> None:
    """No hang, no signal, no traceback, no input changed."""
    assert not o.hang, f"{o.describe()} — {o.argv}"
    assert not o.crash, f"{o.describe()}\n{o.crash}"
    assert o.returncode is not None and o.returncode >= 0, o.describe()
    assert "Traceback" not in o.stderr, f"traceback on stderr:\n{o.stderr[-3000:]}"
    assert "internal-error" not in o.stdout, f"the validator failed on itself: {o.stdout[:2000]}"
    assert not o.changed, f"inputs changed: {o.changed}"


def assert_unusable(o: Outcome, cmd: str, path: Path | str, where: str | None = None,
                    fields: Iterable[str] | str | None = None, code: int = 2) -> None:
    """Exit ``code``; stderr's first line ``placeseg CMD: error: ...`` names the file, item, field."""
    assert_ran_cleanly(o)
    assert o.returncode == code, f"expected exit {code}, got {o.describe()}"
    first = o.first_err
    assert first.startswith(f"placeseg {cmd}: error: "), (
        f"stderr's first line is not 'placeseg {cmd}: error: ...' ({o.describe()})")
    missing = names(first, path, where, fields)
    assert not missing, f"the first stderr line does not name {', '.join(missing)}: {first!r}"


def assert_unscorable(o: Outcome, cmd: str, path: Path, where: str, fields: Iterable[str] | str) -> None:
    """evaluate / matches: exit 1, the first line locates the problem, the validator's located
    problems follow, and no score was printed."""
    assert_unusable(o, cmd, path, where, fields, code=1)
    rest = o.stderr.splitlines()[1:]
    assert any(not names(line, None, where, fields) for line in rest), (
        f"no located problem of the validator after the first line:\n{o.stderr[:3000]}")
    assert "Average Precision" not in o.stdout, "it printed a score anyway"


def assert_invalid_report(o: Outcome, where: str, fields: Iterable[str] | str) -> None:
    """validate: exit 1 and a located problem (item and field on one line) in its report."""
    assert_ran_cleanly(o)
    assert o.returncode == 1, f"expected exit 1 (invalid submission), got {o.describe()}"
    assert any(not names(line, None, where, fields) for line in o.stdout.splitlines()), (
        f"no line of the report names {where} and {fields}:\n{o.stdout[:3000]}")


# --------------------------------------------------------------------------- the window


def window_settled(window: Any) -> bool:
    """Nothing running (scan and validation included) and the current image on screen."""
    c, s = window.controller, window.session
    return (not c.jobs and not c.busy and s.dataset is not None and s.image is not None
            and s.image.entry.id == s.current_id)


def window_findings_text(window: Any) -> list[str]:
    image = window.session.image
    if image is None or image.gt is None:
        return []
    return [f"{f.code}: {f.message} [{f.file}]" for f in image.gt.findings]


def window_validation_text(window: Any) -> list[str]:
    """The errors of the window's validation report of the open predictions (its own reporting
    of an invalid but loadable submission), each with the file, the item and the field."""
    report = window.session.validation
    if report is None or report.valid:
        return []
    return [f"{report.source}: item {p.index}, {p.field}: {p.code}: {p.message}" for p in report.errors]


def window_probe(spec: dict[str, Any]) -> dict[str, Any]:
    """Open an input in a real window, wait for an error or for it to settle (no fixed sleep:
    polling with a deadline), then open the good set. Run as a script (see the module doc)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["PLACESEG_REVIEW_CACHE"] = spec["cache"]
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, spec["cache"] + "/settings")
    from placeseg_review.main import _dispose
    from placeseg_review.services.settings import Settings
    from placeseg_review.window.main_window import MainWindow

    window = MainWindow(Settings(Path(spec["settings"])))
    window.resize(1280, 800)
    window.show()
    errors: list[list[str]] = []
    window.errorShown.connect(lambda title, message: errors.append([title, message]))

    def wait(cond: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            app.processEvents()
            if cond():
                return True
            time.sleep(0.01)  # polling with a deadline
        return False

    o = spec["open"]
    if o["kind"] == "dataset":
        window.controller.open_dataset(o["path"], images=o.get("images"), predictions=o.get("predictions"))
    else:
        window.controller.open_dataset(o["dataset"])
        wait(lambda: window_settled(window), spec["timeout"])
        window.controller.open_predictions(o["path"])
    ok = wait(lambda: bool(errors) or window_settled(window), spec["timeout"])
    if ok and not errors:
        wait(lambda: window_settled(window), spec["timeout"])
    result: dict[str, Any] = {
        "timeout": not ok, "errors": list(errors), "findings": window_findings_text(window),
        "validation": window_validation_text(window),
        "dialog": bool(window.message_box is not None and window.message_box.isVisible()
                       and window.message_box.text() == window.last_error),
    }
    if window.message_box is not None and window.message_box.isVisible():
        window.message_box.close()
    n_errors = len(errors)
    window.controller.open_dataset(spec["good"])
    good = wait(lambda: window_settled(window) and window.session.dataset.source == Path(spec["good"]),
                spec["timeout"])
    result["good_opened"] = good
    result["errors_after_good"] = errors[n_errors:]
    print("PROBE " + json.dumps(result), flush=True)
    window.shutdown()
    _dispose(window)
    return result


def window_probe_case(case_dir: Path, demo: Demo, open_spec: dict[str, Any],
                      inputs: list[Path]) -> tuple[list[str], list[Path], dict[str, Any]]:
    good = copy_demo(demo, case_dir / "good")
    spec = {"open": open_spec, "good": str(good.root), "timeout": SUBPROCESS_TIMEOUT - 10,
            "cache": str(case_dir / "cache"), "settings": str(case_dir / "settings.ini")}
    spec_path = case_dir / "probe.json"
    spec_path.write_text(json.dumps(spec))
    argv = [sys.executable, str(Path(__file__)), "window-probe", str(spec_path)]
    return argv, inputs, {"memory": WINDOW_MEMORY_LIMIT}


def probe_result(o: Outcome) -> dict[str, Any]:
    """The window probe's report; fails on a hang or a crash of the window's process."""
    assert not o.hang, f"the window {o.describe()}"
    assert o.returncode is not None and o.returncode >= 0, f"the window's process was {o.describe()}:\n{o.stderr[-2000:]}"
    assert "Traceback" not in o.stderr, f"traceback in the window's process:\n{o.stderr[-3000:]}"
    lines = [ln for ln in o.stdout.splitlines() if ln.startswith("PROBE ")]
    assert lines, f"the window probe reported nothing ({o.describe()}):\n{o.stderr[-2000:]}"
    return json.loads(lines[-1][len("PROBE "):])


def assert_window_reported(result: dict[str, Any], path: Path | str, where: str | None = None,
                           fields: Iterable[str] | str | None = None, allow_findings: bool = False,
                           needle: str = "", allow_validation: bool = False) -> None:
    """An error dialog (or, for a per-image integrity problem, a finding of the shown image; for
    an invalid but loadable submission, an error of the validation report) names the file, item
    and field; the window still opens the good set afterwards."""
    assert not result["timeout"], "no error and the window never settled: a hang"
    texts = [m for _, m in result["errors"]]
    good = [t for t in texts if not names(t, path, where, fields) and needle in t]
    if allow_findings and not good:
        good = [t for t in result["findings"] if not names(t, path, where, fields) and needle in t]
    if allow_validation and not good:
        good = [t for t in result.get("validation", []) if not names(t, path, where, fields) and needle in t]
    assert good, (f"no error dialog naming {path}, {where}, {fields} {('and ' + needle) if needle else ''}; "
                  f"errors: {texts}; findings: {result['findings']}; validation: {result.get('validation')}")
    if result["errors"]:
        assert result["dialog"], "the error was not shown in a visible message box"
    assert result["good_opened"], "the window did not open the good data set afterwards"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "window-probe":
        window_probe(json.loads(Path(sys.argv[2]).read_text()))
        sys.exit(0)
    sys.exit("usage: hostile_corpus.py window-probe SPEC.json")
