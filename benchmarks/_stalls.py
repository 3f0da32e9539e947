"""Where the GUI thread was during its stalls: a sampling profiler for the benchmarks.

A watcher thread samples the main thread's Python stack every few milliseconds
(``sys._current_frames``); the GUI thread stamps a heartbeat from a 10 ms QTimer. A stall is a
stretch with no heartbeat for longer than ``threshold_ms``; :meth:`StallSampler.report` prints,
for each of the longest stalls, the stack frames seen most often while it lasted. This is how
issue 17's "profile first" is done for the window: the tick gaps of ``gui_responsiveness.py``
say *how long* the loop froze, the samples say *in what*.

The watcher holds the GIL only to copy a stack, every ``interval_ms``: it slows the GUI thread
by a few per cent, so timings taken with it on are not the benchmark's figures.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field


@dataclass
class Stall:
    start: float
    end: float
    stacks: list[tuple[str, ...]] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # where the other threads were meanwhile

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


class StallSampler:
    """Samples the main thread's stack while it fails to stamp its heartbeat."""

    def __init__(self, threshold_ms: float = 60.0, interval_ms: float = 3.0, depth: int = 40) -> None:
        self.threshold = threshold_ms / 1000
        self.interval = interval_ms / 1000
        self.depth = depth
        self.stalls: list[Stall] = []
        self.phases: list[tuple[float, str]] = []
        self._beat = time.perf_counter()
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)
        self._timer = None

    def start(self) -> None:
        from PySide6.QtCore import QTimer  # noqa: PLC0415

        self._timer = QTimer(interval=10)
        self._timer.timeout.connect(self.heartbeat)
        self._timer.start()
        self._thread.start()

    def phase(self, name: str) -> None:
        """Mark the start of a phase of the benchmark: stalls are reported relative to it."""
        self.phases.append((time.perf_counter(), name))

    def heartbeat(self) -> None:
        self._beat = time.perf_counter()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self._timer is not None:
            self._timer.stop()

    def _run(self) -> None:
        current: Stall | None = None
        while not self._stop.wait(self.interval):
            now = time.perf_counter()
            beat = self._beat
            if now - beat < self.threshold:
                if current is not None:
                    current.end = beat
                    self.stalls.append(current)
                    current = None
                continue
            frames = sys._current_frames()
            frame = frames.pop(self._main, None)
            if frame is None:
                continue
            stack = self._stack(frame)
            others = tuple(_innermost_ours(self._stack(f)) for ident, f in frames.items()
                           if ident != threading.get_ident())
            if current is None or current.start != beat:
                if current is not None:
                    current.end = beat
                    self.stalls.append(current)
                current = Stall(beat, now)
            current.end = now
            current.stacks.append(stack)
            current.others.extend(others)

    def _stack(self, frame) -> tuple[str, ...]:
        return tuple(f"{s.filename.split('site-packages/')[-1].split('/main/')[-1]}:{s.lineno} {s.name}"
                     for s in traceback.extract_stack(frame)[-self.depth:])

    def report(self, top: int = 5, file=sys.stderr) -> None:
        """The ``top`` longest stalls, each with the code it was in most often: the innermost
        frame of ours (``app/``, ``placeseg_core/``) and the innermost frame of all. A sample
        whose innermost frame is an event-loop call (``processEvents``, ``exec``) was in Qt's
        C++ code: layout, painting, models and views."""
        for stall in sorted(self.stalls, key=lambda s: -s.ms)[:top]:
            phase = max((p for p in self.phases if p[0] <= stall.start), default=(0.0, "?"))
            print(f"stall of >= {stall.ms:.0f} ms, {stall.start - phase[0]:.2f} s into '{phase[1]}' "
                  f"({len(stall.stacks)} samples of {self.interval * 1000:.0f} ms):", file=file)
            ours = collections.Counter(_innermost_ours(stack) for stack in stall.stacks)
            inner = collections.Counter(stack[-1] for stack in stall.stacks)
            others = collections.Counter(stall.others)
            for label, counts in (("ours", ours), ("innermost", inner), ("others", others)):
                for where, n in counts.most_common(4):
                    print(f"  {label:>9} {n:3d}  {where}", file=file)


def _innermost_ours(stack: tuple[str, ...]) -> str:
    for line in reversed(stack):
        if line.startswith(("app/", "placeseg_core/")):
            return line
    return "(none of ours: " + stack[-1] + ")"


