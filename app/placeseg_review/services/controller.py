"""What the window does, apart from showing it: opening things, navigation, background jobs.

Every slow step runs in a worker: opening a data set, the scan that counts every image's
instances, loading predictions, building the demo, preparing images. Problems come back as
``errorRaised(title, message)``; progress as ``jobChanged``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from placeseg_core.errors import InputError, describe_failure

from ..model.data import (
    PredictionIndex,
    ReviewDataset,
    sniff_json_kind,
)
from ..model.prepared import PreparedImage
from ..model.render import Selection
from .focus import CategoryFocus
from .image_cache import ImageCache
from .jobs_io import build_demo_job, load_predictions_job, open_dataset_job, scan_dataset_job
from .navigation import ImageOrder
from .session import ImageFilter, RejectedFile, ReviewSession
from .settings import Settings
from .workers import FunctionWorker, WorkerPool

SelectionOf = Callable[[PreparedImage], Selection | None]  # finds an object in a prepared image

#: How long after an image is shown its neighbours start being prepared (see _prefetch_timer).
PREFETCH_DELAY_MS = 40


@dataclass
class Job:
    key: str
    label: str
    done: int = 0
    total: int = 0
    worker: FunctionWorker | None = None


class ReviewController(QObject):
    errorRaised = Signal(str, str)  # title, one-line message
    jobChanged = Signal()  # a job started, progressed or ended (see ``jobs``)
    message = Signal(str)  # a status-bar message
    predictionsRejected = Signal(object)  # Path of a predictions file that could not be loaded
    compareRequested = Signal(object)  # Path of a second predictions file to compare with the open one
    imageMissing = Signal(int, int)  # an image id asked for (command line) that the data set lacks, the one shown

    def __init__(self, session: ReviewSession, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.io_pool = WorkerPool(2, self)  # image preparation: the image asked for
        # the neighbours, in a lane of their own: an image asked for never waits for a thread
        # busy with a neighbour (each stops at its next check once cancelled)
        self.prefetch_pool = WorkerPool(1, self)
        self.job_pool = WorkerPool(2, self)  # opening files, scanning, the demo
        self.analysis_pool = WorkerPool(2, self)  # validation and evaluation (never queue behind a scan)
        self.cache = ImageCache(self.io_pool, parent=self, prefetch_pool=self.prefetch_pool)
        self.cache.options = lambda: session.options
        self.cache.imageReady.connect(self._on_image_ready)
        self.cache.loadFailed.connect(self._image_failed)
        self.jobs: dict[str, Job] = {}
        self.navigation = ImageOrder(session, self)  # the order the list shows and stepping follows
        self.navigation.filterApplied.connect(self._on_filter_applied)
        self.focus = CategoryFocus(session, self)  # what choosing categories does to the list and canvas
        self.focus.message.connect(self.message)
        self.prefetch_radius = 2
        self.drawn_instead: PredictionIndex | None = None  # predictions drawn instead of the open ones
        self._pending_selection: tuple[int, Selection | SelectionOf] | None = None  # to select once shown
        self._stats_timer = QTimer(self, singleShot=True, interval=150)
        self._stats_timer.timeout.connect(session.stats_changed)
        # The neighbours are prefetched once the image on screen has been painted: started at
        # once, their workers took the GIL from that paint (it doubled, to 25-30 ms, in a cold
        # switch: benchmarks/gui_switch.py). Well before anyone presses "next" again.
        self._prefetch_timer = QTimer(self, singleShot=True, interval=PREFETCH_DELAY_MS)
        self._prefetch_timer.timeout.connect(
            lambda: self.session.image is not None and self._prefetch(self.session.image.entry.id))

    def _image_failed(self, image_id: int, message: str) -> None:
        """A failure the preparation did not foresee: name the image's files (the message of
        a foreseen one, an InputError, already does)."""
        ds = self.session.dataset
        entry = ds.entry(image_id) if ds is not None and image_id in ds.index_of else None
        where = f"image {image_id}"
        if entry is not None:
            files = [str(p) for p in (entry.photo_path, getattr(entry, "annotation_path", None)) if p]
            where += f" ({', '.join(files) or entry.file_name})"
        self.errorRaised.emit("Cannot show image", f"{where}: {message}")

    # -------------------------------------------------------------- jobs
    def start_job(self, key: str, label: str, fn: Callable[..., Any], *args: Any,
                  on_returned: Callable[[Any], None], total: int = 0, pool: WorkerPool | None = None,
                  on_cancelled: Callable[[], None] | None = None,
                  on_error: Callable[[Exception], None] | None = None,
                  on_progress: Callable[[int, int], None] | None = None,
                  on_finished: Callable[[], None] | None = None, **kwargs: Any) -> FunctionWorker:
        """Run ``fn(task, *args, **kwargs)`` as job ``key`` (one at a time per key: a new one
        cancels the old); progress shows in the status bar, errors go to ``errorRaised``."""
        return self._start_job(key, label, fn, *args, on_returned=on_returned, total=total, pool=pool,
                               on_cancelled=on_cancelled, on_error=on_error, on_progress=on_progress,
                               on_finished=on_finished, **kwargs)

    def _start_job(self, key: str, label: str, fn: Callable[..., Any], *args: Any,
                   on_returned: Callable[[Any], None], total: int = 0, pool: WorkerPool | None = None,
                   on_cancelled: Callable[[], None] | None = None,
                   on_error: Callable[[Exception], None] | None = None,
                   on_progress: Callable[[int, int], None] | None = None,
                   on_finished: Callable[[], None] | None = None, **kwargs: Any) -> FunctionWorker:
        old = self.jobs.pop(key, None)
        if old is not None and old.worker is not None:
            old.worker.cancel()
        job = Job(key, label, 0, total)
        self.jobs[key] = job

        def progress(done: int, tot: int) -> None:
            job.done, job.total = done, tot
            self.jobChanged.emit()
            if key == "scan":
                self._stats_timer.start()
            if on_progress is not None:
                on_progress(done, tot)

        def finished() -> None:
            if self.jobs.get(key) is job:
                del self.jobs[key]
            self.jobChanged.emit()
            if on_finished is not None:
                on_finished()

        job.worker = (pool or self.job_pool).submit(
            fn, *args, on_returned=lambda r: self.jobs.get(key) is job and on_returned(r),
            on_error=lambda exc: self.jobs.get(key) is job and self._job_error(label, exc, on_error),
            on_progress=progress, on_finished=finished, on_cancelled=on_cancelled, name=key, **kwargs)
        self.jobChanged.emit()
        return job.worker

    def _job_error(self, label: str, exc: Exception, extra: Callable[[Exception], None] | None = None) -> None:
        if extra is not None:
            extra(exc)
        self.errorRaised.emit(f"Cannot {label.lower()}", describe_failure(exc))

    def cancel_job(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is not None and job.worker is not None:
            job.worker.cancel()

    @property
    def busy(self) -> bool:
        """A job other than the background scan is running, or the requested image is not shown."""
        if any(k != "scan" for k in self.jobs):
            return True
        cur = self.session.current_id
        return cur is not None and (self.session.image is None or self.session.image.entry.id != cur
                                    or self.session.image.generation != self.cache.generation)

    # ------------------------------------------------------------ opening
    def open_path(self, path: str | os.PathLike[str], images: str | None = None) -> None:
        """A folder or a JSON file, whatever it is (drag and drop, recent files, command line)."""
        self.open_paths([path], images)

    def open_paths(self, paths: list[str | os.PathLike[str]], images: str | None = None, *,
                   predictions: str | os.PathLike[str] | None = None, image_id: int | None = None) -> None:
        """Any mix of a data root, a ground-truth JSON and predictions JSONs (command line, drops,
        a desktop's ``%F``): each is sniffed; the data set opens first (it gives the ids).

        Predictions alone go to the open data set, or open the data set they sit in (a challenge
        layout's root). A second predictions file is compared with the first
        (``compareRequested``); anything beyond that is named and ignored."""
        datasets: list[Path] = []
        preds: list[Path] = [Path(predictions)] if predictions is not None else []
        for path in map(Path, paths):
            if path.is_file() and path.suffix.lower() == ".json" and path.name != "imgCatIds.json":
                try:
                    kind = sniff_json_kind(path)
                except InputError as exc:
                    self.errorRaised.emit("Cannot open file", str(exc))
                    continue
                except OSError as exc:
                    self.errorRaised.emit("Cannot open file", f"{path}: {exc.strerror}")
                    continue
                (preds if kind == "predictions" else datasets).append(path)
            else:
                datasets.append(path)
        if preds and not datasets and self.session.dataset is None and (preds[0].parent / "imgCatIds.json").is_file():
            datasets.append(preds[0].parent)  # the data set the predictions file sits in
        if len(preds) > 1:
            self.compareRequested.emit(preds[1])  # compared once the first one is open
        ignored = datasets[1:] + preds[2:]
        if ignored:
            self.message.emit(f"One data set and two predictions files at a time: ignored "
                              f"{', '.join(p.name for p in ignored)}")
        if datasets:
            self.open_dataset(datasets[0], images=images, predictions=preds[0] if preds else None, image_id=image_id)
        elif preds:
            self.open_predictions(preds[0])

    def open_dataset(self, path: str | os.PathLike[str], images: str | None = None,
                     predictions: str | os.PathLike[str] | None = None, image_id: int | None = None) -> None:
        p = Path(path)
        self._start_job("dataset", "Open data set", open_dataset_job, p, images,
                        on_returned=lambda ds: self._dataset_opened(ds, p, images, predictions, image_id))

    def _dataset_opened(self, ds: ReviewDataset, path: Path, images: str | None,
                        predictions: str | os.PathLike[str] | None, image_id: int | None) -> None:
        self.cancel_job("scan")
        self.drawn_instead = None
        self.cache.set_sources(ds, None)
        self.session.set_dataset(ds)
        self.settings.add_recent("dataset", path, images)
        for note in ds.notes:
            self.message.emit(note)
        if ds.kind == "layout":
            self._start_job("scan", "Count instances", scan_dataset_job, ds, on_returned=lambda _r: self.session.stats_changed(),
                            total=len(ds.entries))
        wanted = image_id if image_id is not None else self.settings.last_image(ds.source)
        if wanted is None or wanted not in ds.index_of:
            wanted = self.navigation.first()
            if image_id is not None and wanted is not None:
                self.message.emit(f"Image {image_id} is not in this data set; showing image {wanted}")
                self.imageMissing.emit(image_id, wanted)
        if wanted is not None:
            self.go_to(wanted)
        if predictions is None and ds.kind == "layout" and (ds.source / "predictions.json").is_file():
            predictions = ds.source / "predictions.json"
        if predictions is not None:
            self.open_predictions(predictions)

    def open_predictions(self, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        if self.session.dataset is None:
            self.errorRaised.emit("Cannot load predictions", f"{p}: open a data set first (its images give the ids)")
            return
        self._start_job("predictions", "Load predictions", load_predictions_job, p, self.session.dataset,
                        on_returned=lambda idx: self._predictions_loaded(idx, p),
                        on_error=lambda exc: self._predictions_failed(p, exc))

    def _predictions_failed(self, path: Path, exc: Exception) -> None:
        """The window keeps what it showed; the session records the file it could not use (the
        title, status bar and validation view say so) and, for a file with problems the
        validator can list, ``predictionsRejected`` asks for its report."""
        self.session.set_rejected(RejectedFile(path, describe_failure(exc)))
        if isinstance(exc, InputError) and path.is_file():
            self.predictionsRejected.emit(path)

    def _predictions_loaded(self, index: PredictionIndex, path: Path) -> None:
        self.drawn_instead = None
        self.cache.set_sources(self.session.dataset, index)
        self.session.set_predictions(index)
        self.settings.add_recent("predictions", path)
        if index.unknown_images:
            self.message.emit(f"{index.unknown_images} prediction(s) name images not in this data set")
        if self.session.current_id is not None:
            self.go_to(self.session.current_id)

    def draw_predictions_of(self, index: PredictionIndex | None) -> None:
        """Draw another file's predictions (compare: B) on the photo instead of the open ones;
        None: the open ones again. Only the drawing changes: scores and tables stay A's."""
        if index is self.drawn_instead:
            return
        self.drawn_instead = index
        self.cache.set_sources(self.session.dataset, index or self.session.predictions)
        if self.session.current_id is not None:
            self.go_to(self.session.current_id)

    def open_demo(self, n_images: int | None = None, image_id: int | None = None) -> None:
        """Build the demo set into the cache folder (first time only) and open it with its predictions."""
        kwargs = {} if n_images is None else {"n_images": n_images}
        self._start_job("demo", "Build demo", build_demo_job, total=n_images or 0,
                        on_returned=lambda root: self.open_dataset(root, image_id=image_id), **kwargs)

    # --------------------------------------------------------- navigation
    def go_to(self, image_id: int) -> None:
        ds = self.session.dataset
        if ds is None or image_id not in ds.index_of:
            return
        if self._pending_selection is not None and self._pending_selection[0] != image_id:
            self._pending_selection = None  # the user went elsewhere
        self.session.current_id = image_id
        prep = self.cache.request(image_id)
        if prep is not None:
            self._show(prep)

    def go_to_and_select(self, image_id: int, selection: Selection | SelectionOf) -> None:
        """Show an image and select an object in it once the image is on screen: a Selection,
        or a function that finds it in the prepared image (e.g. a ground-truth row's label).
        The one pending selection: going elsewhere first drops it."""
        ds = self.session.dataset
        if ds is None or image_id not in ds.index_of:
            return
        self._pending_selection = (image_id, selection)
        self.go_to(image_id)
        self._apply_pending_selection()

    def _apply_pending_selection(self) -> None:
        pending = self._pending_selection
        image = self.session.image
        if pending is None or image is None or image.entry.id != pending[0]:
            return
        self._pending_selection = None
        target = pending[1]
        selection = target(image) if callable(target) else target
        if selection is not None:
            self.session.select(selection)

    def step(self, delta: int) -> None:
        target = self.navigation.neighbour(self.session.current_id, delta)
        if target is not None:
            self.go_to(target)

    def _on_filter_applied(self, image_filter: ImageFilter | None) -> None:
        """The image shown was filtered out of the list: show the list's first one, and say so."""
        current = self.session.current_id
        if current is not None and self.navigation.row_of(current) < 0:
            first = self.navigation.first()
            if first is not None:
                why = f" ({image_filter.label.lower()})" if image_filter is not None else ""
                self.message.emit(f"Image {current} is not in the list as filtered{why}; showing image {first}")
                self.go_to(first)

    def _on_image_ready(self, prep: PreparedImage) -> None:
        if prep.entry.id == self.session.current_id:
            self._show(prep)
            self._apply_pending_selection()

    def _show(self, prep: PreparedImage) -> None:
        self.session.show_image(prep)
        ds = self.session.dataset
        if ds is not None:
            self.settings.set_last_image(ds.source, prep.entry.id)
        self._prefetch_timer.start()

    def _prefetch(self, image_id: int) -> None:
        ids: list[int] = []
        for d in range(1, self.prefetch_radius + 1):
            for step in (d, -d):
                n = self.navigation.neighbour(image_id, step)
                if n is not None and n != image_id and n not in ids:
                    ids.append(n)
        self.cache.prefetch(ids)

    # ------------------------------------------------------------ shutdown
    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel every worker and wait for them: True when no thread is left running."""
        self._stats_timer.stop()
        self._prefetch_timer.stop()
        ok_analysis = self.analysis_pool.shutdown(timeout_ms)
        ok_jobs = self.job_pool.shutdown(timeout_ms)
        ok_io = self.io_pool.shutdown(timeout_ms)
        ok_prefetch = self.prefetch_pool.shutdown(timeout_ms)
        return ok_jobs and ok_io and ok_analysis and ok_prefetch
