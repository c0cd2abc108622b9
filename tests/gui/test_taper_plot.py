"""The Layers panel's Taper tab on a tapering synthetic stack: curves equal the table rows."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore

from measurer.analysis.synthetic_layers import layered_image
from measurer.core.annotations import Kind
from measurer.core.calibration import Calibration
from measurer.core.derived_layers import parse_boundary_role, project
from measurer.gui.main_window import MainWindow
from measurer.gui.panels.layers_panel import LayersPanel
from measurer.gui.panels.taper_plot import CHOSEN, FEW_PROFILES

WIDTHS = [12.0, 9.0, 15.0, 10.0, 13.0, 8.0, 11.0]
TAPER = 0.002  # 0.2 % wider per pixel along +direction: about ±17 % across the ROI
ROI = np.array([[40.5, 60.5], [200.5, 240.5]])


@pytest.fixture
def window(qtbot, settings, tmp_path):
    win = MainWindow(settings)
    win.resize(1000, 760)
    qtbot.addWidget(win)
    win.panel = win.add_analysis_panel(LayersPanel)
    image, win.truth = layered_image(
        (240, 300), WIDTHS, angle_deg=30.0, taper=TAPER, blur=1.3, seed=3
    )
    path = tmp_path / "taper.png"
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    win.files.open_image(str(path))
    qtbot.waitUntil(lambda: win.document is not None, timeout=10000)
    return win


def run_roi(qtbot, win, profiles: int) -> None:
    roi = win.controller.add_shape(Kind.RECTANGLE, ROI)
    win.layer.select([roi])
    win.panel.profiles.setValue(profiles)
    with qtbot.waitSignal(win.panel.finished, timeout=10000):
        win.panel.run()


def complete_rows(win) -> list[dict]:
    rows = win.document.measurements.rows
    return [r for r in rows if r["Kind"] == "layer" and r["Complete"]]


def table_series(win, unit: str) -> dict[int, tuple[list, list]]:
    """Each layer number's (positions, widths) from the complete layer rows, by position."""
    series: dict[int, list] = {}
    for r in complete_rows(win):
        series.setdefault(r["Layer"], []).append((r[f"Position ({unit})"], r[f"Width ({unit})"]))
    return {n: tuple(map(list, zip(*sorted(p), strict=True))) for n, p in series.items()}


def curve_series(win) -> dict[int, tuple[list, list]]:
    out = {}
    for number, curve in win.panel.taper.curves.items():
        x, y = curve.getData()
        out[number] = (x.tolist(), y.tolist())
    return out


def test_one_curve_per_complete_layer_equal_to_the_table_and_tapering(qtbot, window):
    panel = window.panel
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == ["Profile", "Taper"]
    run_roi(qtbot, window, 5)
    taper = panel.taper
    assert taper.pages.currentIndex() == 1  # the plot, not the message
    table = table_series(window, "px")
    assert len(table) == len(WIDTHS)  # every layer of the stack, the outer regions excluded
    assert curve_series(window) == table  # exact: the same numbers as the rows
    assert set(taper.plot.listDataItems()) == set(taper.curves.values())
    assert taper.plot.getAxis("left").labelText == "layer width (px)"

    # Where each profile lies along the layers (v) against its plotted position: the truth
    # says every width grows by TAPER per pixel of v, so slope / width = TAPER * dv/dposition.
    truth = window.truth
    profiles = panel.current_layers()
    v = [(p.line.vertices.mean(axis=0) - truth.origin) @ np.array(truth.direction)
         for p in profiles]  # fmt: skip
    dv_dposition = np.polyfit([p.position[0] for p in profiles], v, 1)[0]
    assert abs(abs(dv_dposition) - 1.0) < 0.02  # positions are distances along the layers
    expected = TAPER * dv_dposition
    relative = []
    for x, y in table.values():
        if len(x) >= 3:
            relative.append(np.polyfit(x, y, 1)[0] / np.mean(y))
    assert len(relative) >= 5
    assert sum(np.sign(r) == np.sign(expected) for r in relative) >= len(relative) - 1
    assert np.median(relative) == pytest.approx(expected, rel=0.1)
    assert relative == pytest.approx([expected] * len(relative), rel=0.25)

    # Dark curves solid, light ones dashed.
    rows = complete_rows(window)
    for number, curve in taper.curves.items():
        labels = {r["Label"] for r in rows if r["Layer"] == number}
        assert labels in ({"dark"}, {"light"})
        solid = curve.opts["pen"].style() == QtCore.Qt.PenStyle.SolidLine
        assert solid == (labels == {"dark"})


