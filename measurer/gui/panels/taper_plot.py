"""The taper plot of the Layers panel: each layer's width against where its profile lies.

It is fed the :class:`~measurer.core.derived_layers.ProfileLayers` that the table rows are
built from (:func:`~measurer.core.derived_layers.profile_layers`), so every point is one
``layer`` row of the table: x is the row's ``Position``, y its ``Width``, both in the calibrated
unit when the image has one, else in pixels. Only complete layers are plotted, one curve per
``Layer`` number: dark layers solid blue, light layers dashed orange, "mixed" ones (two
boundaries of the same polarity) dotted grey; a hollow symbol marks a width limited by blur.
Choosing a layer (the list, or a click on its curve) highlights it and reads out its taper.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from measurer.core.calibration import PIXEL_UNIT, Calibration
from measurer.core.derived_layers import ProfileLayers

#: Colour and line style of each layer kind's curves, and of the chosen layer.
STYLES = {
    "dark": ((80, 150, 255), QtCore.Qt.PenStyle.SolidLine),
    "light": ((255, 165, 50), QtCore.Qt.PenStyle.DashLine),
    "mixed": ((170, 170, 170), QtCore.Qt.PenStyle.DotLine),
}
CHOSEN = (255, 60, 200)
FEW_PROFILES = "Run with 2 or more profiles to see how the layers taper."
NONE_COMPLETE = "No layer has both boundaries on any profile, so there is no width to plot."


@dataclass(frozen=True)
class TaperSeries:
    """One layer across the profiles: its number and kind, positions and widths, in order."""

    number: int
    kind: str
    positions: tuple[float, ...]
    widths: tuple[float, ...]
    resolved: tuple[bool, ...]

    @property
    def change(self) -> float | None:
        """Relative width change from the first position to the last (None with one point)."""
        if len(self.widths) < 2 or self.widths[0] == 0:
            return None
        return (self.widths[-1] - self.widths[0]) / self.widths[0]


def taper_series(profiles: Sequence[ProfileLayers], calibrated: bool) -> list[TaperSeries]:
    """Every complete layer's width against its profile's position, by layer number.

    The values are those of the table's ``Position`` and ``Width`` columns (in the unit
    when ``calibrated``, else in px), computed as :func:`~measurer.core.derived_layers.
    layer_rows` computes them; points are ordered by position. The kind of a layer is the
    most frequent among its points.
    """
    points: dict[int, list[tuple[float, float, bool, str]]] = {}
    for profile in profiles:
        x = profile.position[1] if calibrated else profile.position[0]
        for layer in profile.layers:
            if layer.complete:
                px = layer.width
                y = float(px * profile.unit_per_px) if calibrated else float(px)
                points.setdefault(layer.number, []).append((x, y, layer.resolved, layer.kind))
    series = []
    for number in sorted(points):
        ordered = sorted(points[number], key=lambda p: p[0])
        kind = Counter(p[3] for p in ordered).most_common(1)[0][0]
        x, y, resolved, _ = zip(*ordered, strict=True)
        series.append(TaperSeries(number, kind, x, y, resolved))
    return series


def _legend() -> str:
    """The key to the curves' styles, as rich text."""
    marks = {"dark": "━━", "light": "╍╍", "mixed": "┈┈"}
    keys = [
        f'<span style="color: rgb{colour}">{marks[kind]}</span>&nbsp;{kind}'
        for kind, (colour, _) in STYLES.items()
    ]
    keys.append("○&nbsp;limited by blur")
    return "&nbsp;&nbsp; ".join(keys)


