"""The measurements dock: the table, sorting, selection, copy and export."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from measurer.gui.table_model import MeasurementTableModel


class _SortProxy(QtCore.QSortFilterProxyModel):
    """Sorts on the model's Python sort keys (numbers numerically, ids naturally)."""

    def lessThan(self, left: QtCore.QModelIndex, right: QtCore.QModelIndex) -> bool:
        """Compare the sort keys."""
        role = MeasurementTableModel.SORT_ROLE
        return self.sourceModel().data(left, role) < self.sourceModel().data(right, role)


class MeasurementsPanel(QtWidgets.QWidget):
    """Table of measurements; emits the annotation ids the user selects.

    Signals
    -------
    selection_changed(list)
        Annotation ids of the selected rows.
    export_requested(str)
        ``"csv"``, ``"json"`` or ``"xlsx"``.
    delete_requested()
    """

    selection_changed = QtCore.Signal(list)
    export_requested = QtCore.Signal(str)
    delete_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = MeasurementTableModel(self)
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QtWidgets.QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, QtCore.Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setStretchLastSection(False)
        # Size columns from the first rows only: measuring 20,000 rows takes most of a second.
        self.view.horizontalHeader().setResizeContentsPrecision(200)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._syncing = False

        self.count_label = QtWidgets.QLabel("No measurements yet", self)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.count_label, 1)
        for text, fmt in (("Export CSV…", "csv"), ("JSON…", "json"), ("XLSX…", "xlsx")):
            button = QtWidgets.QPushButton(text, self)
            button.clicked.connect(lambda _=False, f=fmt: self.export_requested.emit(f))
            buttons.addWidget(button)
        copy = QtWidgets.QPushButton("Copy", self)
        copy.setToolTip("Copy the selected rows as tab-separated text (Ctrl+C)")
        copy.clicked.connect(self.copy_selection)
        buttons.addWidget(copy)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view)
        layout.addLayout(buttons)

        QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Copy, self.view, self.copy_selection)
        QtGui.QShortcut(
            QtGui.QKeySequence.StandardKey.Delete, self.view, self.delete_requested.emit
        )

    def set_table(self, table) -> None:
        """Show a new measurement table, keeping the selection."""
        selected = self.selected_ids()
        self._syncing = True
        self.model.set_table(table)
        self._syncing = False
        self.view.resizeColumnsToContents()
        n = len({*table.annotation_ids})
        self.count_label.setText(
            f"{len(table.rows)} rows, {n} annotations" if table.rows else "No measurements yet"
        )
        self.select_ids(selected)

    def selected_rows(self) -> list[int]:
        """Source-model row indices of the selected rows, in view order."""
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        return sorted(rows, key=lambda r: self.proxy.mapFromSource(self.model.index(r, 0)).row())

    def selected_ids(self) -> list[int]:
        """Annotation ids of the selected rows."""
        ids = [self.model.table.annotation_ids[r] for r in self.selected_rows()]
        return list(dict.fromkeys(ids))

    def selected_points(self) -> list[tuple[int, int]]:
        """``(annotation id, point index)`` of the selected rows of point sets whose rows are
        not all selected: points to remove one by one rather than their whole sets."""
        table, chosen = self.model.table, set(self.selected_rows())
        points = []
        for annotation_id in self.selected_ids():
            rows = table.rows_for(annotation_id)
            if len(rows) > 1 and not chosen.issuperset(rows):
                points += [(annotation_id, i) for i, row in enumerate(rows) if row in chosen]
        return points

    def select_ids(self, ids: list[int]) -> None:
        """Select the rows of these annotations (without echoing a selection signal)."""
        selection = QtCore.QItemSelection()
        for annotation_id in ids:
            for row in self.model.table.rows_for(annotation_id):
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(index, index)
        self._syncing = True
        flags = (
            QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QtCore.QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().select(selection, flags)
        if ids and not selection.isEmpty():
            self.view.scrollTo(selection.indexes()[0])
        self._syncing = False

    def copy_selection(self) -> None:
        """Copy the selected rows (or all, when none is selected) as tab-separated text."""
        from measurer.io.tables import table_to_tsv

        rows = self.selected_rows() or list(range(len(self.model.table.rows)))
        QtWidgets.QApplication.clipboard().setText(table_to_tsv(self.model.table, rows))

    def _on_selection_changed(self, *_) -> None:
        if not self._syncing:
            self.selection_changed.emit(self.selected_ids())
