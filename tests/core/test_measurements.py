"""The measurement table against hand-computed values, in pixels and in units.

Two calibrations: isotropic 0.5 µm/px, and anisotropic 2 µm (x, columns) by 3 µm (y, rows), as in
an OCT B-scan. Vertices are ``(row, col)``; the table writes X = col and Y = row.
"""

import math

import numpy as np
import pytest
from scipy.special import ellipe

from measurer.core.annotations import Annotation, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.core.measurements import (
    AREAS,
    LENGTHS,
    compute_measurements,
    measure_annotation,
)

ISO = Calibration(0.5, 0.5, "µm", "manual")
ANISO = Calibration(2.0, 3.0, "µm", "metadata")  # x = 2 µm, y = 3 µm
SX, SY = 2.0, 3.0

# Each case: the annotation, and {quantity: (value in px, value with ANISO)}, all by hand.
CASES = {
    "line": (
        Annotation(1, "line", [(0, 0), (3, 4)]),
        {
            "Length": (5.0, math.hypot(3 * SY, 4 * SX)),
            # ImageJ's angle: counter-clockwise from +x with y up; rows grow downwards.
            "Angle": (math.degrees(math.atan2(-3, 4)), math.degrees(math.atan2(-9, 8))),
            "X": (2.0, 4.0),
            "Y": (1.5, 4.5),
        },
    ),
    "polyline": (
        Annotation(2, "polyline", [(0, 0), (0, 3), (4, 3)]),
        {"Length": (7.0, 3 * SX + 4 * SY), "X": (2.0, 4.0), "Y": (4 / 3, 4.0)},
    ),
    "angle": (
        # Arms from the vertex (2, 5): one along +x, one diagonal down-right.
        Annotation(3, "angle", [(2, 6), (2, 5), (3, 6)]),
        {"Angle": (45.0, math.degrees(math.atan2(SY, SX))), "X": (5.0, 10.0), "Y": (2.0, 6.0)},
    ),
    "rectangle": (
        # Corners on pixel edges: rows 3..6 (4 pixels), columns 4..10 (7 pixels).
        Annotation(4, "rectangle", [(2.5, 3.5), (6.5, 10.5)]),
        {
            "Area": (28.0, 28 * SX * SY),
            "Perim.": (22.0, 2 * (4 * SY + 7 * SX)),
            "X": (7.0, 14.0),
            "Y": (4.5, 13.5),
            "BX": (4.0, 8.0),
            "BY": (3.0, 9.0),
            "Width": (7.0, 14.0),
            "Height": (4.0, 12.0),
        },
    ),
    "ellipse": (
        # Bounding box 10 wide, 4 high: semi-axes 5 (x) and 2 (y); 10 µm and 6 µm with ANISO.
        Annotation(5, "ellipse", [(0, 0), (4, 10)]),
        {
            "Area": (math.pi * 5 * 2, math.pi * 10 * 6),
            "Perim.": (4 * 5 * ellipe(1 - 0.4**2), 4 * 10 * ellipe(1 - 0.6**2)),
            "X": (5.0, 10.0),
            "Y": (2.0, 6.0),
            "BX": (0.5, 1.0),
            "BY": (0.5, 1.5),
            "Width": (10.0, 20.0),
            "Height": (4.0, 12.0),
        },
    ),
    "polygon": (
        # Right triangle with legs 6 (x) and 4 (y).
        Annotation(6, "polygon", [(0, 0), (0, 6), (4, 0)]),
        {
            "Area": (12.0, 12 * SX * SY),
            "Perim.": (6 + 4 + math.hypot(6, 4), 12 + 12 + math.hypot(12, 12)),
            "X": (2.0, 4.0),
            "Y": (4 / 3, 4.0),
            "BX": (0.5, 1.0),
            "BY": (0.5, 1.5),
            "Width": (6.0, 12.0),
            "Height": (4.0, 12.0),
        },
    ),
    "freehand": (
        # An L: a 2x4 bar on top of a 4x2 leg; two parts of area 8 centred at (1, 2) and (4, 1).
        Annotation(7, "freehand", [(0, 0), (0, 4), (2, 4), (2, 2), (6, 2), (6, 0)]),
        {
            "Area": (16.0, 16 * SX * SY),
            "Perim.": (20.0, (4 + 2 + 2) * SX + (2 + 4 + 6) * SY),
            "X": (1.5, 3.0),
            "Y": (2.5, 7.5),
            "BX": (0.5, 1.0),
            "BY": (0.5, 1.5),
            "Width": (4.0, 8.0),
            "Height": (6.0, 18.0),
        },
    ),
}
SCALE_ISO = {"Area": 0.25, "Angle": 1.0}  # everything else is a length: x 0.5


