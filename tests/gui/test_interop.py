"""File menu: ImageJ ROI sets in and out, figures as TIFF and SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtWidgets

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.commands import AddAnnotations
from measurer.gui.main_window import MainWindow
from measurer.io.images import read_image


@pytest.fixture
def window(qtbot, settings, tmp_path):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    path = tmp_path / "img.png"
    Image.fromarray((np.arange(60 * 80) % 256).astype(np.uint8).reshape(60, 80)).save(path)
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    doc = win.document
    doc.apply(
        AddAnnotations(
            [
                Annotation(doc.new_id(), Kind.RECTANGLE, [(9.5, 19.5), (29.5, 59.5)], label="cell"),
                Annotation(doc.new_id(), Kind.LINE, [(5, 5), (5, 45)], label="scale"),
                Annotation(doc.new_id(), Kind.POINTS, [(40, 10), (42, 12)], classes=(0, 2)),
            ]
        )
    )
    return win


def through_the_menu(window, monkeypatch, action: str, path) -> None:
    """Trigger File-menu ``action`` with its file dialog answering ``path``."""
    answer = lambda *args, **kwargs: (str(path), "")  # noqa: E731
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", answer)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", answer)
    assert window.actions_by_name[action].isEnabled()
    window.actions_by_name[action].trigger()


def test_rois_round_trip_through_an_imagej_set(window, tmp_path, monkeypatch):
    out = tmp_path / "rois.zip"
    through_the_menu(window, monkeypatch, "file.export.rois", out)
    assert out.exists()
    before = [a.to_dict() for a in window.document.annotations.values()]
    window.controller.delete(window.document.order())
    assert window.document.annotations == {}
    through_the_menu(window, monkeypatch, "file.import.rois", out)
    after = list(window.document.annotations.values())
    assert [a.kind for a in after] == [Kind.RECTANGLE, Kind.LINE, Kind.POINTS]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_allclose(new.vertices, old["vertices"], atol=1e-4)
        assert new.provenance.origin is Origin.MANUAL
    assert after[0].label == "cell" and after[2].classes == (0, 2)
    assert window.document.history.texts()[-1] == "add 3 annotations"  # one undo step
    window.undo()
    assert window.document.annotations == {}


def test_export_only_the_selection(window, tmp_path):
    from measurer.io.imagej_roi import read_rois

    rect = window.document.order()[0]
    window.layer.select([rect])
    out = tmp_path / "one.zip"
    assert window.interop.export_rois(str(out))
    (only,) = read_rois(out)
    assert only.kind is Kind.RECTANGLE


def test_a_bad_roi_file_says_so_and_changes_nothing(window, tmp_path, no_blocking_message_boxes):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    before = dict(window.document.annotations)
    assert window.interop.import_rois(str(bad)) == 0
    assert window.document.annotations == before
    kind, _title, text = no_blocking_message_boxes[-1]
    assert kind == "critical" and "bad.zip" in text


def test_figure_as_calibrated_tiff_and_vector_svg(window, tmp_path, monkeypatch):
    window.controller.set_calibration(Calibration(0.5, 0.5, "µm", "manual"))
    tif = tmp_path / "fig.tif"
    through_the_menu(window, monkeypatch, "file.export.figure.tif", tif)
    figure = read_image(tif)
    assert figure.page(0).shape == (60, 80, 3)
    assert figure.calibration.pixel_width == pytest.approx(0.5)
    # The line on row 5 from column 5 to 45 is drawn in the manual colour (255, 210, 0).
    row = figure.page(0)[5, 10:40].astype(int)
    assert (row[:, 0] > 200).all() and (row[:, 2] < 100).all()
    svg = tmp_path / "fig.svg"
    through_the_menu(window, monkeypatch, "file.export.figure.svg", svg)
    root = ET.parse(svg).getroot()
    assert root.get("width") in ("80", "80.0") or "80" in root.get("viewBox", "")
    rects = [e for e in root.iter() if e.tag.endswith("rect") and e.get("x") == "20"]
    assert rects and float(rects[0].get("width")) == pytest.approx(40)


def test_the_image_as_a_calibrated_tiff_keeps_pixels_pages_and_pixel_size(
    qtbot, window, tmp_path, monkeypatch
):
    from measurer.io.samples import sample_paths
    from measurer.io.tiff_writer import imagej_pixels

    # The 8-bit image, calibrated here: its pixels, no overlays, and the pixel size set.
    window.controller.set_calibration(Calibration(0.5, 0.25, "µm", "manual"))
    out = tmp_path / "calibrated.tif"
    through_the_menu(window, monkeypatch, "file.export.tiff", out)
    back = read_image(out)
    np.testing.assert_array_equal(back.page(0), window.document.image)
    cal = back.calibration
    assert (cal.pixel_width, cal.pixel_height, cal.unit) == (0.5, 0.25, "µm")
    # A 16-bit stack: every page, as stored.
    stack = sample_paths()["stack_16bit.tif"]
    window.files.open_image(str(stack))
    qtbot.waitUntil(lambda: window.document.path == stack, timeout=10000)
    out = tmp_path / "stack.tif"
    through_the_menu(window, monkeypatch, "file.export.tiff", out)
    original, back = read_image(stack), read_image(out)
    assert back.pages == original.pages > 1 and back.dtype == np.uint16
    np.testing.assert_array_equal(back.data, original.data)
    # Types ImageJ does not open become float32, exactly; alpha is dropped.
    signed = np.array([[[-3, 0], [7, 32767]]], np.int16)
    assert imagej_pixels(signed).dtype == np.float32
    np.testing.assert_array_equal(imagej_pixels(signed), signed[0])
    assert imagej_pixels(np.zeros((1, 2, 2, 4), np.uint8)).shape == (1, 2, 2, 3)
