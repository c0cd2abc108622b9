"""Derived rows of the masks analysis, alone: hand-computed distances and retina values."""

import math

import numpy as np
import pytest

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep, ApplyDetection, RemoveAnnotations, move_vertices
from measurer.core.derived import landmark_distances
from measurer.core.derived_masks import mask_measures, mask_rows, pit_bottom_label
from measurer.core.document import Document

#: Anisotropic pixels: 10 µm wide (x, columns), 4 µm tall (y, rows).
CAL = Calibration(10.0, 4.0, "µm")


def mark(role, row, col, *, id_, label="", origin=Origin.AUTOMATIC):
    provenance = Provenance(origin, "masks", {})
    return Annotation(id_, Kind.POINTS, [(row, col)], label, (), 1.0, provenance, role)


def cross(u, v):
    return u[0] * v[1] - u[1] * v[0]


def by_label(rows):
    return {r.values["Label"]: r.values for r in rows}


def hole(**moved):
    """Hole landmarks on a horizontal base line (row 100), see the numbers in the test."""
    places = {
        "base_left": (100, 40),
        "base_right": (100, 60),
        "mld_left": (60, 45),
        "mld_right": (60, 52),
        "top_left": (20, 38),
        "top_right": (30, 63),
        "closest_left": (58, 45.5),
        "closest_right": (59, 51.5),
    }
    marks = []
    for i, (name, place) in enumerate(places.items(), start=1):
        origin = Origin.CORRECTED if name in moved else Origin.AUTOMATIC
        marks.append(mark(f"masks:retina:{name}", *moved.get(name, place), origin=origin, id_=i))
    return marks


def test_distance_and_distance_to_a_line_scale_x_and_y_first():
    a, b = mark("masks:closest_a", 10, 20, id_=1), mark("masks:closest_b", 14, 50, id_=2)
    p = mark("masks:b_deepest", 10, 0, id_=3)
    m1, m2 = mark("masks:margin_left", 0, 0, id_=4), mark("masks:margin_right", 10, 10, id_=5)
    parameters = {
        "distances": [["masks:closest_a", "masks:closest_b", "gap"]],
        "lines": [["masks:b_deepest", "masks:margin_left", "masks:margin_right", "depth"]],
    }
    rows = by_label(mask_rows([a, b, p, m1, m2], CAL, parameters))
    assert rows["gap"]["Length (px)"] == pytest.approx(math.hypot(4, 30))
    assert rows["gap"]["Length (µm)"] == pytest.approx(math.hypot(4 * 4.0, 30 * 10.0))
    # The line (0,0)-(10,10) px is (0,0)-(40,100) µm; the point (10, 0) px is (40, 0) µm: its
    # distance is |40·100 - 0·40| / hypot(40, 100), not the 7.07 px of the unscaled image.
    assert rows["depth"]["Length (µm)"] == pytest.approx(4000 / math.hypot(40, 100))
    assert rows["depth"]["Length (px)"] == pytest.approx(10 / math.sqrt(2))
    assert rows["depth"]["Kind"] == "distance to line" and rows["depth"]["ID"] == "3-4-5"
    (line,) = [m for m in mask_measures([a, b, p, m1, m2], CAL, parameters) if m.label == "depth"]
    foot = line.segment[1] * np.array([4.0, 10.0])
    assert cross(foot - [0, 0], [40, 100]) == pytest.approx(0, abs=1e-9)  # on the line
    assert np.dot(foot - [40, 0], [40, 100]) == pytest.approx(0, abs=1e-9)  # perpendicular
    # Point-to-point rows are exactly those of the generic landmark distances.
    generic = landmark_distances([a, b], CAL, {"distances": parameters["distances"]})
    assert rows["gap"] == generic[0].values


