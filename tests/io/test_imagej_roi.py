"""ImageJ ROI files: round trips, ImageJ's coordinate conventions, names, unsupported and bad files.

Numbers marked "ImageJ 1.53t" were recorded with ImageJ's own RoiDecoder and measurements on the
ROIs this writer produces (see the module docstring of measurer.io.imagej_roi). The last test runs
the ImageJ oracle itself when MEASURER_IMAGEJ_ORACLE=1 and ImageJ is installed.
"""

import csv
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from roifile import ROI_OPTIONS, ROI_SUBTYPE, ROI_TYPE, ImagejRoi
from scipy import ndimage as ndi

from measurer.analysis.outlines import mask_outline_polygon
from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.measurements import region_statistics
from measurer.io.imagej_roi import (
    RoiFileError,
    UnsupportedRoiError,
    read_rois,
    roi_name,
    write_rois,
)

AUTOMATIC = Provenance(Origin.AUTOMATIC, "blobs", {"min_area": 5})
ORACLE = Path(__file__).resolve().parents[3] / "shared/oracles/imagej/roiset.sh"


def every_kind() -> list[Annotation]:
    """One annotation of each kind; coordinates are multiples of 1/64 (exact in float32)."""
    square = [(-0.5, -0.5), (-0.5, 3.5), (2.5, 3.5), (2.5, -0.5)]
    return [
        Annotation(1, Kind.POINTS, [(5, 7), (10.25, 3.5), (0, 0)], "cells", classes=(0, 3, 8)),
        Annotation(2, Kind.LINE, [(5, 3), (5.015625, 12.5)], "line"),
        Annotation(3, Kind.POLYLINE, [(5, 3), (5, 8), (9.75, 8.125)], "path"),
        Annotation(4, Kind.ANGLE, [(3, 7), (5, 10), (9, 8)], "angle"),
        Annotation(5, Kind.RECTANGLE, [(-0.5, -0.5), (9.5, 19.5)], "box"),
        Annotation(6, Kind.ELLIPSE, [(2.5, 1.5), (8.5, 11.5)], "oval"),
        Annotation(7, Kind.POLYGON, [(2.25, 3.5), (8.75, 4.0), (6.5, 12.125)], "tri"),
        Annotation(8, Kind.POLYGON, square, "traced"),
        Annotation(9, Kind.FREEHAND, [(2.25, 3.5), (8.75, 4.0), (6.5, 12.125), (1, 9)], "free"),
        Annotation(10, Kind.PROFILE, [(12, 4), (20.5, 30)], "band", width=3, provenance=AUTOMATIC),
        Annotation(11, Kind.LINE, [(1, 1), (2, 2)]),
    ]


def assert_same(read: list[Annotation], written: list[Annotation]) -> None:
    assert [a.id for a in read] == list(range(1, len(written) + 1))
    for got, want in zip(read, written, strict=True):
        assert (got.kind, got.label, got.classes, got.width) == (
            want.kind,
            want.label,
            want.classes,
            want.width,
        )
        np.testing.assert_allclose(got.vertices, want.vertices, rtol=0, atol=1e-6)
        assert got.provenance == Provenance(Origin.MANUAL) and got.role == ""


def one_roi(path: Path) -> ImagejRoi:
    return ImagejRoi.fromfile(path)


def test_every_kind_round_trips_through_a_zip_set(tmp_path):
    written = every_kind()
    path = write_rois(tmp_path / "set.zip", written)
    assert_same(read_rois(path), written)
    names = zipfile.ZipFile(path).namelist()
    assert names[:2] == ["0001-cells.roi", "0002-line.roi"] and names[-1] == "0011.roi"


@pytest.mark.parametrize("index", range(11))
def test_every_kind_round_trips_through_a_roi_file(tmp_path, index):
    annotation = every_kind()[index]
    path = write_rois(tmp_path / "one.roi", [annotation])
    assert_same(read_rois(path), [annotation])


