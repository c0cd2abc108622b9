"""The analysis panels of the main window, in Analyze-menu order (``module:Class``)."""

from __future__ import annotations

import importlib

PANELS: tuple[str, ...] = (
    "measurer.gui.panels.masks_panel:MasksPanel",
    "measurer.gui.panels.scalebar_panel:ScaleBarPanel",
    "measurer.gui.panels.layers_panel:LayersPanel",
    "measurer.gui.panels.match_panel:MatchPanel",
    "measurer.gui.panels.turns_panel:TurnsPanel",
    "measurer.gui.panels.colors_panel:ColorsPanel",
    "measurer.gui.panels.similar_panel:SimilarPanel",
)


def panel_classes() -> list[type]:
    """The panel classes, imported (their analysis modules are imported only when run)."""
    classes = []
    for spec in PANELS:
        module, _, name = spec.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    return classes
