"""Table export: CSV (spreadsheet locales), JSON and XLSX, written atomically.

Every writer takes columns and rows, so the same code serves the measurement table and any other
table (profile values, blob lists):

- columns: :class:`~measurer.core.measurements.Column` objects or plain header strings;
- rows: mappings from header to value (a missing header is an empty cell) or sequences of values
  in column order.

Cells are written as follows everywhere: numbers at full precision in CSV and JSON (the shortest
text that reads back to the same float, no thousands separators; XLSX keeps 16 significant
digits); ``None``, NaN and infinities as empty cells (``null`` in JSON), because spreadsheets
cannot read them; text as is.

CSV files are UTF-8 **with a byte-order mark by default** (``bom=True``): without it Excel reads
the file as the legacy Windows code page and shows ``"Length (Âµm)"``. Python readers should open
them with ``encoding="utf-8-sig"`` (pandas strips the mark by itself); pass ``bom=False`` for
tools that do not expect it. For spreadsheets in locales that write ``0,5``, use ``decimal=","``:
the separator then defaults to ``";"`` (and may not be ``","``). Lines end with ``\\r\\n`` as
RFC 4180 has it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from measurer.core.measurements import Column, MeasurementTable
from measurer.io.atomic import atomic_write_bytes

SEPARATORS = (",", ";", "\t")
DECIMALS = (".", ",")
#: File extensions and the format each one selects.
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".xlsx": "xlsx"}
XLSX_MISSING = "XLSX export needs openpyxl: pip install 'measurer[xlsx]'"

ColumnsLike = Sequence[Column | str]
RowsLike = Sequence[Mapping[str, Any] | Sequence[Any]]


class ExportError(ValueError):
    """A table cannot be written with the options given (or openpyxl is missing for XLSX)."""


def export_format(path: str | os.PathLike) -> str:
    """``"csv"``, ``"json"`` or ``"xlsx"`` from the file extension (``.tsv``/``.txt`` are CSV)."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(EXTENSIONS)
        raise ExportError(f"cannot tell the table format of {Path(path).name!r} (use {known})")
    return EXTENSIONS[suffix]


def _columns(columns: ColumnsLike) -> list[Column]:
    return [c if isinstance(c, Column) else Column(str(c), str(c)) for c in columns]


