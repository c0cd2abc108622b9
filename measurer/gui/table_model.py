"""Qt table model over the document's measurement table."""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore

from measurer.core.measurements import MeasurementTable

_ROLE_SORT = QtCore.Qt.ItemDataRole.UserRole
_ROLE_ANNOTATION = QtCore.Qt.ItemDataRole.UserRole + 1


class MeasurementTableModel(QtCore.QAbstractTableModel):
    """Rows of a :class:`MeasurementTable`; a row being dragged shows its live preview values."""

    SORT_ROLE = _ROLE_SORT
    ANNOTATION_ROLE = _ROLE_ANNOTATION

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.table = MeasurementTable((), (), ())
        self._preview: dict[int, dict[str, Any]] = {}

    def set_table(self, table: MeasurementTable) -> None:
        """Show a new table (drops any preview)."""
        self.beginResetModel()
        self.table = table
        self._preview = {}
        self.endResetModel()

    def set_preview(self, annotation_id: int, rows: list[dict[str, Any]]) -> None:
        """Show live values for an annotation being dragged."""
        indices = self.table.rows_for(annotation_id)
        if len(indices) != len(rows):
            return
        for index, row in zip(indices, rows, strict=True):
            self._preview[index] = row
        if indices:
            self.dataChanged.emit(
                self.index(min(indices), 0), self.index(max(indices), self.columnCount() - 1)
            )

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        """Number of rows."""
        return 0 if parent.isValid() else len(self.table.rows)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else len(self.table.columns)

    def data(
        self, index: QtCore.QModelIndex, role: int = QtCore.Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Formatted values for display; raw values for sorting; the annotation id."""
        if not index.isValid():
            return None
        row = self._preview.get(index.row(), self.table.rows[index.row()])
        header = self.table.columns[index.column()].header
        value = row.get(header)
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            return _format(value)
        if role == _ROLE_SORT:
            return _sort_key(value)
        if role == _ROLE_ANNOTATION:
            return self.table.annotation_ids[index.row()]
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation, role: int = QtCore.Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column headers with units."""
        if role != QtCore.Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == QtCore.Qt.Orientation.Horizontal:
            return self.table.columns[section].header
        return str(section + 1)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _sort_key(value: Any) -> Any:
    """Numbers sort numerically, ids like '4.10' after '4.9', text alphabetically."""
    if isinstance(value, int | float):
        return (0, float(value), "")
    if isinstance(value, str):
        parts = value.split(".")
        if all(p.isdigit() for p in parts) and value:
            return (0, float(parts[0]) + (int(parts[1]) / 1e6 if len(parts) > 1 else 0), "")
        return (1, 0.0, value.lower())
    return (2, 0.0, "")
