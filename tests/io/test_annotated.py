"""Annotated exports: overlays on the right pixels, an exact scale bar, levels, SVG, TIFF."""

import base64
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ImageFont

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.core.measurements import measure_annotation
from measurer.core.style import (
    CLASS_COLOURS,
    COLOURS,
    ScaleBar,
    format_length,
    nice_length,
    parse_colour,
    short_number,
    value_text,
)
from measurer.io.annotated import render_annotated, write_annotated
from measurer.io.images import read_image
from measurer.io.overlay_layout import display_image, displayable, scale_bar_layout

MANUAL = np.array(COLOURS[Origin.MANUAL])
UM = Calibration(0.1, 0.1, "µm", "manual")
SVG = "{http://www.w3.org/2000/svg}"
SAMPLE = Path(__file__).parents[2] / "measurer" / "resources" / "samples" / "layered_micrograph.png"


def black(rows=60, cols=80):
    return np.zeros((rows, cols), np.uint8)


def draw(annotations, image=None, **options):
    """Overlays only: no labels, no scale bar, 2 px strokes, unless asked."""
    options = {"calibration": UM, "scale_bar": None, "labels": False, "line_width": 2, **options}
    return render_annotated(black() if image is None else image, annotations, **options)


def line(a, b, origin=Origin.MANUAL, id=1):
    return Annotation(id, Kind.LINE, [a, b], provenance=Provenance(origin))


def distance_to_segment(shape, a, b):
    rows, cols = np.indices(shape, dtype=float)
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    t = np.clip(((rows - a[0]) * d[0] + (cols - a[1]) * d[1]) / (d @ d), 0, 1)
    return np.hypot(rows - a[0] - t * d[0], cols - a[1] - t * d[1])


# --- where overlays land ------------------------------------------------------------------


def test_line_covers_its_row_between_its_ends_and_nothing_far_from_it():
    out = draw([line((10, 5), (10, 45))])
    assert (out[10, 5:46] == MANUAL).all()  # the centre row, fully covered
    # A 2 px stroke centred on row 10 covers half of rows 9 and 11: exactly 2 px across.
    half = np.rint(MANUAL / 2)
    assert np.abs(out[9, 5:46] - half).max() <= 1 and np.abs(out[11, 5:46] - half).max() <= 1
    assert (out[10, :4] == 0).all() and (out[10, 47:] == 0).all()  # round caps: 1 px at most
    far = distance_to_segment(out.shape[:2], (10, 5), (10, 45)) >= 1.5
    assert (out[far] == 0).all()
    assert out.dtype == np.uint8 and out.shape == (60, 80, 3)


def test_diagonal_line_stays_within_its_width():
    out = draw([line((5, 5), (50, 70))])
    distance = distance_to_segment(out.shape[:2], (5, 5), (50, 70))
    assert (out[distance >= 1.5] == 0).all()
    assert (out[distance <= 0.5] == MANUAL).all()
    coverage = out[..., 0].astype(float) / MANUAL[0]
    assert coverage.sum() == pytest.approx(2 * np.hypot(45, 65) + np.pi, rel=0.02)  # area


def test_rectangle_outline_lies_on_its_pixel_edges():
    # Corners on pixel edges: the rectangle holds rows 10..29 and columns 20..59.
    rect = Annotation(1, Kind.RECTANGLE, [[9.5, 19.5], [29.5, 59.5]])
    out = draw([rect])
    painted = (out == MANUAL).all(axis=2)
    # A 2 px stroke centred on each edge: one pixel on each side of it, exactly.
    for rows in ((9, 10), (29, 30)):
        assert painted[list(rows), 21:59].all()
    for cols in ((19, 20), (59, 60)):
        assert painted[11:29, list(cols)].all()
    assert (out[11:29, 21:59] == 0).all()  # inside
    assert (out[:8] == 0).all() and (out[32:] == 0).all()
    assert (out[:, :18] == 0).all() and (out[:, 62:] == 0).all()