def test_arbitrary_coordinates_keep_float32_precision(tmp_path):
    rng = np.random.default_rng(3)
    points = rng.uniform(-4000, 40000, (50, 2))
    written = [Annotation(1, Kind.POLYGON, points), Annotation(2, Kind.POINTS, points)]
    for got, want in zip(read_rois(write_rois(tmp_path / "s.zip", written)), written, strict=True):
        error = np.abs(got.vertices - want.vertices)
        assert np.all(error <= 2.0**-23 * (np.abs(want.vertices) + 0.5))


def test_area_rois_have_pixel_corners_at_integers(tmp_path):
    written = every_kind()
    rois = ImagejRoi.fromfile(write_rois(tmp_path / "set.zip", written))
    box, oval, triangle, square = rois[4], rois[5], rois[6], rois[7]
    assert box.roitype == ROI_TYPE.RECT and box.subpixelrect
    assert (box.xd, box.yd, box.widthd, box.heightd) == (0, 0, 20, 10)
    assert oval.roitype == ROI_TYPE.OVAL
    assert (oval.xd, oval.yd, oval.widthd, oval.heightd) == (2, 3, 10, 6)
    np.testing.assert_array_equal(triangle.coordinates(), [[4, 2.75], [4.5, 9.25], [12.625, 7]])
    # A polygon along pixel edges goes out as a traced ROI with integer corners.
    assert square.roitype == ROI_TYPE.TRACED and not square.subpixelresolution
    np.testing.assert_array_equal(square.coordinates(), [[0, 0], [4, 0], [4, 3], [0, 3]])


def test_points_and_lines_have_pixel_centres_at_integers(tmp_path):
    # ImageJ 1.53t draws the point (7, 5) centred on pixel column 7, row 5 and measures that
    # pixel; it samples the line (3, 5)-(12, 5) at exactly pixels 3..12 of row 5.
    rois = ImagejRoi.fromfile(write_rois(tmp_path / "set.zip", every_kind()))
    points, line, profile = rois[0], rois[1], rois[9]
    assert points.roitype == ROI_TYPE.POINT and points.subpixelresolution
    np.testing.assert_array_equal(points.coordinates(), [[7, 5], [3.5, 10.25], [0, 0]])
    np.testing.assert_array_equal(points.counters, [0, 3, 8])
    assert line.roitype == ROI_TYPE.LINE
    assert (line.x1, line.y1, line.x2, line.y2) == (3, 5, 12.5, 5.015625)
    assert profile.roitype == ROI_TYPE.LINE
    assert (profile.stroke_width, profile.float_stroke_width) == (3, 3.0)


def test_area_rois_cover_the_pixels_imagej_covers():
    grey = np.random.default_rng(0).random((30, 40))
    rows, cols = np.mgrid[0:30, 0:40]

    def pixels(annotation: Annotation) -> tuple[float, float, float]:
        count = region_statistics(grey, annotation)["Count"]
        x = region_statistics(cols.astype(float), annotation)["Mean"]
        y = region_statistics(rows.astype(float), annotation)["Mean"]
        return count, x, y

    box, oval, triangle = every_kind()[4:7]
    assert pixels(box) == (200, 9.5, 4.5)  # ImageJ 1.53t: 200 px, pixel centroid (9.5, 4.5)
    # ImageJ 1.53t fills these pixels of the oval x=2 y=3 w=10 h=6 (row: first, last column):
    spans = {3: (4, 9), 4: (3, 10), 5: (2, 11), 6: (2, 11), 7: (3, 10), 8: (4, 9)}
    expected = np.zeros((30, 40), bool)
    for row, (first, last) in spans.items():
        expected[row, first : last + 1] = True
    stats = region_statistics(grey, oval)
    assert stats["Count"] == 48 and stats["Mean"] == pytest.approx(grey[expected].mean())
    count, x, y = pixels(triangle)  # ImageJ 1.53t: 30 px, centroid (6.466667, 5.766667)
    assert count == 30 and (x, y) == pytest.approx((6.466667, 5.766667), abs=1e-6)