def _cell(value: Any) -> str | int | float | bool | None:
    """A value as a plain Python cell: numbers, text or None (None for NaN and infinities)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return str(value)


def _cells(columns: list[Column], rows: RowsLike) -> list[list[Any]]:
    """Every row as a list of plain cells in column order."""
    headers = [c.header for c in columns]
    table = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Mapping):
            values = [row.get(h) for h in headers]
        else:
            values = list(row)
            if len(values) != len(headers):
                raise ExportError(
                    f"row {number} has {len(values)} values for {len(headers)} columns"
                )
        table.append([_cell(v) for v in values])
    return table


def _text(cell: Any, decimal: str) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return repr(cell).replace(".", decimal)
    return str(cell)


def _column_texts(values: list[Any], decimal: str) -> list[str]:
    """The cells of one column as :func:`_text` of :func:`_cell` writes them, the common
    kinds (all Python floats, or ints and text) a whole column at a time."""
    kinds = set(map(type, values))
    if kinds == {float} and all(map(math.isfinite, values)):
        texts = list(map(repr, values))
        return texts if decimal == "." else [t.replace(".", decimal) for t in texts]
    if kinds <= {int, str}:  # type() is exact: bools and numpy scalars are not in here
        return list(map(str, values))
    return [_text(_cell(v), decimal) for v in values]


def _check_csv_options(separator: str, decimal: str) -> None:
    if separator not in SEPARATORS:
        raise ExportError(f"the separator must be one of {SEPARATORS!r}, got {separator!r}")
    if decimal not in DECIMALS:
        raise ExportError(f"the decimal mark must be '.' or ',', got {decimal!r}")
    if separator == decimal:
        raise ExportError("with ',' as decimal mark the separator must be ';' or a tab")


def csv_separator(path: str | os.PathLike, decimal: str = ".") -> str:
    """The default CSV separator for ``path``: a tab for ``.tsv``, ``";"`` with a decimal
    comma, else ``","``."""
    if Path(path).suffix.lower() == ".tsv":
        return "\t"
    return ";" if decimal == "," else ","


def csv_text(
    columns: ColumnsLike, rows: RowsLike, *, separator: str = ",", decimal: str = "."
) -> str:
    """The table as CSV text: a header row (units in the headers), then one line per row."""
    lines = csv_lines(columns, rows, separator=separator, decimal=decimal)
    return _csv_lines([[c.header for c in _columns(columns)]], separator) + lines


def csv_lines(
    columns: ColumnsLike, rows: RowsLike, *, separator: str = ",", decimal: str = "."
) -> str:
    """The rows of :func:`csv_text` without its header: pieces of one table formatted apart
    (by the workers of a batch) join into the same text."""
    headers = [c.header for c in _columns(columns)]
    if all(isinstance(row, Mapping) for row in rows):
        by_column = [[row.get(h) for row in rows] for h in headers]
    else:
        by_column = [list(values) for values in zip(*_cells(_columns(columns), rows), strict=True)]
    return csv_column_lines(by_column, len(rows), separator=separator, decimal=decimal)


def csv_column_lines(
    values: Sequence[Sequence[Any]], count: int, *, separator: str = ",", decimal: str = "."
) -> str:
    """:func:`csv_lines` of ``count`` rows given column by column: ``values[j][i]`` is the
    cell of row ``i`` in column ``j``."""
    _check_csv_options(separator, decimal)
    texts = [_column_texts(list(column), decimal) for column in values]
    return _csv_lines(zip(*texts, strict=True) if texts else [[]] * count, separator)


def _csv_lines(lines, separator: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue()


def json_text(columns: ColumnsLike, rows: RowsLike) -> str:
    """The table as JSON.

    The shape is ``{"columns": [{"header", "quantity", "unit"}, ...], "rows": [{header: value}]}``;
    every row has every header, with ``null`` where it has no value.
    """
    columns = _columns(columns)
    headers = [c.header for c in columns]
    data = {
        "columns": [{"header": c.header, "quantity": c.quantity, "unit": c.unit} for c in columns],
        "rows": [dict(zip(headers, cells, strict=True)) for cells in _cells(columns, rows)],
    }
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def xlsx_bytes(columns: ColumnsLike, rows: RowsLike, *, sheet: str = "Measurements") -> bytes:
    """The table as an XLSX workbook: bold header row, numeric cells, fitted column widths.

    Text is always stored as text, never as a formula (a label ``"=1+1"`` stays ``"=1+1"``).
    Numbers keep 16 significant digits (openpyxl's limit; Excel computes with 15).

    Raises
    ------
    ExportError
        When openpyxl is not installed.
    """
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
    except ImportError as exc:
        raise ExportError(XLSX_MISSING) from exc
    columns = _columns(columns)
    cells = _cells(columns, rows)
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        worksheet.cell(row=1, column=index, value=column.header).font = bold
    for row_index, row in enumerate(cells, start=2):
        for index, value in enumerate(row, start=1):
            if value is None or value == "":
                continue  # an empty cell, as in the CSV
            cell = worksheet.cell(row=row_index, column=index, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    for index, column in enumerate(columns, start=1):
        longest = max([len(column.header)] + [len(_text(r[index - 1], ".")) for r in cells[:200]])
        worksheet.column_dimensions[get_column_letter(index)].width = min(longest + 2, 50)
    worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_rows(
    path: str | os.PathLike,
    columns: ColumnsLike,
    rows: RowsLike,
    *,
    format: str | None = None,
    separator: str | None = None,
    decimal: str = ".",
    bom: bool = True,
    sheet: str = "Measurements",
) -> Path:
    """Write a table to a file, atomically.

    Parameters
    ----------
    path : str or PathLike
    columns, rows
        See the module docstring.
    format : {"csv", "json", "xlsx"}, optional
        Taken from the extension when omitted (see :func:`export_format`).
    separator : {",", ";", "\\t"}, optional
        CSV only. Default: a tab for ``.tsv`` files, ``";"`` with ``decimal=","``, else ``","``.
    decimal : {".", ","}
        CSV only: the decimal mark of numbers.
    bom : bool
        CSV only: start the file with a UTF-8 byte-order mark (the default, for Excel).
    sheet : str
        XLSX only: the worksheet's name.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    format = format or export_format(path)
    if format == "csv":
        if separator is None:
            separator = csv_separator(path, decimal)
        text = csv_text(columns, rows, separator=separator, decimal=decimal)
        data = text.encode("utf-8-sig" if bom else "utf-8")
    elif format == "json":
        data = json_text(columns, rows).encode("utf-8")
    elif format == "xlsx":
        data = xlsx_bytes(columns, rows, sheet=sheet)
    else:
        raise ExportError(f"unknown table format {format!r} (csv, json or xlsx)")
    return atomic_write_bytes(path, data)


def write_csv_lines(
    path: str | os.PathLike,
    columns: ColumnsLike,
    lines: str,
    *,
    separator: str | None = None,
    bom: bool = True,
) -> Path:
    """Write a CSV table whose rows :func:`csv_lines` formatted (with the same columns and
    separator), atomically: the file :func:`write_rows` writes for those rows."""
    path = Path(path)
    separator = csv_separator(path) if separator is None else separator
    _check_csv_options(separator, ".")
    text = _csv_lines([[c.header for c in _columns(columns)]], separator) + lines
    return atomic_write_bytes(path, text.encode("utf-8-sig" if bom else "utf-8"))


def write_table(path: str | os.PathLike, table: MeasurementTable, **options: Any) -> Path:
    """Write a measurement table; ``options`` are those of :func:`write_rows`."""
    return write_rows(path, table.columns, table.rows, **options)


def table_to_tsv(
    table: MeasurementTable, row_indices: Sequence[int] | None = None, *, decimal: str = "."
) -> str:
    """Rows of a table as tab-separated text with a header line, for the clipboard.

    Parameters
    ----------
    table : MeasurementTable
    row_indices : sequence of int, optional
        The rows to copy, in the order given; all rows when omitted.
    decimal : {".", ","}
        The decimal mark of the spreadsheet the text will be pasted into.

    Tabs and line breaks inside text become spaces (pasting has no quoting).
    """
    if decimal not in DECIMALS:
        raise ExportError(f"the decimal mark must be '.' or ',', got {decimal!r}")
    indices = range(len(table.rows)) if row_indices is None else row_indices
    rows = [table.rows[i] for i in indices]
    columns = list(table.columns)
    lines = [[c.header for c in columns]]
    lines += [[_text(c, decimal) for c in cells] for cells in _cells(columns, rows)]
    clean = str.maketrans("\t\r\n", "   ")
    return "".join("\t".join(t.translate(clean) for t in line) + "\n" for line in lines)