def _header(quantity, unit):
    return f"{quantity} ({'°' if quantity == 'Angle' else unit})"


@pytest.mark.parametrize("name", CASES)
def test_pixels_uncalibrated(name):
    annotation, expected = CASES[name]
    (row,) = measure_annotation(annotation, Calibration.uncalibrated())
    for quantity, (pixels, _) in expected.items():
        unit = "px²" if quantity == "Area" else "px"
        assert row[_header(quantity, unit)] == pytest.approx(pixels, rel=1e-12), quantity
    assert not any("µm" in key for key in row)


@pytest.mark.parametrize("name", CASES)
def test_anisotropic(name):
    annotation, expected = CASES[name]
    (row,) = measure_annotation(annotation, ANISO)
    for quantity, (pixels, physical) in expected.items():
        unit = "µm²" if quantity == "Area" else "µm"
        assert row[_header(quantity, unit)] == pytest.approx(physical, rel=1e-12), quantity
        if quantity != "Angle":  # the angle column is the physical angle
            pixel_unit = "px²" if quantity == "Area" else "px"
            assert row[_header(quantity, pixel_unit)] == pytest.approx(pixels, rel=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_isotropic(name):
    annotation, expected = CASES[name]
    (row,) = measure_annotation(annotation, ISO)
    for quantity, (pixels, _) in expected.items():
        unit = "µm²" if quantity == "Area" else "µm"
        factor = SCALE_ISO.get(quantity, 0.5)
        assert row[_header(quantity, unit)] == pytest.approx(pixels * factor, rel=1e-12), quantity


def test_point_set_one_row_per_point_with_class_names():
    points = Annotation(9, "points", [(1, 2), (3, 4)], label="cells", classes=(0, 2))
    rows = measure_annotation(points, ANISO, image_name="a.tif", class_names={2: "mitotic"})
    assert [r["ID"] for r in rows] == ["9.1", "9.2"]
    assert [r["Class"] for r in rows] == ["1", "mitotic"]  # unnamed class k is "k+1"
    assert [r["X (px)"] for r in rows] == [2.0, 4.0]
    assert [r["Y (px)"] for r in rows] == [1.0, 3.0]
    assert [r["X (µm)"] for r in rows] == [4.0, 8.0]
    assert [r["Y (µm)"] for r in rows] == [3.0, 9.0]
    assert all(r["Image"] == "a.tif" and r["Label"] == "cells" for r in rows)
    assert all(r["Kind"] == "points" and r["Origin"] == "manual" for r in rows)


def test_angle_in_pixels_differs_from_physical_angle_only_when_anisotropic():
    annotation = CASES["angle"][0]
    assert measure_annotation(annotation, Calibration.uncalibrated())[0]["Angle (°)"] == (
        pytest.approx(45.0)
    )
    assert measure_annotation(annotation, ISO)[0]["Angle (°)"] == pytest.approx(45.0)
    assert measure_annotation(annotation, ANISO)[0]["Angle (°)"] == pytest.approx(56.309932474)


def test_degenerate_angle_is_nan():
    (row,) = measure_annotation(Annotation(1, "angle", [(1, 1), (1, 1), (2, 3)]), ISO)
    assert math.isnan(row["Angle (°)"])


@pytest.mark.parametrize("calibration", [ISO, ANISO])
def test_doubling_the_pixel_size_doubles_lengths_and_quadruples_areas(calibration):
    annotations = [case[0] for case in CASES.values()]
    annotations.append(Annotation(20, "points", [(1, 2), (5, 7)]))
    doubled = Calibration(calibration.pixel_width * 2, calibration.pixel_height * 2, "µm")
    one = compute_measurements(annotations, calibration)
    two = compute_measurements(annotations, doubled)
    assert one.headers == two.headers
    checked = set()
    for column in one.columns:
        if column.unit != "µm" and column.unit != "µm²":
            continue
        factor = 2.0 if column.quantity in LENGTHS else 4.0
        assert column.quantity in LENGTHS + AREAS
        for a, b in zip(one.column(column.header), two.column(column.header), strict=True):
            if a is not None:
                assert b == pytest.approx(factor * a, rel=1e-12), column.header
                checked.add(column.quantity)
    assert checked == {"Area", "Perim.", "Length", "X", "Y", "BX", "BY", "Width", "Height"}
    assert one.column("Angle (°)") == pytest.approx(two.column("Angle (°)"), nan_ok=True)


def test_uncalibrated_table_says_px_and_has_no_physical_columns():
    annotations = [case[0] for case in CASES.values()]
    table = compute_measurements(annotations, Calibration.uncalibrated())
    units = {c.unit for c in table.columns}
    assert units == {"", "px", "px²", "°"}
    assert "Length (px)" in table.headers and "Area (px²)" in table.headers
    assert not any(unit in h for h in table.headers for unit in ("µm", "nm", "mm"))


def test_calibrated_table_columns_in_order_with_units():
    table = compute_measurements([CASES["rectangle"][0], CASES["line"][0]], ISO)
    assert table.headers[:6] == ["ID", "Image", "Kind", "Label", "Class", "Origin"]
    assert table.headers[6:10] == ["Area (px²)", "Area (µm²)", "Perim. (px)", "Perim. (µm)"]
    assert "Length (µm)" in table.headers and "Angle (°)" in table.headers
    assert table.annotation_ids == (4, 1)
    assert table.column("Length (µm)") == [None, 2.5]
    assert table.rows_for(1) == [1]


def test_origin_column_follows_provenance():
    provenance = Provenance(Origin.AUTOMATIC, "blobs", {"threshold": 10})
    line = Annotation(1, "line", [(0, 0), (0, 1)], provenance=provenance)
    assert measure_annotation(line, ISO)[0]["Origin"] == "automatic"


def test_region_statistics_of_a_rectangle():
    image = np.arange(100, dtype=np.uint16).reshape(10, 10)  # value = 10 * row + col
    # Corners on pixel edges: rows 2..4, columns 3..6 (12 pixels).
    rectangle = Annotation(1, "rectangle", [(1.5, 2.5), (4.5, 6.5)])
    (row,) = measure_annotation(rectangle, ISO, image=image)
    inside = image[2:5, 3:7].astype(float)
    assert row["Count"] == 12
    assert row["Mean"] == pytest.approx(34.5)  # 10 * 3 + 4.5
    assert (row["Min"], row["Max"]) == (23.0, 46.0)
    assert row["StdDev"] == pytest.approx(inside.std(ddof=1))


def test_region_statistics_of_an_ellipse_and_a_colour_image():
    grey = np.zeros((20, 20))
    grey[5:15, 5:15] = 90.0
    image = np.stack([grey, grey, grey, np.full_like(grey, 255)], axis=2)  # RGBA: alpha ignored
    circle = Annotation(1, "ellipse", [(6.5, 6.5), (13.5, 13.5)])  # radius 3.5 around (10, 10)
    (row,) = measure_annotation(circle, ISO, image=image)
    assert row["Mean"] == pytest.approx(90.0)
    assert row["StdDev"] == pytest.approx(0.0)
    # Pixel centres strictly inside a circle of radius 3.5 around a pixel centre: 37.
    assert row["Count"] == 37


def _profile_available():
    try:
        from measurer.analysis.profiles import line_profile  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _profile_available(), reason="measurer.analysis.profiles not written yet")
