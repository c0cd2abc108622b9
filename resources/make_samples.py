"""Generate measurer's bundled sample images, reproducibly.

Usage::

    python resources/make_samples.py [OUTPUT_DIR]

OUTPUT_DIR defaults to ``measurer/resources/samples`` in this checkout. Every random draw comes
from a fixed seed and never depends on a computed value, and no file carries a date, so two runs
with the same numpy, scipy, Pillow and tifffile write byte-identical files. The ground truth of
each sample is printed at the end and documented in ``measurer/resources/samples/README.md``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "measurer" / "resources" / "samples"

# Retina mask: an OCT B-scan segmentation with a full-thickness macular hole.
OCT_SHAPE = (496, 1024)  # rows, cols
OCT_PIXEL_WIDTH_UM = 11.7
OCT_PIXEL_HEIGHT_UM = 3.9
OCT_TILT_DEG = 3.0  # the whole band is rotated clockwise on screen by this much
HOLE_HALF_WIDTH_TOP = 30.0  # px, at the inner surface (depth 0)
HOLE_HALF_WIDTH_MIN = 18.0  # px, at mid depth (depth 0.5): minimum linear diameter 36 px
HOLE_HALF_WIDTH_BASE = 45.0  # px, at the outer surface (depth 1): base diameter 90 px
CYST_OFFSET_X = -95.0  # px from the hole axis, in the left region
CYST_DEPTH = 0.45
CYST_RADII = (11.0, 16.0)  # px (vertical, horizontal) in the band's frame

# Layered micrograph.
LAYERED_SHAPE = (768, 1024)
LAYER_ANGLE_DEG = 25.0  # layers rise to the right at this angle to the image rows
LAYER_PERIOD = 40.0  # px, perpendicular to the layers, at the image centre
LAYER_TAPER_LENGTH = 5000.0  # px: the period is P * (1 - s / this), s along the layers
LAYER_DARK_FRACTION = 0.5
SCALE_BAR_PX = 200
SCALE_BAR_THICKNESS = 8
SCALE_BAR_LABEL = ("1 µm", "1 um")  # the second when Pillow's built-in font has no micro sign

# Fluorescence-like 16-bit images.
CELLS_SHAPE = (512, 512)
CELLS_COUNT = 14
CELLS_PIXEL_SIZE_UM = 0.25
STACK_SHAPE = (3, 256, 256)
STACK_CELLS = 6
STACK_SHIFT_PER_FRAME = (2, 3)  # rows, cols
STACK_BLEACH_PER_FRAME = 0.85


def _rotate_about_centre(x, y, shape, degrees):
    """Rotate image coordinates (x = col, y = row) about the image centre."""
    cy, cx = (shape[0] - 1) / 2, (shape[1] - 1) / 2
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    dx, dy = x - cx, y - cy
    return cx + c * dx - s * dy, cy + s * dx + c * dy


def _retina_surfaces(x):
    """Inner (top) and outer (bottom) retinal surface rows at band-frame column x."""
    d = x - (OCT_SHAPE[1] - 1) / 2
    sag = 45.0 * (d / 512.0) ** 2  # the eye's curvature: a shallow U
    rim = 30.0 * np.exp(-((d / 110.0) ** 2))  # the hole's rims are thickened and raised
    top = 140.0 - sag - rim + 2.5 * np.cos(2 * np.pi * d / 180.0)
    bottom = 380.0 - sag + 1.5 * np.cos(2 * np.pi * d / 300.0)
    return top, bottom


def _hole_half_width(depth):
    """Half-width of the hole at normalised depth (0 inner surface, 1 outer surface)."""
    upper = HOLE_HALF_WIDTH_TOP - HOLE_HALF_WIDTH_MIN
    lower = HOLE_HALF_WIDTH_BASE - HOLE_HALF_WIDTH_MIN
    k = ((depth - 0.5) / 0.5) ** 2
    return HOLE_HALF_WIDTH_MIN + np.where(depth < 0.5, upper, lower) * k


def make_retina_mask() -> np.ndarray:
    """The two-region binary mask (uint8, 0/255) with a hole between and a cyst inside."""
    rows, cols = np.mgrid[0 : OCT_SHAPE[0], 0 : OCT_SHAPE[1]].astype(np.float64)
    # Band-frame coordinates: undo the tilt.
    x, y = _rotate_about_centre(cols, rows, OCT_SHAPE, -OCT_TILT_DEG)
    top, bottom = _retina_surfaces(x)
    depth = (y - top) / (bottom - top)
    axis = (OCT_SHAPE[1] - 1) / 2
    band = (depth >= 0) & (depth <= 1)
    hole = np.abs(x - axis) < _hole_half_width(np.clip(depth, 0, 1))
    cyst_x = axis + CYST_OFFSET_X
    cyst_top, cyst_bottom = _retina_surfaces(np.float64(cyst_x))
    cyst_y = cyst_top + CYST_DEPTH * (cyst_bottom - cyst_top)
    cyst = ((y - cyst_y) / CYST_RADII[0]) ** 2 + ((x - cyst_x) / CYST_RADII[1]) ** 2 < 1
    return np.where(band & ~hole & ~cyst, 255, 0).astype(np.uint8)


def retina_ground_truth() -> dict[str, float]:
    """Designed hole diameters, in pixels and in µm, from the continuous geometry."""
    axis = (OCT_SHAPE[1] - 1) / 2
    depth = np.linspace(0.0, 1.0, 4001)
    half = _hole_half_width(depth)
    edges = []
    for side in (-1.0, 1.0):
        x = axis + side * half
        top, bottom = _retina_surfaces(x)
        edges.append(_rotate_about_centre(x, top + depth * (bottom - top), OCT_SHAPE, OCT_TILT_DEG))
    (lx, ly), (rx, ry) = edges

    def diameters(sx: float, sy: float) -> tuple[float, float]:
        ex, ey = lx[:, None] * sx - rx[None, :] * sx, ly[:, None] * sy - ry[None, :] * sy
        minimum = float(np.sqrt((ex**2 + ey**2).min()))
        base = math.hypot((lx[-1] - rx[-1]) * sx, (ly[-1] - ry[-1]) * sy)
        return minimum, base

    min_px, base_px = diameters(1.0, 1.0)
    min_um, base_um = diameters(OCT_PIXEL_WIDTH_UM, OCT_PIXEL_HEIGHT_UM)
    cyst_area = math.pi * CYST_RADII[0] * CYST_RADII[1]
    return {
        "minimum_diameter_px": min_px,
        "base_diameter_px": base_px,
        "minimum_diameter_um": min_um,
        "base_diameter_um": base_um,
        "cyst_area_px": cyst_area,
    }


def _label_font(size: int) -> tuple[ImageFont.FreeTypeFont, str]:
    """Pillow's built-in font and the scale-bar label it can draw."""
    font = ImageFont.load_default(size=size)
    missing = font.getmask("\uffff")  # a code point no font has: the "missing glyph" box
    micro = font.getmask("µ")
    has_micro = micro.size != missing.size or bytes(micro) != bytes(missing)
    return font, SCALE_BAR_LABEL[0] if has_micro else SCALE_BAR_LABEL[1]