def test_ellipse_passes_through_its_box_midpoints():
    ellipse = Annotation(1, Kind.ELLIPSE, [[10, 10], [50, 50]])  # circle, centre 30, radius 20
    out = draw([ellipse], image=black(70, 70))
    distance = np.hypot(*(np.indices((70, 70)) - 30))
    for r, c in ((10, 30), (50, 30), (30, 10), (30, 50)):
        assert (out[r, c] == MANUAL).all()
    assert (out[np.abs(distance - 20) >= 1.6] == 0).all()


def test_points_are_discs_in_their_class_colours_on_their_pixels():
    points = Annotation(1, Kind.POINTS, [[30, 40], [12, 7]], classes=(2, 5))
    out = draw([points])
    assert tuple(out[30, 40]) == CLASS_COLOURS[2]
    assert tuple(out[12, 7]) == CLASS_COLOURS[5]
    rows, cols = np.indices(out.shape[:2])
    near = (np.hypot(rows - 30, cols - 40) < 7.5) | (np.hypot(rows - 12, cols - 7) < 7.5)
    assert (out[~near] == 0).all()
    assert (out[30, 46] == 0).all()  # the black rim (radius 5, rim to 6.5) on black


def test_colours_follow_provenance_and_untouched_detected_points_are_automatic():
    shapes = [
        line((10, 5), (10, 70), Origin.MANUAL, 1),
        line((20, 5), (20, 70), Origin.AUTOMATIC, 2),
        line((30, 5), (30, 70), Origin.CORRECTED, 3),
        Annotation(4, Kind.POINTS, [[45, 40]], provenance=Provenance(Origin.AUTOMATIC, "x")),
    ]
    out = draw(shapes)
    for row, origin in ((10, Origin.MANUAL), (20, Origin.AUTOMATIC), (30, Origin.CORRECTED)):
        assert tuple(out[row, 40]) == COLOURS[origin]
    assert tuple(out[45, 40]) == COLOURS[Origin.AUTOMATIC]


def test_shapes_far_outside_the_image_are_clipped_quickly():
    huge = line((-1e9, -1e9), (1e9, 1e9))
    out = draw([huge])
    assert (out[np.eye(60, 80, dtype=bool)] == MANUAL).all()


# --- labels -------------------------------------------------------------------------------


def test_value_label_is_written_above_the_shape_in_the_calibrated_unit():
    shape = line((40, 10), (40, 60))  # 50 px = 5 µm
    assert value_text(measure_annotation(shape, UM)[0], Kind.LINE) == "5 µm"
    without = draw([shape])
    with_labels = draw([shape], labels=True)
    changed = (with_labels != without).any(axis=2)
    rows, cols = np.nonzero(changed)
    assert changed.sum() > 100
    assert rows.max() <= 38 and cols.min() >= 10  # above the line, starting at its left end
    near_top = line((5, 10), (5, 60))  # no room above: the label goes below, not over it
    changed = (draw([near_top], labels=True) != draw([near_top])).any(axis=2)
    assert changed.sum() > 100 and np.nonzero(changed)[0].min() >= 8


def test_value_text_formats():
    assert short_number(12.345) == "12.35" and short_number(743812.4) == "743812"
    assert short_number(0.5) == "0.5" and short_number(1e8) == "1e+08"
    row = {"Area (px²)": 100.0, "Area (µm²)": 1.0}
    assert value_text(row, Kind.RECTANGLE) == "1 µm²"
    assert value_text({"Angle (°)": 37.46}, Kind.ANGLE) == "37.5°"
    assert value_text({"X (px)": 3.0}, Kind.POINTS) == ""


def test_missing_glyphs_fall_back_to_ascii():
    try:
        dejavu = ImageFont.truetype("DejaVuSans.ttf", 20)
    except OSError:
        pytest.skip("DejaVu Sans is not installed")
    assert displayable("10 µm²", dejavu) == "10 µm²"
    builtin = ImageFont.load_default(size=20)  # Aileron: no micro sign
    assert displayable("10 µm", builtin) == "10 um"


# --- scale bar ----------------------------------------------------------------------------


def bar_pixels(out):
    """Rows and columns of the fully white pixels."""
    return np.nonzero((out == 255).all(axis=2))