class SlotTimer:
    """Wall time of each call the event loop makes into Python on the main thread (slots,
    timers, event handlers), with the calls they make ``depth`` levels down: the callers of a
    stall, where :class:`StallSampler` shows where it was. A call counts as coming from the
    event loop when its Python caller is the benchmark's own frame that entered the loop
    (``entry_file``). Uses ``sys.setprofile``: Python code on the main thread runs slower
    meanwhile, so only the ranking means something."""

    def __init__(self, entry_file: str, min_ms: float = 15.0, depth: int = 4) -> None:
        self.entry_file = entry_file
        self.min_s = min_ms / 1000
        self.depth = depth
        self.calls: list[tuple[float, float, str, list]] = []  # (start, seconds, where, children)
        self._open: dict[int, tuple[float, int, list]] = {}  # frame id -> (start, level, children)
        self.phases: list[tuple[float, str]] = []

    def phase(self, name: str) -> None:
        self.phases.append((time.perf_counter(), name))

    def _profile(self, frame, event, _arg) -> None:
        if event == "call":
            back = frame.f_back
            if back is None or back.f_code.co_filename.endswith(self.entry_file):
                if not frame.f_code.co_filename.endswith(self.entry_file):
                    self._open[id(frame)] = (time.perf_counter(), 0, [])
            else:
                parent = self._open.get(id(back))
                if parent is not None and parent[1] < self.depth:
                    self._open[id(frame)] = (time.perf_counter(), parent[1] + 1, [])
        elif event == "return":
            entry = self._open.pop(id(frame), None)
            if entry is None:
                return
            start, level, kids = entry
            seconds = time.perf_counter() - start
            if level == 0:
                if seconds >= self.min_s:
                    self.calls.append((start, seconds, _where(frame), kids))
                return
            parent = self._open.get(id(frame.f_back))
            if parent is not None and seconds >= self.min_s / 3:
                parent[2].append((start, seconds, _where(frame), kids))

    def start(self) -> None:
        sys.setprofile(self._profile)

    def stop(self) -> None:
        sys.setprofile(None)

    def report(self, top: int = 12, file=sys.stderr) -> None:
        print(f"slowest calls from the event loop into Python (>= {self.min_s * 1000:.0f} ms), with "
              "the calls they made:", file=file)
        for start, seconds, where, kids in sorted(self.calls, key=lambda c: -c[1])[:top]:
            phase = max((p for p in self.phases if p[0] <= start), default=(0.0, "?"))
            print(f"  {seconds * 1000:6.0f} ms  {start - phase[0]:6.2f} s into '{phase[1]}'  {where}", file=file)
            _print_kids(kids, 2, file)


def _print_kids(kids: list, indent: int, file) -> None:
    for _start, seconds, where, sub in sorted(kids, key=lambda c: -c[1])[:6]:
        print(f"  {'':{indent * 2}}{seconds * 1000:6.0f} ms  {where}", file=file)
        _print_kids(sub, indent + 1, file)


def _where(frame) -> str:
    code = frame.f_code
    return f"{code.co_filename.split('/main/')[-1].split('site-packages/')[-1]}:{code.co_firstlineno} {code.co_qualname}"


class GcTimer:
    """Collections of the cyclic garbage collector that took long (any thread): a collection
    holds the GIL from start to end, so a long one freezes the GUI thread whoever ran it."""

    def __init__(self, min_ms: float = 20.0) -> None:
        self.min_s = min_ms / 1000
        self.long: list[tuple[float, float, int, str, int]] = []  # (start, seconds, gen, thread, collected)
        self._start = 0.0
        self.phases: list[tuple[float, str]] = []

    def phase(self, name: str) -> None:
        self.phases.append((time.perf_counter(), name))

    def _callback(self, event: str, info: dict) -> None:
        if event == "start":
            self._start = time.perf_counter()
            return
        seconds = time.perf_counter() - self._start
        if seconds >= self.min_s:
            self.long.append((self._start, seconds, info.get("generation", -1),
                              threading.current_thread().name, info.get("collected", 0)))

    def start(self) -> None:
        import gc  # noqa: PLC0415

        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        import gc  # noqa: PLC0415

        gc.callbacks.remove(self._callback)

    def report(self, file=sys.stderr) -> None:
        print(f"garbage collections of >= {self.min_s * 1000:.0f} ms: {len(self.long)}", file=file)
        for start, seconds, gen, thread, collected in sorted(self.long, key=lambda c: -c[1])[:10]:
            phase = max((p for p in self.phases if p[0] <= start), default=(0.0, "?"))
            print(f"  {seconds * 1000:6.0f} ms  {start - phase[0]:6.2f} s into '{phase[1]}'  generation {gen} "
                  f"in thread {thread!r}, {collected} collected", file=file)