def test_profile_statistics_on_a_ramp():
    image = np.tile(np.arange(50, dtype=float) * 2.0, (30, 1))  # value = 2 * col
    # Horizontal line along row 15 from column 10 to column 30: values 20 .. 60, evenly spaced.
    profile = Annotation(1, "profile", [(15, 10), (15, 30)], width=5.0)
    (row,) = measure_annotation(profile, ANISO, image=image)
    assert row["Length (px)"] == pytest.approx(20.0)
    assert row["Length (µm)"] == pytest.approx(40.0)
    assert row["Angle (°)"] == pytest.approx(0.0)
    assert row["Band (px)"] == 5.0
    assert "Band (µm)" not in row
    assert row["Min"] == pytest.approx(20.0)
    assert row["Max"] == pytest.approx(60.0)
    assert row["Mean"] == pytest.approx(40.0)
    count = row["Count"]
    expected_std = np.std(np.linspace(20.0, 60.0, count), ddof=1)
    assert row["StdDev"] == pytest.approx(expected_std, rel=1e-6)


def test_profile_geometry_without_image():
    profile = Annotation(1, "profile", [(0, 0), (0, 8)], width=3.0)
    (row,) = measure_annotation(profile, ANISO)
    assert row["Length (µm)"] == pytest.approx(16.0)
    assert row["Band (px)"] == 3.0
    assert "Mean" not in row