def test_scale_bar_is_exactly_as_long_as_its_length_in_pixels():
    out = draw([], image=black(200, 400), scale_bar=ScaleBar(length=10, label=False, thickness=6))
    rows, cols = bar_pixels(out)
    assert len(set(rows)) == 6 and len(set(cols)) == 100  # 10 µm at 0.1 µm/px
    assert cols.max() - cols.min() == 99 and len(rows) == 600
    assert (out > 0).sum() == 600 * 3  # nothing else, no soft edges
    margin = 7  # max(4, round(200 / 30))
    assert cols.max() == 400 - margin - 1 and rows.max() == 200 - margin - 1


def test_automatic_scale_bar_is_a_round_fifth_of_the_width():
    # 400 px at 0.1 µm/px is 40 µm wide: a fifth is 8 µm, the nearest round length 10 µm.
    options = ScaleBar(label=False)
    assert options.resolved_length(UM, (200, 400)) == 10
    out = draw([], image=black(200, 400), scale_bar=options)
    assert len(set(bar_pixels(out)[1])) == 100


def test_scale_bar_uses_the_pixel_width_and_covers_fractions_exactly():
    anisotropic = Calibration(0.1, 0.3, "µm", "manual")
    out = draw([], image=black(200, 400), calibration=anisotropic, scale_bar=ScaleBar(length=10))
    assert len(set(bar_pixels(out)[1])) == 100
    third = Calibration(0.3, 0.3, "µm", "manual")  # 10 µm = 33.33 px
    bar = ScaleBar(length=10, label=False, thickness=4)
    out = draw([], image=black(200, 400), calibration=third, scale_bar=bar)
    row = out[bar_pixels(out)[0][0], :, 0].astype(float) / 255
    assert (row == 1).sum() == 33 and row.sum() == pytest.approx(10 / 0.3, abs=0.01)


def test_scale_bar_label_is_drawn_below_the_bar():
    options = ScaleBar(length=10, position="top-left", color="#ff0000")
    layout = scale_bar_layout(options, UM, (200, 400))
    assert layout.label.unicode == "10 µm" and layout.label.text in ("10 µm", "10 um")
    out = draw([], image=black(200, 400), scale_bar=options)
    x0, y0, x1, y1 = (round(v) for v in layout.label.box)
    assert y0 >= layout.bar[3]  # under the bar
    ink = out[y0:y1, x0:x1]
    assert (ink[..., 0] > 0).mean() > 0.15 and (ink[..., 1:] == 0).all()  # red text
    bar_left, bar_top = int(layout.bar[0]), int(layout.bar[1])
    assert bar_top == 7 and tuple(out[bar_top, bar_left + 1]) == (255, 0, 0)
    no_label = draw([], image=black(200, 400), scale_bar=ScaleBar(length=10, label=False))
    assert (no_label[y0:y1, x0:x1] == 0).all()


def test_no_scale_bar_on_an_uncalibrated_image_and_none_too_long():
    image = black(50, 100)
    bar = ScaleBar()
    out = draw([], image=image, calibration=Calibration.uncalibrated(), scale_bar=bar)
    assert (out == 0).all()
    with pytest.raises(ValueError, match="longer than the image"):
        draw([], image=image, scale_bar=ScaleBar(length=20))  # 200 px > 100
    with pytest.raises(ValueError):
        ScaleBar(position="middle")
    with pytest.raises(ValueError):
        ScaleBar(color="not a colour")
    assert parse_colour("#fc0") == (255, 204, 0) and parse_colour("White") == (255, 255, 255)
    assert ScaleBar.from_dict(ScaleBar(length=5, color="#123456").to_dict()).length == 5
    assert nice_length(8) == 10 and nice_length(0.17) == 0.2 and nice_length(3.5) == 5
    assert format_length(0.5, "mm") == "0.5 mm"


# --- levels and colour --------------------------------------------------------------------


