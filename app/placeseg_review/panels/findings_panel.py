"""The data layer's integrity findings for the current image (and notes about its files).

Findings come from :mod:`placeseg_core.annotations` as data (an instance with two categories,
a size mismatch, ...). Choosing one that names an instance selects that instance.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..model.prepared import PreparedImage
from ..model.render import Selection
from ..services.session import ReviewSession

INSTANCE_ROLE = Qt.ItemDataRole.UserRole + 1
PREDICTION_ROLE = Qt.ItemDataRole.UserRole + 2  # file position of a prediction that is not drawn


class FindingsPanel(QWidget):
    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.summary = QLabel("No image")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Finding", "Instance", "Detail"])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemSelectionChanged.connect(self._on_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree)
        session.imageChanged.connect(self._on_image)

    def _on_image(self, prep: PreparedImage | None) -> None:
        self.tree.clear()
        if prep is None:
            self.summary.setText("No image")
            return
        findings = prep.gt.findings if prep.gt is not None else []
        for f in findings:
            item = QTreeWidgetItem([f.code, "" if f.instance_id is None else str(f.instance_id), _detail(f.message)])
            item.setToolTip(2, f.message)
            item.setData(0, INSTANCE_ROLE, f.instance_id)
            self.tree.addTopLevelItem(item)
        mismatched = prep.preds.mismatched if prep.preds is not None else []
        h, w = prep.shape
        for index, _cat, _score, size in mismatched:
            text = f"prediction #{index}: RLE size {size[0]}×{size[1]}, the image is {h}×{w} (H×W): not drawn"
            item = QTreeWidgetItem(["size-mismatch", f"#{index}", text])
            item.setToolTip(2, text + "\nSelect to select it in the inspector")
            item.setData(0, PREDICTION_ROLE, index)
            self.tree.addTopLevelItem(item)
        for note in prep.notes:
            item = QTreeWidgetItem(["note", "", note])
            item.setToolTip(2, note)
            self.tree.addTopLevelItem(item)
        self.tree.resizeColumnToContents(0)
        self.tree.resizeColumnToContents(1)
        n = len(findings)
        text = (f"{n} integrity finding{'s' * (n != 1)} in {prep.entry.file_name}" if n
                else f"No integrity findings in {prep.entry.file_name}")
        if mismatched:
            k = len(mismatched)
            text += f"; {k} prediction{'s' * (k != 1)} not drawn (mask size is not the image's)"
        self.summary.setText(text)

    def _on_item(self) -> None:
        items = self.tree.selectedItems()
        if not items:
            return
        inst = items[0].data(0, INSTANCE_ROLE)
        prep = self.session.image
        pred = items[0].data(0, PREDICTION_ROLE)
        if pred is not None:
            self.session.select(Selection("pred", int(pred)))
            return
        if inst is None or prep is None or prep.gt is None:
            return
        label = next((i.label for i in prep.gt.instances if i.instance_id == inst), None)
        if label is not None:
            self.session.select(Selection("gt", label))

    def count(self) -> int:
        return self.tree.topLevelItemCount()


def _detail(message: str) -> str:
    """The message without its leading file path (shown in the tooltip instead)."""
    head, sep, tail = message.partition(": ")
    return tail if sep and ("/" in head or "\\" in head or head.endswith(".png")) else message
