"""Table export: CSV in both spreadsheet locales, JSON, XLSX, clipboard text, atomic writes."""

import csv
import json
import math
import os
import sys

import pytest

from measurer.core.annotations import Annotation
from measurer.core.calibration import Calibration
from measurer.core.measurements import Column, compute_measurements
from measurer.io import atomic
from measurer.io.tables import (
    XLSX_MISSING,
    ExportError,
    csv_text,
    export_format,
    table_to_tsv,
    write_rows,
    write_table,
)

TRICKY_LABEL = 'a, "b"; c'


@pytest.fixture
def table():
    annotations = [
        Annotation(1, "line", [(0.1, 0.2), (3.3, 7.7)], label=TRICKY_LABEL),
        Annotation(2, "rectangle", [(2.5, 3.5), (6.5, 10.5)], label="=1+1"),
        Annotation(3, "points", [(1, 2), (3, 4)], classes=(0, 1)),
        Annotation(4, "angle", [(1, 1), (1, 1), (2, 3)], label="degenerate"),  # angle NaN
    ]
    calibration = Calibration(0.1, 0.3, "µm", "metadata")
    return compute_measurements(annotations, calibration, class_names={1: "größer"})


def read_csv(path, delimiter):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def assert_cells_match(table, lines, decimal):
    """Every cell read back equals the table's value: numbers exactly, None/NaN as empty."""
    assert lines[0] == table.headers
    assert len(lines) == len(table.rows) + 1
    numbers = 0
    for row, line in zip(table.rows, lines[1:], strict=True):
        for header, text in zip(table.headers, line, strict=True):
            value = row.get(header)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert text == "", header
            elif isinstance(value, float | int):
                assert float(text.replace(decimal, ".")) == value, header  # full precision
                numbers += 1
            else:
                assert text == value, header
    assert numbers >= 30


def test_csv_default_is_comma_dot_with_bom(tmp_path, table):
    path = write_table(tmp_path / "m.csv", table)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark, for Excel
    assert "Length (µm)" in raw.decode("utf-8-sig") and "Area (µm²)" in table.headers
    assert raw.count(b"\r\n") == len(table.rows) + 1
    assert_cells_match(table, read_csv(path, ","), ".")


def test_csv_european_locale(tmp_path, table):
    path = write_table(tmp_path / "m.csv", table, decimal=",")
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("ID;Image;Kind;")  # ';' is the default with ','
    assert "0,1" in text
    lines = read_csv(path, ";")
    assert_cells_match(table, lines, ",")
    assert lines[1][table.headers.index("Label")] == TRICKY_LABEL


def test_csv_tab_separated(tmp_path, table):
    path = write_table(tmp_path / "m.tsv", table)
    assert_cells_match(table, read_csv(path, "\t"), ".")
    path = write_table(tmp_path / "m.csv", table, separator="\t", decimal=",")
    assert_cells_match(table, read_csv(path, "\t"), ",")


