"""Decoding many compressed COCO RLE strings at once with numpy.

Checking 200k ``counts`` strings one by one in Python is far too slow, and handing unchecked
strings to pycocotools is unsafe (its decoder reads past the end of a truncated string). Here
the strings of a chunk are concatenated into one byte buffer and decoded with vectorised
operations: per RLE we learn whether it is well formed, the sum of its runs (which must equal
height × width), its area (the runs of ones) and the number of runs.

The COCO string format (``rleToString`` / ``rleFrString`` in pycocotools' maskApi.c): each
character ``c`` carries ``c - 48`` as 6 bits; the low 5 bits are payload (least significant
group first), ``0x20`` says another character follows, and on the last character of a value
``0x10`` is the sign bit. For run index ``i > 2`` the value is stored as the difference to run
``i - 2``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Status per RLE, 0 = fine. The order is the priority when several faults meet in one string.
OK = 0
SUM_MISMATCH = 1
BAD_RUN = 2  # a negative run, or one too long for pycocotools' 32-bit run counts
VALUE_TOO_LONG = 3
TRUNCATED = 4
BAD_CHAR = 5
NOT_ASCII = 6

MAX_VALUE_CHARS = 7  # 35 bits: every run of an image of up to 2**32 pixels fits
_UINT32_MAX = (1 << 32) - 1
# Characters decoded per numpy pass: bounds the work arrays (about 12 bytes per character).
CHUNK_CHARS = 1 << 21


@dataclass
class BulkDecode:
    """Per-RLE results of :func:`decode_counts_bulk` (arrays of the input's length)."""

    status: np.ndarray  # int8, one of the constants above
    total: np.ndarray  # int64, sum of all runs
    area: np.ndarray  # int64, sum of the runs of ones (odd positions)
    nruns: np.ndarray  # int64, number of runs


def _set_status(status: np.ndarray, which: np.ndarray, code: int) -> None:
    """Raise ``status`` to ``code`` where selected (higher codes win)."""
    if which.size:
        status[which] = np.maximum(status[which], code)


class Scratch:
    """Work arrays reused from chunk to chunk.

    Fresh arrays for every chunk would mean fresh pages from the kernel each time (page
    faults and zeroing), which costs about a third of the decoding on a cold process.
    """

    def __init__(self, chars: int) -> None:
        self.chars = chars
        self.is_end = np.empty(chars, dtype=bool)
        self.top = np.empty(chars, dtype=np.uint8)
        self.even = np.empty((chars + 1) // 2, dtype=np.int64)
        self.odd = np.empty(chars // 2, dtype=np.int64)

    def fits(self, chars: int) -> bool:
        return chars <= self.chars


def _interleave(even_sums: np.ndarray, odd_sums: np.ndarray) -> np.ndarray:
    """Undo the per-parity running sums: the stored (delta-coded) values, end to end."""
    values = np.empty(even_sums.size + odd_sums.size, dtype=np.int64)
    values[0::2] = np.diff(even_sums, prepend=0)
    values[1::2] = np.diff(odd_sums, prepend=0)
    return values


def _segment_reduce(ufunc: np.ufunc, data: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``ufunc.reduce`` over consecutive segments ``data[first[i]:first[i] + count[i]]``.

    The segments must tile ``data`` in order; empty segments give 0.
    """
    out = np.zeros(first.size, dtype=data.dtype)
    nz = np.flatnonzero(count > 0)
    if nz.size:
        out[nz] = ufunc.reduceat(data, first[nz])
    return out


def _long_values(
    top: np.ndarray, buf: np.ndarray, cont: np.ndarray, offsets: np.ndarray, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The values of several characters: their indices and full values.

    ``top`` holds every value's most significant group (signed); ``cont`` the positions of the
    lower groups (continuation bit set), which for one value are consecutive, least
    significant first, directly before its last character.
    """
    owner = cont - np.arange(cont.size)  # index of the value each lower group belongs to
    low = ((buf[cont] - np.uint8(48)) & np.uint8(0x1F)).astype(np.int64)
    new_group = np.empty(cont.size, dtype=bool)
    new_group[0] = True
    np.not_equal(owner[1:], owner[:-1], out=new_group[1:])
    if new_group.all():  # every long value has two characters: value = top * 32 + low
        return owner, top[owner].astype(np.int64) * 32 + low
    group_first = np.flatnonzero(new_group)
    group_size = np.diff(group_first, append=cont.size)
    single = group_size == 1  # two-character values, the common case
    first_single = group_first[single]
    index_single = owner[first_single]
    full_single = top[index_single].astype(np.int64) * 32 + low[first_single]
    multi = np.flatnonzero(~single)
    first_multi, size_multi = group_first[multi], group_size[multi]
    members = np.repeat(first_multi, size_multi) + ranks(size_multi)
    shift = 5 * np.minimum(ranks(size_multi), MAX_VALUE_CHARS)
    start_in_members = np.cumsum(size_multi) - size_multi
    low_sum = np.add.reduceat(low[members] << shift, start_in_members) if members.size else members
    index_multi = owner[first_multi]
    scale = np.left_shift(1, 5 * np.minimum(size_multi, MAX_VALUE_CHARS), dtype=np.int64)
    full_multi = top[index_multi].astype(np.int64) * scale + low_sum
    too_long = size_multi >= MAX_VALUE_CHARS
    if too_long.any():
        chars = cont[first_multi[too_long]]
        _set_status(status, np.searchsorted(offsets, chars, side="right") - 1, VALUE_TOO_LONG)
        full_multi[too_long] = 0
    return np.concatenate((index_single, index_multi)), np.concatenate((full_single, full_multi))


def ranks(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ..., size - 1 for each size, end to end."""
    total = int(sizes.sum())
    starts = np.cumsum(sizes) - sizes
    return np.arange(total, dtype=np.int64) - np.repeat(starts, sizes)


def decode_buffer(
    buf: np.ndarray,
    lengths: np.ndarray,
    expected_total: np.ndarray | None = None,
    return_values: bool = False,
    scratch: Scratch | None = None,
) -> tuple[BulkDecode, np.ndarray | None, np.ndarray]:
    """Decode RLE strings laid end to end in ``buf`` (uint8), ``lengths[i]`` bytes each.

    Returns the per-RLE results, the decoded values (delta-coded, as stored) of all RLEs end
    to end if ``return_values`` (else None), and the offsets (``n + 1``) of each RLE's values
    in that array. Where ``expected_total`` is given, RLEs whose runs do not sum to it get
    :data:`SUM_MISMATCH`.

    The runs are never materialised one by one: with ``C`` the running sum of the values taken
    every other position (``C[g] = values[g] + C[g - 2]``), run ``p`` of an RLE starting at
    ``s`` is ``C[s + p] - C[s - 1]`` for odd ``p`` and ``C[s + p] - C[s]`` for even ``p >= 2``,
    so sums and minima of runs per RLE are segment reductions of ``C``. Integer overflow in
    ``C`` cancels in these differences (two's complement), so the results stay exact.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n = lengths.size
    status = np.zeros(n, dtype=np.int8)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total_chars = int(offsets[-1])
    total = np.zeros(n, dtype=np.int64)
    area = np.zeros(n, dtype=np.int64)
    if total_chars == 0:
        if expected_total is not None:
            _set_status(status, np.flatnonzero(np.asarray(expected_total) != 0), SUM_MISMATCH)
        return BulkDecode(status, total, area, np.zeros(n, dtype=np.int64)), np.zeros(0, np.int64), offsets * 0
    buf = buf[:total_chars]
    nonempty = np.flatnonzero(lengths > 0)
    last_char = offsets[1:][nonempty] - 1

    if int(buf.min()) < 48 or int(buf.max()) > 111:
        bad = np.flatnonzero((buf < 48) | (buf > 111))
        _set_status(status, np.searchsorted(offsets, bad, side="right") - 1, BAD_CHAR)
        buf = np.where((buf < 48) | (buf > 111), np.uint8(48), buf)

    # A character ends a value when its continuation bit 0x20 is clear: c - 48 < 32. Almost
    # every value is one character (small deltas), so the work is done per character in uint8
    # and the few longer values are patched afterwards.
    space = scratch if scratch is not None and scratch.fits(total_chars) else Scratch(total_chars)
    is_end = np.less(buf, 80, out=space.is_end[:total_chars])
    truncated = ~is_end[last_char]
    if truncated.any():
        _set_status(status, nonempty[truncated], TRUNCATED)
    is_end[last_char] = True  # a value never runs on into the next string
    # positions of the lower groups of longer values
    cont = np.flatnonzero(buf >= 80)
    if cont.size and truncated.any():
        cont = cont[~np.isin(cont, last_char, assume_unique=True)]
    n_values = total_chars - cont.size
    last = np.compress(is_end, buf, out=space.top[:n_values])  # each value's last character
    # That character holds the value's most significant 5-bit group in two's complement (0x10
    # is the sign bit): ((c - 48) & 31 ^ 16) - 16, which is (c & 31) - 16, fits int8.
    np.bitwise_and(last, np.uint8(31), out=last)
    np.subtract(last, np.uint8(16), out=last)
    top = last.view(np.int8)
    # Split by global parity (the two delta chains); int64 from here on.
    even_sums = space.even[: (n_values + 1) // 2]
    odd_sums = space.odd[: n_values // 2]
    np.copyto(even_sums, top[0::2])
    np.copyto(odd_sums, top[1::2])
    if cont.size:
        value_index, full = _long_values(top, buf, cont, offsets, status)
        at_even = (value_index & 1) == 0
        even_sums[value_index[at_even] >> 1] = full[at_even]
        odd_sums[value_index[~at_even] >> 1] = full[~at_even]

    # Values per RLE: every non-empty string's last character ends a value.
    vstart = offsets - np.searchsorted(cont, offsets, side="left")
    nvals = np.diff(vstart)
    del cont

    np.cumsum(even_sums, out=even_sums)  # C at even global positions
    np.cumsum(odd_sums, out=odd_sums)  # C at odd global positions

    def c_at(g: np.ndarray) -> np.ndarray:
        out = np.zeros(g.size, dtype=np.int64)
        ok = g >= 0
        ev = ok & ((g & 1) == 0)
        od = ok & ((g & 1) == 1)
        out[ev] = even_sums[g[ev] >> 1]
        out[od] = odd_sums[g[od] >> 1]
        return out

    has = np.flatnonzero(nvals > 0)
    s = vstart[:-1][has]
    e = s + nvals[has]
    first_e, count_e = (s + 1) >> 1, ((e + 1) >> 1) - ((s + 1) >> 1)  # even global positions
    first_o, count_o = s >> 1, (e >> 1) - (s >> 1)  # odd global positions
    sum_e = _segment_reduce(np.add, even_sums, first_e, count_e)
    sum_o = _segment_reduce(np.add, odd_sums, first_o, count_o)
    min_e = _segment_reduce(np.minimum, even_sums, first_e, count_e)
    min_o = _segment_reduce(np.minimum, odd_sums, first_o, count_o)
    c0, c1, c2 = c_at(s), c_at(s - 1), c_at(s - 2)
    s_even = (s & 1) == 0
    # odd run positions p sit at global positions of the other parity than s
    sum_a = np.where(s_even, sum_o, sum_e)
    cnt_a = np.where(s_even, count_o, count_e)
    min_a = np.where(s_even, min_o, min_e)
    sum_b = np.where(s_even, sum_e, sum_o)
    cnt_b = np.where(s_even, count_e, count_o)
    min_b = np.where(s_even, min_e, min_o)
    run0 = c0 - c2
    ones = sum_a - cnt_a * c1
    zeros_after_first = sum_b - cnt_b * c0
    negative = (run0 < 0) | ((cnt_a > 0) & (min_a - c1 < 0)) | (min_b - c0 < 0)
    _set_status(status, has[negative], BAD_RUN)
    area[has] = ones
    total[has] = run0 + ones + zeros_after_first
    if expected_total is not None:
        expected = np.asarray(expected_total, dtype=np.int64)
        mismatch = np.flatnonzero((total != expected) | (expected > _UINT32_MAX))
        _set_status(status, mismatch, SUM_MISMATCH)
    return BulkDecode(status, total, area, nvals.astype(np.int64)), (
        _interleave(even_sums, odd_sums) if return_values else None
    ), vstart


def decode_counts_bulk(
    counts: Sequence[str],
    expected_total: np.ndarray | None = None,
    chunk_chars: int = CHUNK_CHARS,
    lengths: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BulkDecode:
    """Decode many ``counts`` strings (see :func:`decode_buffer`), in bounded-memory chunks.

    ``lengths`` (the strings' lengths) may be passed when already known; ``progress(done,
    total)`` is called after each chunk (it may raise to stop).

    Strings with a character outside ASCII get :data:`NOT_ASCII` without being decoded.
    """
    n = len(counts)
    status = np.zeros(n, dtype=np.int8)
    total = np.zeros(n, dtype=np.int64)
    area = np.zeros(n, dtype=np.int64)
    nruns = np.zeros(n, dtype=np.int64)
    expected = None if expected_total is None else np.asarray(expected_total, dtype=np.int64)
    if lengths is None:
        lengths = np.fromiter(map(len, counts), dtype=np.int64, count=n)
    lengths_all = np.asarray(lengths, dtype=np.int64)
    ends_at = np.cumsum(lengths_all)
    scratch = Scratch(min(chunk_chars, int(ends_at[-1]) if n else 0))
    start = 0
    while start < n:
        before = int(ends_at[start - 1]) if start else 0
        stop = int(np.searchsorted(ends_at, before + chunk_chars, side="right"))
        stop = min(max(stop, start + 1), n)
        part = counts[start:stop]
        chunk_lengths = lengths_all[start:stop].copy()
        text = "".join(part)
        ascii_ok = np.ones(stop - start, dtype=bool)
        if not text.isascii():
            ascii_ok = np.fromiter(map(str.isascii, part), dtype=bool, count=stop - start)
            text = "".join(s if ok else "" for s, ok in zip(part, ascii_ok.tolist(), strict=True))
            chunk_lengths[~ascii_ok] = 0
        buf = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        del text
        exp = None if expected is None else expected[start:stop]
        res, _, _ = decode_buffer(buf, chunk_lengths, exp, scratch=scratch)
        res.status[~ascii_ok] = NOT_ASCII
        status[start:stop] = res.status
        total[start:stop] = res.total
        area[start:stop] = res.area
        nruns[start:stop] = res.nruns
        start = stop
        if progress:
            progress(start, n)
    return BulkDecode(status, total, area, nruns)


def decode_runs(counts: str) -> np.ndarray | None:
    """The runs of one string (None if it is not well formed): for tests and messages.

    Plain Python on the decoded values, independent of the segment arithmetic above.
    """
    if not counts.isascii():
        return None
    buf = np.frombuffer(counts.encode("ascii"), dtype=np.uint8)
    res, values, _ = decode_buffer(buf, np.array([len(counts)], dtype=np.int64), return_values=True)
    if res.status[0] not in (OK, BAD_RUN) or values is None:
        return None
    runs = [int(v) for v in values]
    for i in range(3, len(runs)):
        runs[i] += runs[i - 2]
    return np.array(runs, dtype=np.int64)


def describe_counts_fault(counts: str, height: int, width: int) -> str:
    """A precise one-line reason why ``counts`` is not a valid RLE of ``height`` × ``width``.

    Slow (pure Python), called only for the few locations a report lists.
    """
    for pos, ch in enumerate(counts):
        code = ord(ch) - 48
        if not 0 <= code <= 63:
            return f"character {ch!r} at position {pos} cannot occur in a COCO RLE string"
    if counts and (ord(counts[-1]) - 48) & 0x20:
        return "the string ends in the middle of a number (truncated)"
    run_chars = 0
    for pos, ch in enumerate(counts):
        run_chars = run_chars + 1 if (ord(ch) - 48) & 0x20 else 0
        if run_chars >= MAX_VALUE_CHARS:
            return f"the number at position {pos - run_chars + 1} is too long to be a run length"
    runs = decode_runs(counts)
    if runs is None:
        return "the string cannot be decoded"
    negative = np.flatnonzero((runs < 0) | (runs > _UINT32_MAX))
    if negative.size:
        i = int(negative[0])
        return f"run {i} decodes to {int(runs[i])}, not a pixel count"
    total = int(runs.sum())
    expected = height * width
    if total != expected:
        return (
            f"the runs cover {total} pixels but size {height}×{width} has {expected} "
            "(counts of another mask or size, or a truncated string)"
        )
    return "the string is not a valid RLE"
