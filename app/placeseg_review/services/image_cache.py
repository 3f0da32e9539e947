"""Prepared images, decoded in workers, kept in a small LRU cache; neighbours prefetched.

``request(id)`` returns a cached :class:`PreparedImage` at once, or starts (or joins) a worker
and emits ``imageReady`` when it is done. ``prefetch(ids)`` prepares images the user is likely
to open next at a lower priority. Changing the data set or the predictions bumps a generation
number: results prepared for an older generation are dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Signal

from placeseg_core.errors import describe_failure

from ..model.data import PredictionIndex, ReviewDataset
from ..model.prepared import PreparedImage, prepare_image
from ..model.render import OverlayOptions, render_layers
from .workers import FunctionWorker, Task, WorkerPool

DEFAULT_CAPACITY = 12


class ImageCache(QObject):
    imageReady = Signal(object)  # PreparedImage
    loadFailed = Signal(int, str)  # image id, one-line reason

    def __init__(self, pool: WorkerPool, capacity: int = DEFAULT_CAPACITY, parent: QObject | None = None,
                 prefetch_pool: WorkerPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._prefetch_pool = prefetch_pool or pool
        self.capacity = capacity
        self._cache: OrderedDict[int, PreparedImage] = OrderedDict()
        self._inflight: dict[int, tuple[FunctionWorker, bool]] = {}  # image -> (job, asked for by the user)
        self._dataset: ReviewDataset | None = None
        self._predictions: PredictionIndex | None = None
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self.options: Callable[[], OverlayOptions] = OverlayOptions  # overlays are drawn for these

    def set_sources(self, dataset: ReviewDataset | None, predictions: PredictionIndex | None) -> None:
        """New data set or predictions: forget everything prepared before."""
        self._dataset, self._predictions = dataset, predictions
        self.generation += 1
        for worker, _urgent in self._inflight.values():
            worker.cancel()
        self._inflight.clear()
        self._cache.clear()

    def cached(self, image_id: int) -> PreparedImage | None:
        prep = self._cache.get(image_id)
        if prep is not None:
            self._cache.move_to_end(image_id)
        return prep

    def is_loading(self, image_id: int) -> bool:
        return image_id in self._inflight

    def request(self, image_id: int) -> PreparedImage | None:
        """The prepared image if cached; else start preparing it (urgently) and return None."""
        prep = self.cached(image_id)
        if prep is not None:
            self.hits += 1
            return prep
        self.misses += 1
        # The neighbours being prefetched would share the GIL with this one, which the user
        # waits for: they stop (they are asked for again once it is shown).
        for other, (worker, urgent) in list(self._inflight.items()):
            # this one too while it only waits in the prefetch lane's queue: it moves to the
            # urgent lane (seen as a 580 ms switch when "next" was held down)
            if not urgent and (other != image_id or not worker.running):
                worker.cancel()
                del self._inflight[other]
        self._start(image_id, priority=10)
        return None

    def prefetch(self, image_ids: list[int]) -> None:
        for image_id in image_ids:
            if image_id not in self._cache:
                self._start(image_id, priority=0)

    def _start(self, image_id: int, priority: int) -> None:
        if self._dataset is None or image_id in self._inflight or image_id not in self._dataset.index_of:
            return
        gen = self.generation
        # on_finished names its own worker (bound by the time it runs, on this thread): a job
        # stopped for another image may end after its successor for the same image started
        worker = (self._pool if priority >= 10 else self._prefetch_pool).submit(
            _prepare, self._dataset, image_id, self._predictions, gen, self.options(),
            on_returned=self._on_ready,
            on_error=lambda exc, i=image_id, g=gen: self._on_error(i, g, exc),
            on_finished=lambda i=image_id, g=gen: self._on_finished(i, g, worker),
            priority=priority, name=f"prepare {image_id}",
        )
        self._inflight[image_id] = (worker, priority >= 10)

    def _on_ready(self, prep: PreparedImage) -> None:
        if prep.generation != self.generation:
            return
        self._inflight.pop(prep.entry.id, None)
        self._cache[prep.entry.id] = prep
        self._cache.move_to_end(prep.entry.id)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.imageReady.emit(prep)

    def _on_error(self, image_id: int, gen: int, exc: Exception) -> None:
        if gen == self.generation:
            self.loadFailed.emit(image_id, describe_failure(exc))

    def _on_finished(self, image_id: int, gen: int, worker: FunctionWorker | None) -> None:
        if gen == self.generation and self._inflight.get(image_id, (None,))[0] is worker:
            self._inflight.pop(image_id, None)

    def clear(self) -> None:
        self.set_sources(self._dataset, self._predictions)


#: Threads that take half of an image's preparation (its predictions) while the worker that
#: prepares it does the rest: two, one for each of the io pool's workers.
_PARTS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="image-part")


def _prepare(task: Task, dataset: ReviewDataset, image_id: int, predictions: PredictionIndex | None,
             generation: int, options: OverlayOptions) -> PreparedImage:
    """Decode the image and draw its overlays for the current options, all off the GUI thread
    (the predictions' half in a second thread: see prepare_image)."""
    prep = prepare_image(dataset, image_id, predictions, generation, cancelled=lambda: task.cancelled, pool=_PARTS)
    task.check()
    prep.layers = render_layers(prep, options, pool=_PARTS)
    return prep