def test_csv_without_bom(tmp_path, table):
    path = write_table(tmp_path / "m.csv", table, bom=False)
    assert path.read_bytes().startswith(b"ID,")
    with open(path, encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == table.headers


@pytest.mark.parametrize(
    ("separator", "decimal", "message"),
    [(",", ",", "must be ';' or a tab"), ("|", ".", "separator must be"), (";", "·", "decimal")],
)
def test_csv_bad_options(tmp_path, table, separator, decimal, message):
    with pytest.raises(ExportError, match=message):
        write_table(tmp_path / "m.csv", table, separator=separator, decimal=decimal)
    assert not (tmp_path / "m.csv").exists()


def test_numbers_at_full_precision_without_grouping():
    columns = ["a", "b", "c", "d", "e", "f"]
    rows = [[0.1 + 0.2, 1e-20, 123456789.125, -0.0, 7, float("inf")]]
    line = csv_text(columns, rows).splitlines()[1]
    assert line == "0.30000000000000004,1e-20,123456789.125,-0.0,7,"
    assert csv_text(columns, rows, separator=";", decimal=",").splitlines()[1] == (
        "0,30000000000000004;1e-20;123456789,125;-0,0;7;"
    )


def test_json_shape_and_values(tmp_path, table):
    path = write_table(tmp_path / "m.json", table)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [c["header"] for c in data["columns"]] == table.headers
    length = data["columns"][table.headers.index("Length (µm)")]
    assert length == {"header": "Length (µm)", "quantity": "Length", "unit": "µm"}
    assert len(data["rows"]) == len(table.rows)
    for row, written in zip(table.rows, data["rows"], strict=True):
        assert list(written) == table.headers  # every row has every column
        for header in table.headers:
            value = row.get(header)
            if isinstance(value, float) and math.isnan(value):
                value = None
            assert written[header] == value
    assert data["rows"][-1]["Angle (°)"] is None


def test_xlsx_round_trip(tmp_path, table):
    openpyxl = pytest.importorskip("openpyxl")
    path = write_table(tmp_path / "m.xlsx", table)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "Measurements"
    header = [c.value for c in sheet[1]]
    assert header == table.headers
    assert all(c.font.bold for c in sheet[1])
    for row, cells in zip(table.rows, sheet.iter_rows(min_row=2), strict=True):
        for header_text, cell in zip(table.headers, cells, strict=True):
            value = row.get(header_text)
            if value in (None, "") or (isinstance(value, float) and math.isnan(value)):
                assert cell.value is None
            elif isinstance(value, int | float):
                # openpyxl writes 16 significant digits (Excel itself shows 15)
                assert cell.data_type == "n"
                assert cell.value == pytest.approx(value, rel=1e-15, abs=1e-300)
            else:
                assert cell.data_type in ("s", "inlineStr") and cell.value == value
    label = sheet.cell(row=3, column=table.headers.index("Label") + 1)
    assert label.value == "=1+1" and label.data_type != "f"  # text, not a formula
    assert sheet.column_dimensions["A"].width >= len("ID")
    width = sheet.column_dimensions[openpyxl.utils.get_column_letter(7)].width
    assert width >= len(table.headers[6])
    assert sheet.freeze_panes == "A2"


def test_xlsx_without_openpyxl(tmp_path, table, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # makes "import openpyxl" fail
    with pytest.raises(ExportError) as info:
        write_table(tmp_path / "m.xlsx", table)
    assert (
        str(info.value)
        == XLSX_MISSING
        == ("XLSX export needs openpyxl: pip install 'measurer[xlsx]'")
    )
    assert not (tmp_path / "m.xlsx").exists()


def test_write_rows_generic(tmp_path):
    columns = [Column("Distance (µm)", "Distance", "µm"), "Value"]
    rows = [[0.0, 12], {"Distance (µm)": 0.5, "Value": 13.5}, {"Value": None}]
    path = write_rows(tmp_path / "profile.csv", columns, rows, bom=False)
    assert path.read_text(encoding="utf-8").splitlines() == [
        "Distance (µm),Value",
        "0.0,12",
        "0.5,13.5",
        ",",
    ]
    data = json.loads(write_rows(tmp_path / "p.json", columns, rows).read_text("utf-8"))
    assert data["columns"][1] == {"header": "Value", "quantity": "Value", "unit": ""}
    with pytest.raises(ExportError, match="row 1 has 1 values for 2 columns"):
        write_rows(tmp_path / "bad.csv", columns, [[1.0]])


def test_export_format():
    assert export_format("a.CSV") == "csv"
    assert export_format("a.tsv") == "csv"
    assert export_format("dir.v2/a.xlsx") == "xlsx"
    with pytest.raises(ExportError, match="cannot tell the table format"):
        export_format("a.ods")


def test_table_to_tsv(table):
    text = table_to_tsv(table, [2, 0])
    lines = text.split("\n")
    assert lines[-1] == ""
    assert lines[0].split("\t") == table.headers
    assert [line.split("\t")[0] for line in lines[1:3]] == ["3.1", "1"]
    european = table_to_tsv(table, [0], decimal=",")
    length = european.split("\n")[1].split("\t")[table.headers.index("Length (px)")]
    assert float(length.replace(",", ".")) == table.rows[0]["Length (px)"]
    assert len(table_to_tsv(table).split("\n")) == len(table.rows) + 2


def test_table_to_tsv_flattens_tabs_and_newlines():
    annotation = Annotation(1, "line", [(0, 0), (0, 1)], label="two\tparts\nand a line")
    table = compute_measurements([annotation], Calibration.uncalibrated())
    row = table_to_tsv(table).split("\n")[1].split("\t")
    assert row[table.headers.index("Label")] == "two parts and a line"
    assert len(row) == len(table.headers)


# --- atomic writes -------------------------------------------------------------------------


def test_failed_replace_leaves_the_old_file(tmp_path, table, monkeypatch):
    path = tmp_path / "m.csv"
    path.write_text("old content")

    def broken_replace(source, target):
        raise OSError("disk on fire")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_table(path, table)
    assert path.read_text() == "old content"
    assert os.listdir(tmp_path) == ["m.csv"]  # no temporary file left behind


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text("old content")

    def broken_fsync(fd):
        raise OSError("no space left")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="no space left"):
        atomic.atomic_write_text(path, "new content")
    assert path.read_text() == "old content"
    assert os.listdir(tmp_path) == ["m.json"]


def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / "a.txt"
    atomic.atomic_write_text(path, "µm²\n")
    assert path.read_bytes() == "µm²\n".encode()
    atomic.atomic_write_text(path, "bom", encoding="utf-8-sig")
    assert path.read_bytes() == b"\xef\xbb\xbfbom"
    assert os.listdir(tmp_path) == ["a.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_keeps_permissions(tmp_path):
    path = tmp_path / "a.txt"
    atomic.atomic_write_bytes(path, b"first")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600
    path.chmod(0o640)
    atomic.atomic_write_bytes(path, b"second")
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.read_bytes() == b"second"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_atomic_write_through_a_symlink(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic.atomic_write_text(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_atomic_write_into_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic.atomic_write_text(tmp_path / "missing" / "a.txt", "x")