def test_sixteen_bit_and_float_images_are_mapped_with_levels():
    ramp = np.tile(np.linspace(1000, 5000, 101), (20, 1)).astype(np.uint16)
    out = display_image(ramp, (1000, 5000))
    assert out[0, 0, 0] == 0 and out[0, -1, 0] == 255 and out[0, 25, 0] == 64  # 2000 → 63.75
    assert (out[..., 0] == out[..., 2]).all()
    auto = display_image(ramp)  # 0.35 / 99.65 percentiles
    assert (
        auto[0, 0, 0] == 0
        and auto[0, -1, 0] == 255
        and (np.diff(auto[0, :, 0].astype(int)) >= 0).all()
    )
    spots = np.full((100, 100), 0.25, np.float32)
    spots[:50] = 0.75
    spots[0, 0], spots[0, 1] = 1e6, np.nan  # a hot pixel is saturated, not the white point
    shown = render_annotated(spots, [], calibration=UM, scale_bar=None)
    assert shown[60, 0, 0] == 0 and shown[10, 0, 0] == 255 and shown[0, 1, 0] == 0
    assert (spots[0, 0], np.isnan(spots[0, 1])) == (1e6, True)  # input untouched


def test_eight_bit_boolean_and_colour_images_are_kept():
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert (display_image(grey)[..., 1] == grey).all()  # 8-bit: as stored by default
    assert display_image(grey, "auto")[..., 0].max() == 255
    mask = np.eye(8, dtype=bool)
    assert set(np.unique(display_image(mask))) == {0, 255}
    rgb = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    assert (render_annotated(rgb, [], calibration=UM, scale_bar=None) == rgb).all()
    original = rgb.copy()
    drawn = render_annotated(rgb, [line((10, 5), (10, 35))], calibration=UM, scale_bar=None)
    assert (rgb == original).all() and (drawn[10, 20] == MANUAL).all()  # drawn on a copy
    rgba = np.dstack([rgb, np.zeros((30, 40), np.uint8)])
    assert (display_image(rgba) == rgb).all()
    with pytest.raises(ValueError):
        display_image(np.zeros((3, 4, 2)))
    with pytest.raises(ValueError):
        display_image(grey, (10, 10))


# --- files --------------------------------------------------------------------------------


def sample_shapes():
    return [
        line((10, 5), (10, 45), id=1),
        Annotation(2, Kind.RECTANGLE, [[9.5, 19.5], [29.5, 59.5]]),
        Annotation(3, Kind.ELLIPSE, [[30, 10], [50, 40]], provenance=Provenance(Origin.AUTOMATIC)),
        Annotation(4, Kind.POINTS, [[30, 40], [12, 7]], classes=(2, 5)),
        Annotation(5, Kind.POLYGON, [[40, 50], [55, 70], [58, 52]]),
        Annotation(6, Kind.ANGLE, [[5, 60], [15, 70], [5, 78]]),
    ]


def test_svg_has_one_element_per_annotation_at_pixel_centres_plus_half(tmp_path):
    image = np.tile(np.arange(80, dtype=np.uint16) * 100, (60, 1))
    bar = ScaleBar(length=2)  # 20 px
    path = write_annotated(
        tmp_path / "a.svg", image, sample_shapes(), calibration=UM, scale_bar=bar
    )
    root = ET.parse(path).getroot()
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("80", "60", "0 0 80 60")
    embedded = root.find(f"{SVG}image")
    assert (embedded.get("width"), embedded.get("height")) == ("80", "60")
    href = embedded.get("{http://www.w3.org/1999/xlink}href")
    assert href.startswith("data:image/png;base64,")
    png = cv2.imdecode(np.frombuffer(base64.b64decode(href.split(",", 1)[1]), np.uint8), 1)
    assert png.shape == (60, 80, 3) and (png[..., ::-1] == display_image(image)).all()

    def one(id):
        found = [e for e in root.iter() if e.get("id") == f"annotation-{id}"]
        assert len(found) == 1
        return found[0]

    assert one(1).tag == f"{SVG}polyline" and one(1).get("points") == "5.5,10.5 45.5,10.5"
    rect = one(2)
    assert [rect.get(k) for k in ("x", "y", "width", "height")] == ["20", "10", "40", "20"]
    assert one(2).get("stroke") == "#ffd200"
    ellipse = one(3)
    assert [ellipse.get(k) for k in ("cx", "cy", "rx", "ry")] == ["25.5", "40.5", "15", "10"]
    assert ellipse.get("stroke") == "#00dcff"
    circles = one(4).findall(f"{SVG}circle")
    assert [(c.get("cx"), c.get("cy")) for c in circles] == [("40.5", "30.5"), ("7.5", "12.5")]
    assert circles[0].get("fill") == "#009e73"
    assert one(5).tag == f"{SVG}polygon" and one(5).get("points") == "50.5,40.5 70.5,55.5 52.5,58.5"
    assert one(6).tag == f"{SVG}polyline"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "4 µm" in texts and "8 µm²" in texts and "2 µm" in texts  # line, rectangle, bar
    scale = next(e for e in root.iter() if e.get("id") == "scale-bar")
    assert scale.find(f"{SVG}rect").get("width") == "20"


