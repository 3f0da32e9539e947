"""Mixed tie groups, laid out again for each resample of a batch.

A mixed tie group (``table.py``) is a run of equal scores in one category that holds a true
and a false positive at some threshold. In a resample its detections come copy by copy in draw
order, each copy's by their rank in the image -- the order accumulate's stable sort leaves equal
scores in -- so their order differs from row to row. Only the entries that can be a true
positive (at some threshold) are points of the curve; what the others change is the count of
non-ignored detections before each point. So a group becomes, per row:

- *cells*: its true-positive-capable entries in that order (padded to the batch's longest);
- ``before``: for each cell, the group's non-ignored entries up to and including it (an empty
  cell: all of them);
- ``total``: the group's non-ignored entries in the row (what every later slot counts).

Non-ignored depends on the threshold only in categories with ignored detections (crowd
matches, box areas outside the range); each such pattern (``table.group_patterns``) gets its
own ``before`` and ``total``; :data:`ALL` is "every entry counts".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .table import BootstrapTable

#: Pattern key of "every entry is a true or false positive" (a category without ignored ones).
ALL = -1


@dataclass
class GroupCells:
    """The groups of one batch of B resamples."""

    det: np.ndarray  # int32 (B, C): the detection in each cell (table.padding where none)
    start: np.ndarray  # int64 (G,): group g's cells are start[g] : start[g] + width[g]
    width: np.ndarray  # int64 (G,)
    before: dict[int, np.ndarray]  # pattern -> int32 (B, C)
    total: dict[int, np.ndarray]  # pattern -> int32 (B, G)


def _run_relative(values: np.ndarray, run_first: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Running count of ``flags`` within each run (inclusive): ``values`` is their row cumsum."""
    return values - np.take_along_axis(values - flags, run_first, axis=1)


def expand_groups(table: BootstrapTable, draws: np.ndarray) -> GroupCells:
    """The groups' cells, counts before each cell, and totals, for each row of ``draws``."""
    G = table.num_groups
    B, n = draws.shape
    if G == 0:
        empty = np.zeros(0, dtype=np.int64)
        none = np.zeros((B, 0), dtype=np.int32)
        return GroupCells(none, empty, empty, {ALL: none}, {ALL: none})
    starts = table.mixed_image_start
    cnt = np.diff(starts)[draws]  # (B, n): entries each drawn copy brings
    row_len = cnt.sum(axis=1)
    flat_cnt = cnt.ravel()
    total_entries = int(row_len.sum())
    first = np.cumsum(flat_cnt) - flat_cnt
    # entry k of the batch, listed by (row, draw position, rank): its place in the by-image list
    entry = np.arange(total_entries, dtype=np.int64) + np.repeat(starts[draws.ravel()] - first, flat_cnt)
    # one row per resample (padded with group G, which sorts last), so that the sort and the
    # gathers below stay within a row's few kilobytes; entries fill each row's first row_len
    L = int(row_len.max())
    idx = np.arange(L, dtype=np.int64)
    filled = idx[None, :] < row_len[:, None]
    key_type = np.uint16 if G < (1 << 16) - 1 else np.int64
    keys = np.full((B, L), G, dtype=key_type)
    keys[filled] = table.mixed_group_by_image[entry]
    dets = np.full((B, L), table.padding, dtype=np.int32)
    dets[filled] = table.mixed_by_image[entry]
    # a stable sort on the group keeps draw order and rank inside each (row, group): a radix
    # sort for 16-bit keys
    order = np.argsort(keys, axis=1, kind="stable")
    keys = np.take_along_axis(keys, order, axis=1)
    dets = np.take_along_axis(dets, order, axis=1)
    run_start = np.ones((B, L), dtype=bool)
    run_start[:, 1:] = keys[:, 1:] != keys[:, :-1]
    run_first = np.maximum.accumulate(np.where(run_start, idx, 0), axis=1)
    capable = table.tp_capable[dets]  # padding: False
    cap_pos = _run_relative(np.cumsum(capable, axis=1, dtype=np.int32), run_first, capable) - 1
    at_cap = np.flatnonzero(capable)  # row-major: (row, group, order) sorted
    r_cap = at_cap // L
    g_cap = keys.ravel()[at_cap].astype(np.int64)
    width = np.bincount(g_cap * B + r_cap, minlength=G * B).reshape(G, B).max(axis=1)
    start = np.cumsum(width) - width
    C = int(width.sum())
    target = r_cap * C + start[g_cap] + cap_pos.ravel()[at_cap]
    cells = np.full((B, C), table.padding, dtype=np.int32)
    cells.ravel()[target] = dets.ravel()[at_cap]
    at_valid = np.flatnonzero(filled)  # the sort keeps each row's entries first
    seg = keys.ravel()[at_valid].astype(np.int64) * B + at_valid // L
    before: dict[int, np.ndarray] = {}
    totals: dict[int, np.ndarray] = {}
    for pattern in (ALL, *table.group_patterns):
        if pattern == ALL:  # every entry counts: the place in the run
            counted = (idx[None, :] - run_first + 1).ravel()[at_cap]
            per_group = np.bincount(seg, minlength=G * B)
        else:
            flags = table.nonig[pattern][dets]
            counted = _run_relative(np.cumsum(flags, axis=1, dtype=np.int32), run_first, flags).ravel()[at_cap]
            per_group = np.bincount(seg, weights=flags.ravel()[at_valid], minlength=G * B)
        totals[pattern] = np.ascontiguousarray(per_group.reshape(G, B).T.astype(np.int32))
        # an empty cell counts the whole group: the count never falls along the row, so an
        # empty cell's ratio never exceeds the point before it
        b = np.repeat(totals[pattern], width, axis=1)
        b.ravel()[target] = counted
        before[pattern] = b
    return GroupCells(cells, start, width, before, totals)