def test_labels_from_properties_names_from_fiji(tmp_path):
    odd = "a/b: c\\d\ne"
    path = write_rois(tmp_path / "set.zip", [Annotation(1, Kind.POINTS, [(1, 1)], odd)])
    assert zipfile.ZipFile(path).namelist() == ["0001-a_b: c_d_e.roi"]
    assert read_rois(path)[0].label == odd
    # A ROI renamed in Fiji keeps its new name; one made in Fiji keeps ImageJ's default name.
    roi = ImagejRoi.fromfile(path)[0]
    roi.name = "renamed"
    roi.tofile(tmp_path / "renamed.roi")
    assert read_rois(tmp_path / "renamed.roi")[0].label == "renamed"
    fiji = ImagejRoi.frompoints(np.array([[7, 5]]), name="0005-0007")
    fiji.roitype = ROI_TYPE.POINT
    fiji.tofile(tmp_path / "fiji.roi")
    (point,) = read_rois(tmp_path / "fiji.roi")
    assert point.label == "0005-0007" and point.classes == (0,)
    np.testing.assert_array_equal(point.vertices, [[5, 7]])  # Fiji's integer point = pixel
    assert roi_name(12, "") == "0012" and roi_name(3, "x") == "0003-x"


def test_wide_line_from_fiji_is_a_profile_and_a_thin_one_a_line(tmp_path):
    for width, kind in ((5, Kind.PROFILE), (1, Kind.LINE), (0, Kind.LINE)):
        roi = ImagejRoi(roitype=ROI_TYPE.LINE, name="L", x1=1, y1=2, x2=8, y2=2)
        roi.stroke_width = width
        roi.tofile(tmp_path / "line.roi")
        (line,) = read_rois(tmp_path / "line.roi")
        assert line.kind is kind and line.width == max(width, 1)
        np.testing.assert_array_equal(line.vertices, [[2, 1], [2, 8]])


def test_fractional_band_widths_round_trip(tmp_path):
    for width in (0.5, 2.5, 7):
        band = Annotation(1, Kind.PROFILE, [(1, 2), (3, 4)], width=width)
        (read,) = read_rois(write_rois(tmp_path / "band.roi", [band]))
        assert read.kind is Kind.PROFILE and read.width == width


def test_integer_rectangle_and_traced_polygon_from_fiji(tmp_path):
    rect = ImagejRoi(roitype=ROI_TYPE.RECT, name="r", left=2, top=3, right=6, bottom=8)
    rect.tofile(tmp_path / "rect.roi")
    (box,) = read_rois(tmp_path / "rect.roi")
    np.testing.assert_array_equal(box.vertices, [[2.5, 1.5], [7.5, 5.5]])
    traced = ImagejRoi.frompoints(np.array([[2, 3], [6, 3], [6, 8], [2, 8]]), name="t")
    traced.roitype = ROI_TYPE.TRACED
    traced.tofile(tmp_path / "traced.roi")
    (polygon,) = read_rois(tmp_path / "traced.roi")
    assert polygon.kind is Kind.POLYGON
    np.testing.assert_array_equal(polygon.vertices[0], [2.5, 1.5])


def unsupported_rois() -> dict[str, ImagejRoi]:
    text = ImagejRoi(roitype=ROI_TYPE.RECT, subtype=ROI_SUBTYPE.TEXT, name="text", text="hi")
    composite = ImagejRoi(roitype=ROI_TYPE.RECT, name="shape", shape_roi_size=7)
    composite.multi_coordinates = np.array([0, 0, 0, 1, 5, 0, 4], np.float32)
    rounded = ImagejRoi(roitype=ROI_TYPE.RECT, name="round", right=4, bottom=4)
    rounded.rounded_rect_arc_size = 2
    spline = ImagejRoi.frompoints(np.array([[1, 1], [5, 1], [5, 5]]), name="spline")
    spline.roitype, spline.options = ROI_TYPE.POLYGON, ROI_OPTIONS.SPLINE_FIT
    counter = ImagejRoi.frompoints(np.array([[1, 1]]), name="counter")
    counter.roitype, counter.counters = ROI_TYPE.POINT, np.array([12], np.uint8)
    noroi = ImagejRoi(roitype=ROI_TYPE.NOROI, name="none")
    return {"text": text, "shape": composite, "round": rounded, "spline": spline,
            "counter": counter, "none": noroi}  # fmt: skip