def _layer_coverage(rows, cols):
    """Dark-layer coverage (0..1, antialiased over one pixel) and each pixel's layer index."""
    cy, cx = (LAYERED_SHAPE[0] - 1) / 2, (LAYERED_SHAPE[1] - 1) / 2
    a = math.radians(LAYER_ANGLE_DEG)
    along = (cols - cx) * math.cos(a) - (rows - cy) * math.sin(a)
    across = (cols - cx) * math.sin(a) + (rows - cy) * math.cos(a)
    period = LAYER_PERIOD * (1 - along / LAYER_TAPER_LENGTH)
    phase = across / period
    layer = np.floor(phase)
    w = (phase - layer) * period  # px into the current period
    dark = LAYER_DARK_FRACTION * period
    inside = np.minimum(w, dark - w)
    outside = -np.minimum(w - dark, period - w)
    signed = np.where(w < dark, inside, outside)
    return np.clip(signed + 0.5, 0.0, 1.0), layer.astype(np.int64)


def make_layered_micrograph() -> tuple[np.ndarray, dict[str, object]]:
    """The layered 8-bit micrograph with its burned-in scale bar, and where the bar is."""
    rng = np.random.default_rng(20250125)
    h, w = LAYERED_SHAPE
    dark_levels = 72.0 + rng.uniform(-12.0, 12.0, size=64)  # per-layer density
    texture = ndimage.gaussian_filter(rng.standard_normal(LAYERED_SHAPE), 6.0)
    noise = rng.standard_normal(LAYERED_SHAPE)

    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    coverage, layer = _layer_coverage(rows, cols)
    dark = dark_levels[np.mod(layer, dark_levels.size)]
    image = 188.0 * (1 - coverage) + dark * coverage
    image += 8.0 * texture / texture.std()
    image += 30.0 * cols / (w - 1) - 18.0 * rows / (h - 1)  # uneven illumination
    image = ndimage.gaussian_filter(image, 1.5)
    image += 5.0 * noise
    pixels = np.clip(np.rint(image), 0, 255).astype(np.uint8)

    picture = Image.fromarray(pixels)
    draw = ImageDraw.Draw(picture)
    font, label = _label_font(28)
    box = (w - 16 - 240, h - 16 - 78, w - 16, h - 16)  # left, top, right, bottom (exclusive)
    draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    bar_left, bar_top = box[0] + 20, box[3] - 14 - SCALE_BAR_THICKNESS
    draw.rectangle(
        (bar_left, bar_top, bar_left + SCALE_BAR_PX - 1, bar_top + SCALE_BAR_THICKNESS - 1), fill=0
    )
    left, _, right, bottom = draw.textbbox((0, 0), label, font=font)
    text_x = box[0] + (box[2] - box[0] - (right - left)) // 2 - left
    text_y = bar_top - 8 - bottom
    draw.text((text_x, text_y), label, font=font, fill=0)
    bar = {
        "label": label,
        "bar_rows": (bar_top, bar_top + SCALE_BAR_THICKNESS),
        "bar_cols": (bar_left, bar_left + SCALE_BAR_PX),
    }
    return np.asarray(picture), bar


