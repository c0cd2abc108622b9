"""The annotation layer: one canvas item per annotation, following the document's events."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from measurer.core.annotations import Annotation, Origin
from measurer.core.document import Document
from measurer.core.measurements import MeasurementTable
from measurer.core.style import value_text
from measurer.gui.canvas.batch import DetectionBatch
from measurer.gui.canvas.items import PointSetItem, make_item, role_item_class


class AnnotationLayer(QtCore.QObject):
    """Keeps canvas items in step with a document and reports gestures as requests.

    Signals
    -------
    edit_requested(int, ndarray)
        The user released a drag: move annotation ``id`` to these vertices.
    edit_previewed(int, ndarray)
        The user is dragging; nothing is committed.
    selection_changed(list)
        Ids of the selected annotations.
    """

    edit_requested = QtCore.Signal(int, object)
    point_delete_requested = QtCore.Signal(int, int)  # annotation id, point index
    edit_previewed = QtCore.Signal(int, object)
    selection_changed = QtCore.Signal(list)

    def __init__(self, parent_item: pg.GraphicsObject) -> None:
        super().__init__()
        self._parent_item = parent_item
        self._document: Document | None = None
        self.items: dict[int, pg.GraphicsObject] = {}
        self._labels: dict[int, pg.TextItem] = {}
        self.selected: list[int] = []
        self.editable = True
        self._batches: dict[str, DetectionBatch] = {}
        self._batch_of: dict[int, str] = {}

    def set_editable(self, editable: bool) -> None:
        """Whether item bodies take clicks and drags (navigate tool) or let them through."""
        self.editable = editable
        for item in self.items.values():
            item.set_editable(editable)

    def set_document(self, document: Document) -> None:
        """Show another document's annotations."""
        if self._document is not None:
            self._document.annotations_changed.disconnect(self._on_annotations_changed)
            self._document.measurements_changed.disconnect(self._on_measurements_changed)
        for annotation_id in list(self.items):
            self._remove(annotation_id)
        for batch in self._batches.values():
            batch.remove()
        self._batches, self._batch_of = {}, {}
        self.selected = []
        self._document = document
        document.annotations_changed.connect(self._on_annotations_changed)
        document.measurements_changed.connect(self._on_measurements_changed)
        self._on_annotations_changed(set(document.annotations))
        self._on_measurements_changed(document.measurements)

    def select(self, ids: list[int]) -> None:
        """Select these annotations (from the table, or a click)."""
        if self._document is None:
            return
        ids = [i for i in dict.fromkeys(ids) if i in self._document.annotations]
        if ids == self.selected:
            return
        previous, self.selected = self.selected, ids
        # Batched detections leave the batch while selected, to be edited as ordinary items.
        self._on_annotations_changed(set(previous) | set(ids), emit=False)
        self._on_measurements_changed(self._document.measurements)  # values of the new items
        self.selection_changed.emit(list(ids))

    def pick(self, row: float, col: float, tolerance: float) -> int | None:
        """The batched detection under a point, if any (ordinary items take their own clicks)."""
        for batch in self._batches.values():
            found = batch.pick(row, col, tolerance)
            if found is not None:
                return found
        return None

    def revert(self, annotation_id: int) -> None:
        """Put an item back where its annotation is (after a refused edit)."""
        self._refresh(annotation_id)

    # --- document events -----------------------------------------------------------------

    def _on_annotations_changed(self, ids: set[int], emit: bool = True) -> None:
        assert self._document is not None
        dirty: set[str] = set()
        for annotation_id in ids:
            annotation = self._document.annotations.get(annotation_id)
            if annotation_id in self._batch_of:
                dirty.add(self._batch_of.pop(annotation_id))
            if annotation is None:
                self._remove(annotation_id)
            elif self._batched(annotation):
                self._remove(annotation_id)
                self._batch_of[annotation_id] = annotation.provenance.analysis
                dirty.add(annotation.provenance.analysis)
            elif annotation_id in self.items and self._same_kind(annotation):
                self._refresh(annotation_id)
            else:
                self._remove(annotation_id)
                self._add(annotation)
        for analysis in dirty:
            self._rebuild_batch(analysis)
        if emit and any(i not in self._document.annotations for i in self.selected):
            self.select([i for i in self.selected if i in self._document.annotations])

    def _batched(self, annotation: Annotation) -> bool:
        """Untouched detections are drawn in bulk, unless selected or drawn by a role item."""
        return (
            annotation.provenance.origin is Origin.AUTOMATIC
            and annotation.id not in self.selected
            and role_item_class(annotation) is None
        )

    def _rebuild_batch(self, analysis: str) -> None:
        members = [
            self._document.annotations[i] for i, a in self._batch_of.items() if a == analysis
        ]
        if not members:
            batch = self._batches.pop(analysis, None)
            if batch is not None:
                batch.remove()
            return
        if analysis not in self._batches:
            self._batches[analysis] = DetectionBatch(self._parent_item)
        self._batches[analysis].set_annotations(members)

    def _on_measurements_changed(self, table: MeasurementTable) -> None:
        assert self._document is not None
        seen = set()
        for row, annotation_id in zip(table.rows, table.annotation_ids, strict=True):
            if annotation_id in seen or annotation_id not in self._labels:
                continue
            seen.add(annotation_id)
            annotation = self._document.annotations[annotation_id]
            self.set_preview_text(annotation_id, value_text(row, annotation.kind))

    # --- items ---------------------------------------------------------------------------

    def _same_kind(self, annotation: Annotation) -> bool:
        return getattr(self.items[annotation.id], "kind", None) == annotation.kind

    def _add(self, annotation: Annotation) -> None:
        item = make_item(annotation, annotation.id in self.selected)
        item.kind = annotation.kind
        item.set_editable(self.editable)
        item.setParentItem(self._parent_item)
        annotation_id = annotation.id
        item.edit_finished.connect(lambda v, i=annotation_id: self.edit_requested.emit(i, v))
        item.edit_previewed.connect(lambda v, i=annotation_id: self._on_previewed(i, v))
        item.clicked.connect(lambda i=annotation_id: self._on_clicked(i))
        if isinstance(item, PointSetItem):
            item.point_removed.connect(
                lambda index, i=annotation_id: self.point_delete_requested.emit(i, index)
            )
        self.items[annotation_id] = item
        label = pg.TextItem("", color=(255, 255, 255), fill=pg.mkBrush(0, 0, 0, 140), anchor=(0, 1))
        label.setVisible(False)  # until it has a value (set_preview_text)
        label.setParentItem(self._parent_item)
        self._labels[annotation_id] = label
        self._place_label(annotation_id, annotation.vertices)

    def _remove(self, annotation_id: int) -> None:
        item = self.items.pop(annotation_id, None)
        if item is not None:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        label = self._labels.pop(annotation_id, None)
        if label is not None:
            label.setParentItem(None)
            if label.scene() is not None:
                label.scene().removeItem(label)

    def _refresh(self, annotation_id: int) -> None:
        if self._document is None or annotation_id not in self.items:
            return
        annotation = self._document.annotations[annotation_id]
        self.items[annotation_id].show_annotation(annotation, annotation_id in self.selected)
        self._place_label(annotation_id, annotation.vertices)

    def _place_label(self, annotation_id: int, vertices: np.ndarray) -> None:
        top = vertices[np.argmin(vertices[:, 0])]
        self._labels[annotation_id].setPos(float(top[1]), float(top[0]) - 2)

    def _on_previewed(self, annotation_id: int, vertices: np.ndarray) -> None:
        self._place_label(annotation_id, vertices)
        self.edit_previewed.emit(annotation_id, vertices)

    def _on_clicked(self, annotation_id: int) -> None:
        self.select([annotation_id])

    def set_preview_text(self, annotation_id: int, text: str) -> None:
        """Show a live value beside an item being dragged."""
        label = self._labels.get(annotation_id)
        if label is not None:
            label.setText(text)
            label.setVisible(bool(text))  # an empty label would still show its background
