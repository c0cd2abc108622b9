"""The work of the Layers panel: place its profiles and analyse each one, off the GUI thread.

:func:`find_layers` runs on a worker (``run_task``) and returns the step parameters, the
annotations and a one-line summary that the panel applies as one ``ApplyDetection``.
:func:`rectangle_roi` turns the selected rectangle into the ROI it analyses. No Qt here.
"""

from __future__ import annotations

import math

import numpy as np

from measurer.core import derived_layers


def find_layers(image, request: dict, *, progress, cancelled) -> dict | None:
    """Place the profiles and analyse each (runs on a worker thread).

    ``request`` holds ``band_width``, ``profiles``, ``smoothing``, ``spacing`` (the pixel
    size, row then col) and either ``roi`` (``(row, col, rows, cols)``: automatic orientation)
    or ``line`` (``(start, end)``: parallel profiles one band width apart around it).
    """
    from measurer.analysis.layers import analyze_line
    from measurer.analysis.orientation import (
        clip_line,
        layer_orientation,
        parallel_lines,
        profile_lines,
    )
    from measurer.analysis.profiles import grayscale

    grey = grayscale(image)
    width, count = request["band_width"], request["profiles"]
    orientation = None
    if request["roi"] is not None:
        progress(0.02, "Finding the layer direction…")
        orientation = layer_orientation(grey, roi=request["roi"], spacing=request["spacing"])
        lines = list(profile_lines(request["roi"], orientation, count=count))
    else:
        bounds = (0, 0, grey.shape[0] - 1, grey.shape[1] - 1)
        start, end = request["line"]
        clipped = [clip_line(s, e, bounds) for s, e in
                   parallel_lines(start, end, count=count, spacing=width)]  # fmt: skip
        lines = [c for c in clipped if c is not None and math.hypot(*(c[1] - c[0])) >= 2]
    if not lines:
        raise ValueError("The profile does not cross the image: draw it over the layers.")
    results = []
    for n, (start, end) in enumerate(lines):
        if cancelled():
            return None
        progress(0.1 + 0.9 * n / len(lines), f"Profile {n + 1} of {len(lines)}…")
        results.append(analyze_line(grey, start, end, width=width, smoothing=request["smoothing"]))
    angle = orientation.angle_deg if orientation is not None else None
    parameters = {
        **{k: request[k] for k in ("band_width", "profiles", "smoothing")},
        "resolved_factor": 4.0,
        "roi": list(request["roi"]) if request["roi"] is not None else None,
        "orientation_deg": angle,
        "lines": [[*r.start, *r.end] for r in results],
        "blur": [_plain(r.profile.blur) for r in results],
        "period": [_plain(r.profile.period) for r in results],
    }
    shapes = derived_layers.layer_annotations(
        [(r.start, r.end) for r in results],
        [r.boundary_points for r in results],
        [r.profile.rising for r in results],
        band_width=width,
    )
    text = (
        f"{len(results)} profile(s), {sum(r.profile.boundaries.size for r in results)} boundaries."
    )
    text += f" Layers at {angle:.1f}°." if angle is not None else ""
    return {"parameters": parameters, "shapes": shapes, "text": text}


def rectangle_roi(vertices: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(row, col, rows, cols)`` of the pixels whose centres a rectangle covers (clipped)."""
    (r0, c0), (r1, c1) = np.sort(vertices, axis=0)
    first = (max(0, math.ceil(r0)), max(0, math.ceil(c0)))
    last = (min(shape[0] - 1, math.floor(r1)), min(shape[1] - 1, math.floor(c1)))
    return first[0], first[1], last[0] - first[0] + 1, last[1] - first[1] + 1


def _plain(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