def test_unsupported_rois_raise_or_are_skipped_with_reasons(tmp_path):
    path = tmp_path / "mixed.zip"
    good = every_kind()[:2]
    write_rois(path, good)
    bad = unsupported_rois()
    with zipfile.ZipFile(path, "a") as archive:
        for name, roi in bad.items():
            archive.writestr(f"{name}.roi", roi.tobytes())
    with pytest.raises(UnsupportedRoiError) as error:
        read_rois(path)
    message = str(error.value)
    assert "mixed.zip" in message
    for name in bad:
        assert f"{name}.roi" in message
    skipped: list[str] = []
    assert_same(read_rois(path, skipped=skipped), good)
    assert skipped == [
        "text.roi: text overlay",
        "shape.roi: composite (shape) ROI",
        "round.roi: rounded rectangle",
        "spline.roi: spline-fitted shape",
        "counter.roi: point counter 12 (measurer has classes 0-8)",
        "none.roi: ROI type 6 (noroi)",
    ]


def corrupt_files(folder: Path) -> dict[str, tuple[Path, str]]:
    good = ImagejRoi.frompoints(np.array([[1.5, 2.5], [3.0, 4.0], [5.0, 1.0]]), name="p")
    good.roitype = ROI_TYPE.POLYGON
    data = good.tobytes()
    cases = {
        "random.roi": (bytes(range(200)), "not an ImageJ ROI"),
        "empty.roi": (b"", "empty"),
        "short.roi": (data[:40], "not a valid ImageJ ROI"),
        "truncated.roi": (data[:70], "not a valid ImageJ ROI"),
        "bad.zip": (b"PK\x03\x04" + bytes(100), "corrupt ZIP"),
    }
    out = {}
    for name, (content, message) in cases.items():
        (folder / name).write_bytes(content)
        out[name] = (folder / name, message)
    with zipfile.ZipFile(folder / "noroi.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    out["noroi.zip"] = (folder / "noroi.zip", "no .roi entry")
    with zipfile.ZipFile(folder / "badentry.zip", "w") as archive:
        archive.writestr("0001-p.roi", data)
        archive.writestr("0002-q.roi", b"Iout" + bytes(10))
    out["badentry.zip"] = (folder / "badentry.zip", "0002-q.roi: not a valid ImageJ ROI")
    out["missing.roi"] = (folder / "missing.roi", "No such file")
    (folder / "folder.roi").mkdir()
    out["folder.roi"] = (folder / "folder.roi", "directory")
    with zipfile.ZipFile(folder / "deflate.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0001-p.roi", data * 20)
    raw = bytearray((folder / "deflate.zip").read_bytes())
    raw[60:90] = bytes(30)  # damage the compressed data, keep the directory
    (folder / "deflate.zip").write_bytes(bytes(raw))
    out["deflate.zip"] = (folder / "deflate.zip", "corrupt ZIP")
    nan = ImagejRoi.frompoints(np.array([[1.5, 2.5], [3.0, 4.0], [5.0, 1.0]]), name="nan")
    nan.roitype = ROI_TYPE.POLYGON
    nan.subpixel_coordinates[0, 1] = np.nan
    (folder / "nan.roi").write_bytes(nan.tobytes())
    out["nan.roi"] = (folder / "nan.roi", "nan.roi: vertices must be finite")
    return out


@pytest.mark.parametrize(
    "name",
    ["random.roi", "empty.roi", "short.roi", "truncated.roi", "bad.zip", "noroi.zip",
     "badentry.zip", "missing.roi", "folder.roi", "deflate.zip", "nan.roi"],
)  # fmt: skip
def test_corrupt_and_non_roi_files_raise_a_clear_error(tmp_path, name):
    path, message = corrupt_files(tmp_path)[name]
    with pytest.raises(RoiFileError, match=message) as error:
        read_rois(path)
    assert str(path) in str(error.value) and isinstance(error.value, ValueError)


def test_impossible_geometry_is_a_roi_file_error(tmp_path):
    roi = ImagejRoi.frompoints(np.array([[1.0, 2.0], [3.0, 4.0]]), name="two")
    roi.roitype = ROI_TYPE.ANGLE
    roi.tofile(tmp_path / "angle.roi")
    with pytest.raises(RoiFileError, match="angle needs exactly 3 vertices"):
        read_rois(tmp_path / "angle.roi")


def test_write_errors(tmp_path):
    shapes = every_kind()
    with pytest.raises(RoiFileError, match=r"\.roi \(one\) or \.zip"):
        write_rois(tmp_path / "a.txt", shapes)
    with pytest.raises(RoiFileError, match="holds one ROI, not 11"):
        write_rois(tmp_path / "a.roi", shapes)
    with pytest.raises(RoiFileError, match="no annotations"):
        write_rois(tmp_path / "a.zip", [])
    swapped = Annotation(4, Kind.LINE, [(5, 3), (5, 35)])  # x and y mixed up on a 40 x 30 image
    with pytest.raises(RoiFileError, match="annotation 4: vertices lie outside the 40 x 30"):
        write_rois(tmp_path / "a.zip", [swapped], image_shape=(40, 30))
    write_rois(tmp_path / "a.zip", [swapped], image_shape=(30, 40))
    far = Annotation(5, Kind.POINTS, [(1, 70000)])
    with pytest.raises(RoiFileError, match="coordinates from -5000 to 60535"):
        write_rois(tmp_path / "b.zip", [far])
    assert not (tmp_path / "b.zip").exists()


def blob_set(folder: Path) -> tuple[Path, Path, list[np.ndarray]]:
    """A random mask with its 8-connected blobs' traced outlines as a ROI set."""
    rng = np.random.default_rng(11)
    noise = ndi.gaussian_filter(rng.random((60, 80)), 1.5)
    mask = noise > np.quantile(noise, 0.5)
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    blobs = [labels == k for k in range(1, count + 1)]
    shapes = [
        Annotation(k + 1, Kind.POLYGON, mask_outline_polygon(b), f"blob {k + 1}")
        for k, b in enumerate(blobs)
    ]
    image = folder / "mask.tif"
    tifffile.imwrite(image, mask.astype(np.uint8) * 255)
    return image, write_rois(folder / "blobs.zip", shapes, image_shape=mask.shape), blobs


def run_oracle(script: str, *args: Path) -> list[dict[str, str]]:
    out = args[-1]
    command = ["bash", str(ORACLE.with_name(script)), *map(str, args)]
    subprocess.run(command, check=True, timeout=120, capture_output=True)
    with open(out, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.skipif(
    os.environ.get("MEASURER_IMAGEJ_ORACLE") != "1"
    or not ORACLE.exists()
    or not shutil.which("java"),
    reason="ImageJ oracle not requested (MEASURER_IMAGEJ_ORACLE=1) or not installed",
)
def test_imagej_measures_traced_blobs_as_we_do_and_as_analyze_particles(tmp_path):
    image, rois, blobs = blob_set(tmp_path)
    measured = run_oracle("roiset.sh", image, rois, tmp_path / "rois.csv")
    particles = run_oracle("particles.sh", Path("--binary"), image, tmp_path / "particles.csv")
    assert len(measured) == len(particles) == len(blobs) > 10
    holes = 0
    for ours, theirs, blob in zip(measured, particles, blobs, strict=True):
        filled = ndi.binary_fill_holes(blob)  # a traced outline encloses the blob's holes
        centroid = np.argwhere(filled).mean(axis=0)
        assert float(ours["Area"]) == filled.sum()
        assert float(ours["X"]) == pytest.approx(centroid[1] + 0.5, abs=1e-6)
        assert float(ours["Y"]) == pytest.approx(centroid[0] + 0.5, abs=1e-6)
        assert ours["Type"] == "4"  # traced
        # Same outline as ImageJ's wand: same perimeter, Feret and box as Analyze Particles,
        # and the same area and centroid for blobs without holes.
        for key in ("Perim.", "Feret", "BX", "BY", "Width", "Height"):
            assert float(ours[key]) == pytest.approx(float(theirs[key]), abs=1e-5)
        if (filled == blob).all():
            for key in ("Area", "X", "Y"):
                assert float(ours[key]) == pytest.approx(float(theirs[key]), abs=1e-5)
        else:
            holes += 1
            assert float(theirs["Area"]) == blob.sum()
    assert holes >= 1