def test_hole_values_from_the_landmarks_anisotropic():
    rows = by_label(mask_rows(hole(), CAL, {"preset": "hole"}))
    assert rows["MLD"]["Length (µm)"] == pytest.approx(70.0)  # 7 columns of 10 µm
    assert rows["MLD"]["Length (px)"] == pytest.approx(7.0)
    assert rows["MLD"]["Size class"] == "small"
    assert rows["MLD (shortest)"]["Length (µm)"] == pytest.approx(math.hypot(60, 4))
    assert rows["base diameter"]["Length (µm)"] == pytest.approx(200.0)
    assert rows["height left"]["Length (µm)"] == pytest.approx(320.0)  # 80 rows of 4 µm
    assert rows["height right"]["Length (µm)"] == pytest.approx(280.0)
    assert rows["height"]["Length (µm)"] == pytest.approx(320.0)
    arm_left, arm_right = math.hypot(320, 20), math.hypot(280, 30)
    assert rows["arm left"]["Length (µm)"] == pytest.approx(arm_left)
    assert rows["arm right"]["Length (µm)"] == pytest.approx(arm_right)
    assert rows["MHI"]["Index"] == pytest.approx(320 / 200)
    assert rows["THI"]["Index"] == pytest.approx(320 / 70)
    assert rows["HFF"]["Index"] == pytest.approx((arm_left + arm_right) / 200)
    assert rows["DHI"]["Index"] == pytest.approx(70 / 200)
    assert {r["Origin"] for r in rows.values()} == {"automatic"}
    assert {r["Kind"] for r in rows.values()} == {"macular hole"}


def test_hole_heights_are_perpendicular_to_a_tilted_base_in_physical_space():
    cal = Calibration(1.0, 2.0, "µm")  # rows 2 µm, columns 1 µm
    rows = by_label(mask_rows(hole(base_right=(90, 60)), cal, {}))
    # Base (100, 40)-(90, 60) px is (200, 40)-(180, 60) µm; top left (20, 38) px is (40, 38) µm.
    d = np.array([-20.0, 20.0]) / math.hypot(20, 20)
    offset = np.array([40.0 - 200.0, 38.0 - 40.0])
    assert rows["height left"]["Length (µm)"] == pytest.approx(abs(cross(offset, d)))
    # The moved landmark makes every row that uses it corrected, and no other.
    assert rows["base diameter"]["Origin"] == Origin.CORRECTED.value
    assert rows["MLD"]["Origin"] == Origin.AUTOMATIC.value
    assert rows["DHI"]["Origin"] == Origin.CORRECTED.value


def test_moving_an_mld_landmark_updates_mld_and_its_indices_together():
    rows = by_label(mask_rows(hole(mld_right=(60, 56)), CAL, {}))
    assert rows["MLD"]["Length (µm)"] == pytest.approx(110.0)
    assert rows["MLD"]["Size class"] == "small"
    assert rows["THI"]["Index"] == pytest.approx(320 / 110)
    assert rows["DHI"]["Index"] == pytest.approx(110 / 200)
    assert rows["MHI"]["Index"] == pytest.approx(320 / 200)  # does not use the MLD
    assert rows["MHI"]["Origin"] == Origin.AUTOMATIC.value
    assert rows["THI"]["Origin"] == Origin.CORRECTED.value
    wide = by_label(mask_rows(hole(mld_right=(60, 85)), CAL, {}))
    assert wide["MLD"]["Length (µm)"] == pytest.approx(400.0)
    assert wide["MLD"]["Size class"] == "medium"  # 250 < 400 <= 400
    assert by_label(mask_rows(hole(mld_right=(60, 86)), CAL, {}))["MLD"]["Size class"] == "large"