def test_png_and_tiff_hold_the_rendered_pixels_and_the_tiff_the_calibration(tmp_path):
    image = np.random.default_rng(2).integers(0, 4000, (60, 80)).astype(np.uint16)
    calibration = Calibration(0.1, 0.2, "µm", "manual")
    expected = render_annotated(image, sample_shapes(), calibration=calibration)
    png = write_annotated(tmp_path / "a.PNG", image, sample_shapes(), calibration=calibration)
    assert (read_image(png).page(0) == expected).all()
    tif = write_annotated(tmp_path / "a.tif", image, sample_shapes(), calibration=calibration)
    read = read_image(tif)
    assert (read.page(0) == expected).all()
    assert read.calibration.unit == "µm" and read.calibration.source == "metadata"
    assert read.calibration.pixel_width == pytest.approx(0.1, rel=1e-6)
    assert read.calibration.pixel_height == pytest.approx(0.2, rel=1e-6)
    nm = write_annotated(tmp_path / "b.tiff", image, [], calibration=Calibration(5, 5, "nm"))
    assert read_image(nm).calibration.pixel_width == pytest.approx(5, rel=1e-6)
    plain = write_annotated(tmp_path / "c.tif", image, [], calibration=Calibration())
    assert not read_image(plain).calibration.is_calibrated


def test_failed_writes_leave_no_file(tmp_path, monkeypatch):
    image = black()
    with pytest.raises(ValueError, match="cannot write"):
        write_annotated(tmp_path / "a.jpg", image, [], calibration=UM)
    with pytest.raises(ValueError, match="longer than the image"):
        write_annotated(tmp_path / "a.png", image, [], calibration=UM, scale_bar=ScaleBar(length=9))
    assert list(tmp_path.iterdir()) == []
    target = tmp_path / "a.svg"
    target.write_bytes(b"old")

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    for name in ("a.svg", "b.png", "c.tif"):
        with pytest.raises(OSError):
            write_annotated(tmp_path / name, image, sample_shapes(), calibration=UM)
    assert list(tmp_path.iterdir()) == [target] and target.read_bytes() == b"old"


def test_layered_sample_with_annotations(tmp_path):
    if not SAMPLE.exists():
        pytest.skip("sample images are not installed")
    image = read_image(SAMPLE).page(0)
    calibration = Calibration(0.005, 0.005, "µm", "manual")  # the burned-in bar: 200 px = 1 µm
    shapes = [line((383.5, 300), (383.5, 700)), Annotation(2, Kind.POINTS, [[500, 200]])]
    path = write_annotated(tmp_path / "layered.png", image, shapes, calibration=calibration)
    out = read_image(path).page(0)
    assert out.shape == (768, 1024, 3)
    assert (out[383:385, 300:701] == MANUAL).all()  # between rows 383 and 384: both covered
    assert tuple(out[500, 200]) == CLASS_COLOURS[0]
    assert (out[100:300, 100:250] == image[100:300, 100:250, None]).all()  # untouched elsewhere
    bar = scale_bar_layout(ScaleBar(), calibration, image.shape)
    assert bar.length == 1 and bar.bar[2] - bar.bar[0] == 200  # 1 µm = 200 px, as burned in