class TaperPlot(QtWidgets.QWidget):
    """Width against position along the layers, one curve per layer (needs 2+ profiles)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QtWidgets.QLabel(FEW_PROFILES)
        self.message.setWordWrap(True)
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.layer_choice = QtWidgets.QComboBox()
        self.layer_choice.setToolTip("Highlight one layer (or click its curve)")
        self.layer_choice.currentIndexChanged.connect(lambda _: self._highlight())
        self.readout = QtWidgets.QLabel()
        self.readout.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(160)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = QtWidgets.QLabel(_legend())
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.marker = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen((200, 200, 200), width=1, style=QtCore.Qt.PenStyle.DashLine),
            label="",
            labelOpts={"position": 0.96, "color": (200, 200, 200), "anchors": [(0, 1), (0, 1)]},
        )
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.series: dict[int, TaperSeries] = {}
        self._unit = PIXEL_UNIT
        shown = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(shown)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.layer_choice)
        column.addWidget(self.plot, 1)
        column.addWidget(self.legend)
        column.addWidget(self.readout)
        self.pages = QtWidgets.QStackedLayout(self)
        self.pages.addWidget(self.message)
        self.pages.addWidget(shown)

    def set_layers(
        self,
        profiles: Sequence[ProfileLayers],
        calibration: Calibration | None = None,
        *,
        shown: int | None = None,
    ) -> None:
        """Plot the layers of these profiles; ``shown`` is the profile index to mark."""
        calibrated = calibration is not None and calibration.is_calibrated
        series = taper_series(profiles, calibrated) if len(profiles) >= 2 else []
        self.series = {s.number: s for s in series}
        self._unit = calibration.unit if calibrated else PIXEL_UNIT
        for number in [n for n in self.curves if n not in self.series]:
            self.plot.removeItem(self.curves.pop(number))
        if not series:
            self.message.setText(FEW_PROFILES if len(profiles) < 2 else NONE_COMPLETE)
            self.pages.setCurrentIndex(0)
            return
        self.pages.setCurrentIndex(1)
        for s in series:
            if s.number not in self.curves:
                curve = pg.PlotDataItem(symbol="o", symbolSize=6)
                curve.setCurveClickable(True, width=8)
                curve.sigClicked.connect(lambda _item, _ev, n=s.number: self.choose(n))
                self.plot.addItem(curve)
                self.curves[s.number] = curve
        first = profiles[0].index + 1  # positions are measured from the first profile
        self.plot.setLabel(
            "bottom", f"distance along the layers from profile {first} ({self._unit})"
        )
        self.plot.setLabel("left", f"layer width ({self._unit})")
        at = [p.position[1 if calibrated else 0] for p in profiles if p.index == shown]
        self.marker.setVisible(bool(at))
        self.marker.setValue(at[0] if at else 0.0)
        self.marker.label.setFormat(f" profile {shown + 1}" if at else "")
        self._fill_choice()
        self._highlight()

    def chosen(self) -> int | None:
        """The highlighted layer number, if any."""
        return self.layer_choice.currentData()

    def choose(self, number: int | None) -> None:
        """Highlight a layer (None: all alike)."""
        self.layer_choice.setCurrentIndex(max(self.layer_choice.findData(number), 0))

    def _fill_choice(self) -> None:
        entries = [(None, "All layers")] + [
            (s.number, f"Layer {s.number} ({s.kind})") for s in self.series.values()
        ]
        current = [(self.layer_choice.itemData(i), self.layer_choice.itemText(i))
                   for i in range(self.layer_choice.count())]  # fmt: skip
        if entries == current:
            return
        chosen = self.chosen()
        self.layer_choice.blockSignals(True)
        self.layer_choice.clear()
        for number, text in entries:
            self.layer_choice.addItem(text, number)
        self.layer_choice.setCurrentIndex(max(self.layer_choice.findData(chosen), 0))
        self.layer_choice.blockSignals(False)

    def _highlight(self) -> None:
        """Style every curve by its kind, the chosen one on top in the highlight colour."""
        chosen = self.chosen()
        for number, curve in self.curves.items():
            s = self.series[number]
            colour, style = STYLES.get(s.kind, STYLES["mixed"])
            if number == chosen:
                colour, style = CHOSEN, QtCore.Qt.PenStyle.SolidLine
            curve.setData(
                np.array(s.positions),
                np.array(s.widths),
                pen=pg.mkPen(colour, width=3 if number == chosen else 1.5, style=style),
                symbolPen=pg.mkPen(colour, width=1.2),
                symbolBrush=[pg.mkBrush(colour if r else None) for r in s.resolved],
            )
            curve.setZValue(10 if number == chosen else 0)
        self.readout.setText(self._describe(chosen))

    def _describe(self, chosen: int | None) -> str:
        """The chosen layer's taper, else the median taper of each kind."""
        unit = self._unit
        if chosen is not None:
            s = self.series[chosen]
            text = f"Layer {chosen} ({s.kind}) on {len(s.widths)} profile(s): "
            text += f"{s.widths[0]:.4g} {unit} at {s.positions[0]:.4g} {unit}"
            if s.change is not None:
                text += f", {s.widths[-1]:.4g} {unit} at {s.positions[-1]:.4g} {unit}"
                text += f" ({s.change:+.1%})"
            hollow = s.resolved.count(False)
            return text + (f"; {hollow} width(s) limited by blur (hollow)." if hollow else ".")
        parts = []
        for kind in ("dark", "light"):
            changes = [s.change for s in self.series.values()
                       if s.kind == kind and s.change is not None]  # fmt: skip
            if changes:
                parts.append(f"{kind} {float(np.median(changes)):+.1%} ({len(changes)} layers)")
        if not parts:
            return "No layer is complete on two profiles: no taper to read."
        return (
            "Width change along the layers (median of each layer's last point against its first): "
            + ", ".join(parts)
            + "."
        )