def test_missing_landmarks_leave_out_what_needs_them_and_pixels_have_no_size_class():
    marks = [m for m in hole() if m.role != "masks:retina:mld_left"]
    rows = by_label(mask_rows(marks, Calibration.uncalibrated(), {}))
    assert set(rows) == {
        "MLD (shortest)", "base diameter", "height left", "height right", "height",
        "arm left", "arm right", "MHI", "HFF",
    }  # fmt: skip
    assert rows["base diameter"]["Length (px)"] == pytest.approx(20.0)
    assert "Length (µm)" not in rows["base diameter"] and "Size class" not in rows["MLD (shortest)"]
    assert rows["MHI"]["Index"] == pytest.approx(80 / 20)  # uncalibrated: ratio of pixels
    # A calibration in mm still gives the size class in µm.
    mm = Calibration(0.01, 0.004, "mm")
    assert by_label(mask_rows(hole(), mm, {}))["MLD"]["Size class"] == "small"
    assert by_label(mask_rows(hole(), mm, {}))["MLD"]["Length (mm)"] == pytest.approx(0.07)


def test_pit_values_and_the_maximum_slope_while_the_rims_are_untouched():
    def pit(**moved):
        places = {"pit_bottom": (50, 50), "rim_left": (30, 20), "rim_right": (30, 80)}
        places["pit_base"] = (90, 50)
        return [
            mark(
                f"masks:retina:{name}",
                *moved.get(name, place),
                label=pit_bottom_label(12.345) if name == "pit_bottom" else name,
                origin=Origin.CORRECTED if name in moved else Origin.AUTOMATIC,
                id_=i,
            )
            for i, (name, place) in enumerate(places.items(), start=1)
        ]

    rows = by_label(mask_rows(pit(), CAL, {}))
    assert rows["pit depth"]["Length (µm)"] == pytest.approx(80.0)  # 20 rows of 4 µm
    assert rows["pit diameter"]["Length (µm)"] == pytest.approx(600.0)
    assert rows["central thickness"]["Length (µm)"] == pytest.approx(160.0)
    assert rows["maximum slope"]["Angle (°)"] == pytest.approx(12.35)
    assert {r["Kind"] for r in rows.values()} == {"foveal pit"}
    moved = by_label(mask_rows(pit(rim_right=(40, 80)), CAL, {}))
    assert "maximum slope" not in moved  # it needs the mask between the rims
    # Depth to the tilted rim line (30,20)-(40,80) px = (120,200)-(160,800) µm.
    d = np.array([40.0, 600.0]) / math.hypot(40, 600)
    offset = np.array([200.0 - 120.0, 500.0 - 200.0])
    assert moved["pit depth"]["Length (µm)"] == pytest.approx(abs(cross(offset, d)))
    assert by_label(mask_rows(pit(pit_bottom=(55, 50)), CAL, {}))["maximum slope"]


def test_rows_follow_edits_through_the_document_and_manual_points_are_ignored():
    doc = Document(np.zeros((128, 128), np.uint8), calibration=CAL)
    parameters = {"distances": [["masks:closest_a", "masks:closest_b", "gap"]]}
    shapes = [
        Annotation(0, Kind.POINTS, [(10, 20)], role="masks:closest_a"),
        Annotation(0, Kind.POINTS, [(10, 30)], role="masks:closest_b"),
    ]
    doc.apply(ApplyDetection(AnalysisStep("masks", parameters), shapes))
    ids = {a.role: a.id for a in doc.annotations.values()}

    def gap():
        return [r for r in doc.measurements.rows if r["Label"] == "gap"]

    assert gap()[0]["Length (µm)"] == pytest.approx(100.0)
    doc.apply(move_vertices(doc, ids["masks:closest_b"], [(10, 33)]))
    assert gap()[0]["Length (µm)"] == pytest.approx(130.0)
    assert gap()[0]["Origin"] == Origin.CORRECTED.value
    doc.apply(RemoveAnnotations([ids["masks:closest_a"]]))
    assert gap() == []
    doc.undo()
    doc.undo()
    assert gap()[0]["Length (µm)"] == pytest.approx(100.0)
    # A point drawn by hand with the same role is not a landmark of the run.
    manual = Annotation(0, Kind.POINTS, [(0, 0)], role="masks:closest_a")
    assert mask_measures([manual, shapes[1]], CAL, parameters) == []