def _place_cells(rng, shape, count, margin):
    """Random ellipses at least 8 px apart: (row, col, semi-major, semi-minor, angle in degrees).

    The angle is that of the major axis, counterclockwise on screen from the x (column) axis.
    """
    cells: list[tuple[float, float, float, float, float]] = []
    while len(cells) < count:
        a = rng.uniform(10.0, 22.0)
        b = a * rng.uniform(0.5, 0.95)
        row = rng.uniform(margin + a, shape[0] - margin - a)
        col = rng.uniform(margin + a, shape[1] - margin - a)
        angle = rng.uniform(0.0, 180.0)
        if all(math.hypot(row - r, col - c) > a + ca + 8.0 for r, c, ca, _, _ in cells):
            cells.append((row, col, a, b, angle))
    return cells


def _render_cells(shape, cells, peaks, shift=(0, 0)):
    """Soft-edged flat ellipses (edge width ~1.5 px) on a zero background."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    image = np.zeros(shape)
    for (row, col, a, b, angle), peak in zip(cells, peaks, strict=True):
        t = math.radians(angle)
        dr, dc = rows - row - shift[0], cols - col - shift[1]
        u = dc * math.cos(t) - dr * math.sin(t)  # along the major axis (rows point down)
        v = dc * math.sin(t) + dr * math.cos(t)
        edge = np.sqrt((u / a) ** 2 + (v / b) ** 2) - 1.0  # ~ distance outside, in radii
        image += peak / (1.0 + np.exp(np.clip(edge * min(a, b) / 0.4, -50, 50)))
    return image


def _camera(rng, signal):
    """Photon noise (normal approximation, gain 4) plus read noise, as uint16."""
    shot = np.sqrt(np.maximum(signal, 0.0) * 4.0) * rng.standard_normal(signal.shape)
    read = 20.0 * rng.standard_normal(signal.shape)
    return np.clip(np.rint(signal + shot + read), 0, 65535).astype(np.uint16)


def make_cells() -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """The 16-bit fluorescence-like image and its cells (row, col, a, b, angle, peak)."""
    rng = np.random.default_rng(20250126)
    cells = _place_cells(rng, CELLS_SHAPE, CELLS_COUNT, margin=20.0)
    peaks = np.geomspace(1500.0, 60000.0, CELLS_COUNT)[rng.permutation(CELLS_COUNT)]
    rows, cols = np.mgrid[0 : CELLS_SHAPE[0], 0 : CELLS_SHAPE[1]].astype(np.float64)
    background = 400.0 + 150.0 * (rows + cols) / (CELLS_SHAPE[0] + CELLS_SHAPE[1])
    signal = background + _render_cells(CELLS_SHAPE, cells, peaks)
    truth = [(*cell, float(peak)) for cell, peak in zip(cells, peaks, strict=True)]
    return _camera(rng, signal), truth


def make_stack() -> tuple[np.ndarray, list[tuple[float, ...]]]:
    """A 3-frame time-lapse: cells drifting by a whole-pixel shift and bleaching."""
    rng = np.random.default_rng(20250127)
    shape = STACK_SHAPE[1:]
    cells = _place_cells(rng, shape, STACK_CELLS, margin=24.0)
    peaks = np.geomspace(4000.0, 40000.0, STACK_CELLS)[rng.permutation(STACK_CELLS)]
    frames = []
    for k in range(STACK_SHAPE[0]):
        shift = (STACK_SHIFT_PER_FRAME[0] * k, STACK_SHIFT_PER_FRAME[1] * k)
        bleached = peaks * STACK_BLEACH_PER_FRAME**k
        frames.append(_camera(rng, 300.0 + _render_cells(shape, cells, bleached, shift)))
    truth = [(*cell, float(peak)) for cell, peak in zip(cells, peaks, strict=True)]
    return np.stack(frames), truth


def _write_png(path: Path, pixels: np.ndarray) -> None:
    Image.fromarray(pixels).save(path, format="PNG", compress_level=9)


def _write_imagej(path: Path, data, pixel_width, pixel_height, axes, compression=None) -> None:
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(1 / pixel_width, 1 / pixel_height),
        metadata={"unit": "um", "axes": axes},
        compression=compression,
    )


def write_samples(output: Path) -> dict[str, object]:
    """Write every sample into ``output`` and return their ground truth."""
    output.mkdir(parents=True, exist_ok=True)
    mask = make_retina_mask()
    _write_png(output / "retina_hole_mask.png", mask)
    _write_imagej(
        output / "retina_hole_mask.tif",
        mask,
        OCT_PIXEL_WIDTH_UM,
        OCT_PIXEL_HEIGHT_UM,
        "YX",
        compression="zlib",
    )
    layered, bar = make_layered_micrograph()
    _write_png(output / "layered_micrograph.png", layered)
    cells, cell_truth = make_cells()
    _write_imagej(
        output / "calibrated_16bit.tif", cells, CELLS_PIXEL_SIZE_UM, CELLS_PIXEL_SIZE_UM, "YX"
    )
    stack, stack_truth = make_stack()
    _write_imagej(
        output / "stack_16bit.tif", stack, CELLS_PIXEL_SIZE_UM, CELLS_PIXEL_SIZE_UM, "TYX"
    )
    return {
        "retina": retina_ground_truth(),
        "scale_bar": bar,
        "cells": cell_truth,
        "stack": stack_truth,
    }


def _print_truth(truth: dict[str, object]) -> None:
    print("retina_hole_mask:", {k: round(v, 2) for k, v in truth["retina"].items()})
    print("layered_micrograph scale bar:", truth["scale_bar"])
    for name in ("cells", "stack"):
        print(f"{name}: row, col, semi-major, semi-minor, angle (deg), peak above background")
        for cell in truth[name]:
            print("  " + ", ".join(f"{value:.1f}" for value in cell))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    _print_truth(write_samples(args.output))


if __name__ == "__main__":
    main()