def test_widths_limited_by_blur_have_hollow_symbols(qtbot, window):
    window.panel.smoothing.setValue(2.5)  # unresolved below 4 * hypot(blur, 2.5) ~ 11 px
    run_roi(qtbot, window, 4)
    rows = complete_rows(window)
    assert 0 < sum(not r["Resolved"] for r in rows) < len(rows)
    for number, curve in window.panel.taper.curves.items():
        resolved = [r["Resolved"] for r in sorted(rows, key=lambda r: r["Position (px)"])
                    if r["Layer"] == number]  # fmt: skip
        filled = [pt.brush().style() != QtCore.Qt.BrushStyle.NoBrush
                  for pt in curve.scatter.points()]  # fmt: skip
        assert filled == resolved


def test_calibrated_units_and_choosing_a_layer(qtbot, window):
    run_roi(qtbot, window, 4)
    window.controller.set_calibration(Calibration(0.02, 0.05, "µm"))  # anisotropic pixels
    taper = window.panel.taper
    assert curve_series(window) == table_series(window, "µm")
    assert taper.plot.getAxis("left").labelText == "layer width (µm)"
    number = sorted(taper.curves)[2]
    taper.choose(number)
    assert taper.chosen() == number
    assert taper.curves[number].opts["pen"].color().getRgb()[:3] == CHOSEN
    others = [c for n, c in taper.curves.items() if n != number]
    assert all(c.opts["pen"].color().getRgb()[:3] != CHOSEN for c in others)
    assert taper.readout.text().startswith(f"Layer {number} ")
    window.undo()  # back to pixels
    assert curve_series(window) == table_series(window, "px")
    assert taper.chosen() == number  # the choice survives an edit
    other = sorted(taper.curves)[0]
    taper.curves[other].sigClicked.emit(taper.curves[other], None)  # a click on its curve
    assert taper.chosen() == other


def test_dragging_a_tick_moves_the_points_of_its_two_layers(qtbot, window):
    run_roi(qtbot, window, 4)
    panel = window.panel
    profile = panel.current_layers()[1]
    tick = profile.boundaries[len(profile.boundaries) // 2]
    around = {la.number for la in profile.layers if tick.id in la.sources}
    assert len(around) == 2
    before = curve_series(window)
    annotation = window.document.annotations[tick.id]
    start, end = profile.line.vertices
    unit = (end - start) / np.hypot(*(end - start))
    window.layer.edit_requested.emit(tick.id, annotation.vertices + 2.0 * unit)
    assert project(start, end, window.document.annotations[tick.id].vertices[0]) == (
        pytest.approx(tick.position + 2.0)
    )
    after = curve_series(window)
    assert after == table_series(window, "px")
    assert after.keys() == before.keys()
    changed = {}
    for number in before:
        assert after[number][0] == before[number][0]  # positions stay
        for x, y0, y1 in zip(*before[number], after[number][1], strict=True):
            if y0 != y1:
                changed[number] = (x, y1 - y0)
    assert changed.keys() == around
    assert {x for x, _ in changed.values()} == {profile.position[0]}
    assert sorted(d for _, d in changed.values()) == pytest.approx([-2.0, 2.0])
    window.undo()
    assert curve_series(window) == before


def test_one_profile_shows_the_message_and_no_curves(qtbot, window):
    taper = window.panel.taper
    assert taper.pages.currentIndex() == 0 and taper.message.text() == FEW_PROFILES
    run_roi(qtbot, window, 4)
    assert len(taper.curves) == len(WIDTHS)
    run_roi(qtbot, window, 1)  # a new run replaces the 4 profiles by one
    assert len(window.panel.current_layers()) == 1
    assert taper.pages.currentIndex() == 0
    assert taper.message.text() == FEW_PROFILES
    assert taper.curves == {} and taper.plot.listDataItems() == []
    boundaries = [a for a in window.document.annotations.values() if parse_boundary_role(a.role)]
    assert len(boundaries) == len(WIDTHS) + 1  # the run itself found every boundary
