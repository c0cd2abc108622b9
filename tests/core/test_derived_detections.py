"""Derived rows of matches, kymograph turns and colour classes follow edits, undo, calibration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import measurer.core.derived_colors
import measurer.core.derived_match
import measurer.core.derived_turns  # noqa: F401  (registers the builders)
from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.commands import (
    AnalysisStep,
    ApplyDetection,
    RemoveAnnotations,
    ReplaceAnnotation,
    move_vertices,
    relabel,
)
from measurer.core.derived_match import match_label, parse_match_label
from measurer.core.document import Document


def rows_of(doc, kind):
    return [r for r in doc.measurements.rows if r["Kind"] == kind]


def by_role(doc):
    return {a.role: a.id for a in doc.annotations.values()}


# --- template matches ------------------------------------------------------------------------


def test_match_label_round_trips_and_refuses_other_text():
    assert parse_match_label(match_label(0.93421, 1.25, -90.0)) == (0.9342, 1.25, -90.0)
    assert parse_match_label(match_label(-0.5, 0.8, 0.0)) == (-0.5, 0.8, 0.0)
    assert parse_match_label("my box") is None


def match_doc(calibration=None):
    doc = Document(np.zeros((100, 100), np.uint8), calibration=calibration)
    boxes = [
        Annotation(0, Kind.RECTANGLE, corners, match_label(*found), role=f"match:{i}")
        for i, (corners, found) in enumerate(
            [
                ([(9.5, 19.5), (33.5, 51.5)], (0.95, 1, 0)),
                ([(49.5, 9.5), (79.5, 49.5)], (0.9, 1.25, 90)),
            ]
        )
    ]
    doc.apply(ApplyDetection(AnalysisStep("match", {"threshold": 0.8}), boxes))
    return doc


def test_match_rows_give_centre_score_scale_angle_and_count_in_units():
    doc = match_doc(Calibration(0.5, 2.0, "µm"))  # x 0.5, y 2 µm per pixel
    first, second = rows_of(doc, "match")
    assert (first["X (px)"], first["Y (px)"]) == (35.5, 21.5)
    assert (first["X (µm)"], first["Y (µm)"]) == (17.75, 43.0)
    assert (first["Score"], first["Scale"], first["Angle (°)"]) == (0.95, 1.0, 0.0)
    assert (second["Score"], second["Scale"], second["Angle (°)"]) == (0.9, 1.25, 90.0)
    (count,) = rows_of(doc, "match count")
    assert count["Number"] == 2 and count["Origin"] == "automatic"
    assert "Score" in doc.measurements.headers


def test_a_moved_box_loses_its_score_and_a_deleted_one_the_count():
    doc = match_doc()
    ids = by_role(doc)
    doc.apply(move_vertices(doc, ids["match:0"], [(10.5, 19.5), (34.5, 51.5)]))
    first = rows_of(doc, "match")[0]
    assert first["Y (px)"] == 22.5 and first["Origin"] == Origin.CORRECTED.value
    assert "Score" not in first and "Scale" not in first
    assert rows_of(doc, "match count")[0]["Origin"] == Origin.CORRECTED.value
    doc.apply(RemoveAnnotations([ids["match:1"]]))
    assert rows_of(doc, "match count")[0]["Number"] == 1
    doc.apply(RemoveAnnotations([ids["match:0"]]))
    assert rows_of(doc, "match") == [] and rows_of(doc, "match count") == []
    for _ in range(3):
        doc.undo()
    assert [r["Score"] for r in rows_of(doc, "match")] == [0.95, 0.9]


# --- kymograph turns -------------------------------------------------------------------------


def turns_doc(axis="x", calibration=None):
    """A trace from (row 50, frame 0) up to a turn at (20, 30), down to (80, 70), up to the end."""
    points = [(50, 0), (20, 30), (80, 70), (40, 99)]
    if axis == "y":
        points = [(c, r) for r, c in points]
    doc = Document(np.zeros((100, 100), np.uint8), calibration=calibration)
    shapes = [Annotation(0, Kind.POLYLINE, points, role="turns:trace")]
    shapes += [Annotation(0, Kind.POINTS, [points[k]], role=f"turns:turn:{k - 1}") for k in (1, 2)]
    doc.apply(ApplyDetection(AnalysisStep("turns", {"axis": axis}), shapes))
    return doc


@pytest.mark.parametrize(("axis", "names"), [("x", ("up", "down")), ("y", ("left", "right"))])
def test_turn_rows_recompute_directions_from_the_current_points(axis, names):
    up, down = names
    doc = turns_doc(axis)
    first, second = rows_of(doc, "turn")
    assert (first["Frame"], first["Position (px)"]) == (30, 20.0)
    assert (first["Direction before"], first["Direction after"]) == (up, down)
    assert (second["Frame"], second["Position (px)"]) == (70, 80.0)
    assert (second["Direction before"], second["Direction after"]) == (down, up)
    # Drag the second turn above the first: the directions around both follow.
    turn = by_role(doc)["turns:turn:1"]
    moved = [(10.0, 72.4)] if axis == "x" else [(72.4, 10.0)]
    doc.apply(move_vertices(doc, turn, moved))
    first, second = rows_of(doc, "turn")
    assert (second["Frame"], second["Position (px)"]) == (72, 10.0)
    assert second["Origin"] == Origin.CORRECTED.value
    assert (first["Direction after"], second["Direction before"]) == (up, up)
    assert second["Direction after"] == down
    doc.undo()
    assert rows_of(doc, "turn")[1]["Direction before"] == down


def test_turn_rows_in_time_order_with_units_along_the_position_axis():
    doc = turns_doc("x", Calibration(0.5, 2.0, "µm"))
    ids = by_role(doc)
    # Drag the first turn past the second in time: rows stay in time order.
    doc.apply(move_vertices(doc, ids["turns:turn:0"], [(20.0, 90.0)]))
    rows = rows_of(doc, "turn")
    assert [r["Frame"] for r in rows] == [70, 90]
    assert rows[1]["Position (µm)"] == 40.0  # 20 rows × 2 µm
    doc.apply(RemoveAnnotations([ids["turns:trace"]]))  # no trace: the ends have no direction
    rows = rows_of(doc, "turn")
    assert rows[0]["Direction before"] == "" and rows[1]["Direction after"] == ""
    assert rows[0]["Direction after"] == "up"


# --- colour classes --------------------------------------------------------------------------


def square(top, left, size):
    return [(top, left), (top, left + size), (top + size, left + size), (top + size, left)]


def test_class_counts_and_areas_follow_relabel_and_delete():
    doc = Document(np.zeros((100, 100, 3), np.uint8), calibration=Calibration(0.5, 2.0, "µm"))
    shapes = [
        Annotation(0, Kind.POLYGON, square(9.5, 9.5, 4), "red", role="colors:red:0"),
        Annotation(0, Kind.POLYGON, square(29.5, 9.5, 2), "red", role="colors:red:1"),
        Annotation(0, Kind.POLYGON, square(49.5, 9.5, 3), "blue", role="colors:blue:0"),
    ]
    step = AnalysisStep("colors", {"names": ["red", "blue", "green"], "grid": None})
    doc.apply(ApplyDetection(step, shapes))
    rows = {r["Label"]: r for r in rows_of(doc, "class count")}
    assert {n: r["Number"] for n, r in rows.items()} == {"red": 2, "blue": 1, "green": 0}
    assert rows["red"]["Area (px²)"] == 20.0 and rows["red"]["Area (µm²)"] == 20.0
    assert rows["blue"]["Area (px²)"] == 9.0
    ids = by_role(doc)
    old = doc.annotations[ids["colors:red:1"]]
    doc.apply(
        ReplaceAnnotation(old, replace(old, label="green", provenance=old.provenance.corrected()))
    )
    rows = {r["Label"]: r for r in rows_of(doc, "class count")}
    assert {n: r["Number"] for n, r in rows.items()} == {"red": 1, "blue": 1, "green": 1}
    assert (
        rows["green"]["Origin"] == Origin.CORRECTED.value and rows["red"]["Origin"] == "automatic"
    )
    doc.apply(relabel(doc, ids["colors:blue:0"], "purple"))  # a class given by hand joins
    doc.apply(RemoveAnnotations([ids["colors:red:0"]]))
    counts = {r["Label"]: r["Number"] for r in rows_of(doc, "class count")}
    assert counts == {"red": 0, "blue": 0, "green": 1, "purple": 1}
    doc.undo()
    doc.undo()
    doc.undo()
    counts = {r["Label"]: r["Number"] for r in rows_of(doc, "class count")}
    assert counts == {"red": 2, "blue": 1, "green": 0}


def test_grid_counts_include_empty_cells():
    doc = Document(np.zeros((100, 100, 3), np.uint8))
    cells = [
        Annotation(0, Kind.RECTANGLE, [(-0.5, -0.5), (9.5, 9.5)], "c0", role="colors:cell:0:0"),
        Annotation(0, Kind.RECTANGLE, [(-0.5, 9.5), (9.5, 19.5)], "c1", role="colors:cell:0:1"),
        Annotation(0, Kind.RECTANGLE, [(9.5, -0.5), (19.5, 9.5)], "c0", role="colors:cell:1:0"),
    ]
    step = AnalysisStep("colors", {"names": ["c0", "c1"], "grid": [0, 0, 10, 10, 2, 3]})
    doc.apply(ApplyDetection(step, cells))
    counts = {r["Label"]: r["Number"] for r in rows_of(doc, "cell count")}
    assert counts == {"c0": 2, "c1": 1, "empty": 3}
    assert "Area (px²)" not in rows_of(doc, "cell count")[0]
    ids = by_role(doc)
    doc.apply(relabel(doc, ids["colors:cell:0:1"], "empty"))  # marked empty by hand
    counts = {r["Label"]: r["Number"] for r in rows_of(doc, "cell count")}
    assert counts == {"c0": 2, "c1": 0, "empty": 4}
    doc.apply(RemoveAnnotations(list(ids.values())))
    assert rows_of(doc, "cell count") == []
