"""The scale bar overlay: length in image pixels, automatic length, corners, export, dialog."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest

from measurer.core.calibration import Calibration
from measurer.core.style import format_length, nice_length
from measurer.gui.canvas.scale_bar import ScaleBarDialog, ScaleBarOptions, ScaleBarOverlay

SHAPE = (400, 600)  # rows, cols


@pytest.fixture
def viewbox(qtbot):
    view = pg.GraphicsView()
    qtbot.addWidget(view)
    box = pg.ViewBox(invertY=True, lockAspect=True)
    view.setCentralItem(box)
    yield box  # the fixture's frame keeps the view alive


def scene_rect(viewbox, overlay):
    """The bar in the view box's coordinates (x = column, y = row)."""
    return viewbox.mapFromItemToView(overlay, overlay.bar_rect()).boundingRect()


@pytest.mark.parametrize(
    ("calibration", "length", "expected_px"),
    [
        (Calibration(0.1, 0.1, "µm"), 10, 100.0),
        (Calibration(0.25, 0.25, "nm"), 50, 200.0),
        (Calibration(2.0, 2.0, "mm"), 1, 0.5),
        (Calibration(0.3, 0.3, "µm"), 10, 10 / 0.3),
        # Non-square pixels: a horizontal bar counts pixel widths only.
        (Calibration(0.1, 0.4, "µm"), 10, 100.0),
        (Calibration(0.4, 0.1, "µm"), 10, 25.0),
    ],
)
def test_bar_length_in_image_pixels(viewbox, calibration, length, expected_px):
    overlay = ScaleBarOverlay(ScaleBarOptions(length=length), calibration, SHAPE)
    viewbox.addItem(overlay, ignoreBounds=True)
    rect = scene_rect(viewbox, overlay)
    assert rect.width() == pytest.approx(expected_px, rel=1e-12)
    assert overlay.isVisible()
    assert overlay.label_text() == format_length(length, calibration.unit)


def test_export_at_full_resolution_has_a_100_pixel_bar(qtbot):
    # 10 µm at 0.1 µm/px, thickness 6 px, painted 1:1 as an export would.
    options = ScaleBarOptions(length=10, thickness=6, color="#ff0000", label=False)
    overlay = ScaleBarOverlay(options, Calibration(0.1, 0.1, "µm"), SHAPE)
    image = QImage(SHAPE[1], SHAPE[0], QImage.Format.Format_RGB32)
    image.fill(0xFF000000)
    painter = QPainter(image)
    painter.translate(0.5, 0.5)  # pixel centres at integers: pixel 0 spans -0.5..0.5
    overlay.paint(painter)
    painter.end()
    pixels = np.frombuffer(image.constBits(), np.uint32).reshape(SHAPE)
    red = pixels == 0xFFFF0000
    rows, cols = np.nonzero(red)
    assert red.sum() == 100 * 6
    assert cols.max() - cols.min() + 1 == 100
    assert rows.max() - rows.min() + 1 == 6
    rect = overlay.bar_rect()
    assert (cols.min(), rows.min()) == (rect.left() + 0.5, rect.top() + 0.5)


@pytest.mark.parametrize(
    ("target", "expected"),
    [(14, 10), (15, 20), (3.3, 5), (0.7, 0.5), (7.5, 10), (0.00123, 0.001), (1, 1), (74, 100),
     (2e6, 2e6), (0.031, 0.02)],
)  # fmt: skip
def test_nice_length(target, expected):
    assert nice_length(target) == expected


def test_nice_length_rejects_nonsense():
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            nice_length(bad)


@pytest.mark.parametrize(
    ("calibration", "cols", "length", "label"),
    [
        (Calibration(0.1, 0.1, "µm"), 700, 10.0, "10 µm"),  # 70 µm wide, 1/5 = 14
        (Calibration(0.37, 0.37, "nm"), 1000, 100.0, "100 nm"),  # 1/5 = 74
        (Calibration(0.004, 0.02, "mm"), 512, 0.5, "0.5 mm"),  # 1/5 = 0.41
        (Calibration(1.5, 1.5, "in"), 20, 5.0, "5 in"),  # 1/5 = 6
    ],
)
def test_automatic_length(viewbox, calibration, cols, length, label):
    overlay = ScaleBarOverlay(ScaleBarOptions(), calibration, (300, cols))
    viewbox.addItem(overlay)
    assert overlay.length() == pytest.approx(length)
    assert overlay.label_text() == label
    assert scene_rect(viewbox, overlay).width() == pytest.approx(length / calibration.pixel_width)


def test_hidden_when_uncalibrated_and_follows_the_calibration(viewbox):
    overlay = ScaleBarOverlay(ScaleBarOptions(length=10), Calibration.uncalibrated(), SHAPE)
    viewbox.addItem(overlay)
    assert not overlay.isVisible()
    assert overlay.length() is None and overlay.label_text() == ""
    assert overlay.bar_rect().isEmpty()
    overlay.set_calibration(Calibration(0.5, 0.5, "µm"))
    assert overlay.isVisible()
    assert scene_rect(viewbox, overlay).width() == pytest.approx(20.0)
    overlay.set_calibration(Calibration(0.25, 0.25, "µm"))
    assert scene_rect(viewbox, overlay).width() == pytest.approx(40.0)
    overlay.set_calibration(Calibration.uncalibrated())
    assert not overlay.isVisible()