@pytest.mark.skipif(not _profile_available(), reason="measurer.analysis.profiles not written yet")
def test_profile_statistics_leave_out_samples_outside_the_image():
    image = np.full((10, 10), 7.0)
    # From column 2 to column 20 on a 10-column image: samples at columns 2..9 are inside.
    (row,) = measure_annotation(Annotation(1, "profile", [(4, 2), (4, 20)]), ISO, image=image)
    assert row["Count"] == 8
    assert (row["Mean"], row["Min"], row["Max"]) == (7.0, 7.0, 7.0)


@pytest.mark.skipif(not _profile_available(), reason="measurer.analysis.profiles not written yet")
def test_zero_length_profile_has_no_statistics_but_a_row():
    image = np.ones((10, 10))
    (row,) = measure_annotation(Annotation(1, "profile", [(4, 4), (4, 4)]), ISO, image=image)
    assert row["Count"] == 0 and row["Length (px)"] == 0.0
    assert "Mean" not in row


def test_perimeter_of_a_keyhole_outline_leaves_out_the_bridge():
    from measurer.core.geometry import outline_length

    # A 10x10 square with a 2x2 hole, joined by a bridge from the top edge down to the hole.
    outer = [
        (0, 0),
        (0, 4),
        (4, 4),
        (4, 6),
        (6, 6),
        (6, 4),
        (4, 4),
        (0, 4),
        (0, 10),
        (10, 10),
        (10, 0),
    ]
    # Walks: top edge to x=4, down the bridge, round the hole (reversed), back up, on round.
    length = outline_length(np.array(outer, dtype=float), (1.0, 1.0))
    assert length == pytest.approx(40 + 8)  # outer square + hole, no bridge
    assert outline_length(np.array(outer, dtype=float), (2.0, 1.0)) == pytest.approx(60 + 12)
    square = np.array([(0, 0), (0, 3), (2, 3), (2, 0)], dtype=float)
    assert outline_length(square, (1.0, 1.0)) == pytest.approx(10)