def test_hidden_without_an_image_or_when_switched_off():
    cal = Calibration(0.5, 0.5, "µm")
    overlay = ScaleBarOverlay(ScaleBarOptions(), cal)
    assert not overlay.isVisible()
    overlay.set_image_shape((100, 100, 3))
    assert overlay.isVisible()
    overlay.set_options(ScaleBarOptions(visible=False))
    assert not overlay.isVisible()


@pytest.mark.parametrize("position", ["bottom-right", "bottom-left", "top-right", "top-left"])
def test_corners(position):
    options = ScaleBarOptions(length=10, position=position, thickness=4, font_size=20)
    overlay = ScaleBarOverlay(options, Calibration(0.1, 0.1, "µm"), SHAPE)
    bar, label = overlay.bar_rect(), overlay.label_rect()
    image = QRectF(-0.5, -0.5, SHAPE[1], SHAPE[0])
    margin = round(min(SHAPE) / 30)
    assert image.contains(bar.united(label))
    assert label.top() > bar.bottom()  # the label sits under the bar
    assert label.center().x() == pytest.approx(bar.center().x())
    assert 0.5 * 20 < label.height() <= 1.2 * 20  # "10 µm" in a 20 px font, descender included
    if position.endswith("right"):
        assert bar.right() == pytest.approx(image.right() - margin)
    else:
        assert bar.left() == pytest.approx(image.left() + margin)
    if position.startswith("top"):
        assert bar.top() == pytest.approx(image.top() + margin)
    else:
        assert label.bottom() == pytest.approx(image.bottom() - margin)


def test_a_label_wider_than_the_bar_stays_inside_the_image():
    options = ScaleBarOptions(length=0.5, font_size=40)
    overlay = ScaleBarOverlay(options, Calibration(0.1, 0.1, "µm"), SHAPE)
    assert overlay.label_rect().width() > overlay.bar_rect().width()
    assert QRectF(-0.5, -0.5, SHAPE[1], SHAPE[0]).contains(overlay.label_rect())


def test_font_size_and_thickness_in_image_pixels():
    cal = Calibration(0.1, 0.1, "µm")
    small = ScaleBarOverlay(ScaleBarOptions(font_size=20, thickness=3), cal, SHAPE)
    large = ScaleBarOverlay(ScaleBarOptions(font_size=40, thickness=9), cal, SHAPE)
    assert large.label_rect().height() == pytest.approx(2 * small.label_rect().height(), 1e-3)
    assert (small.bar_rect().height(), large.bar_rect().height()) == (3, 9)
    no_label = ScaleBarOverlay(ScaleBarOptions(label=False), cal, SHAPE)
    assert no_label.label_rect().isEmpty()


def test_options_round_trip_and_validation():
    options = ScaleBarOptions(False, 20.0, "top-left", "#12ab34", 5, False, 30)
    assert ScaleBarOptions.from_dict(options.to_dict()) == options
    assert ScaleBarOptions.from_dict({"position": "top-right", "extra": 1}) == ScaleBarOptions(
        position="top-right"
    )
    for bad in ({"length": -2}, {"position": "middle"}, {"color": "sparkly"}, {"thickness": -1},
                {"length": "ten"}, {"font_size": None}):  # fmt: skip
        with pytest.raises(ValueError):
            ScaleBarOptions.from_dict(bad)


def test_dialog_edits_the_options(qtbot):
    start = ScaleBarOptions()
    dialog = ScaleBarDialog(start, Calibration(0.1, 0.1, "µm"), (512, 700))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.warning_label.isHidden()
    assert dialog.length_edit.placeholderText() == "automatic (10 µm)"
    assert dialog.options() == start
    seen = []
    dialog.options_changed.connect(seen.append)
    QTest.keyClicks(dialog.length_edit, "25")
    dialog.position_combo.setCurrentIndex(dialog.position_combo.findData("top-left"))
    dialog.thickness_spin.setValue(7)
    dialog.label_check.click()
    assert not dialog.font_spin.isEnabled()
    dialog.set_color("#00ff00")
    expected = ScaleBarOptions(True, 25.0, "top-left", "#00ff00", 7, False, 0)
    assert dialog.options() == expected
    assert seen[-1] == expected
    dialog.set_color("black")
    assert dialog.options().color == "black"


def test_dialog_refuses_a_bad_length(qtbot):
    dialog = ScaleBarDialog(ScaleBarOptions(length=5), Calibration(0.1, 0.1, "µm"))
    qtbot.addWidget(dialog)
    for text in ("0", "-1", "abc"):
        dialog.length_edit.setText(text)
        assert not dialog.ok_button.isEnabled()
        assert dialog.hint_label.text()
    dialog.length_edit.setText("")
    assert dialog.ok_button.isEnabled()
    assert dialog.options().length is None


def test_dialog_says_why_there_is_no_bar_when_uncalibrated(qtbot):
    dialog = ScaleBarDialog(ScaleBarOptions(), Calibration.uncalibrated())
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.warning_label.isVisible()
    assert "meaningless" in dialog.warning_label.text()
