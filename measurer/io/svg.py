"""Annotated SVG: the image embedded as a PNG, the overlays as vector shapes and text.

Everything is in image pixel units: the SVG is as many units wide and high as the image has
columns and rows, and SVG's origin is the image's top-left *corner*, so measurer's pixel centre
``(row, col)`` is at SVG ``(col + 0.5, row + 0.5)``. Shapes, labels and the scale bar sit where
the raster export (:mod:`measurer.io.annotated`) draws them; text is kept as text (with ``µ``),
so it stays editable in Inkscape or Illustrator.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from measurer.core.annotations import AREA_KINDS, Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.style import (
    COLOURS,
    LABEL_BACKGROUND,
    LABEL_OPACITY,
    LABEL_TEXT,
    POINT_OUTLINE,
    ScaleBar,
    point_colours,
)
from measurer.io.overlay_layout import (
    OverlaySizes,
    TextBox,
    scale_bar_layout,
    value_labels,
)

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
#: Drawing order, as in the raster export: detections under hand-made shapes, points on top.
_ORDER = {Origin.AUTOMATIC: 0, Origin.CORRECTED: 1, Origin.MANUAL: 2}

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def _num(value: float) -> str:
    """A coordinate with at most three decimals, no trailing zeros."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _hex(colour: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in colour))


def _points(vertices: np.ndarray) -> str:
    """SVG ``points`` of ``(row, col)`` vertices: ``"x,y x,y ..."`` shifted by +0.5."""
    return " ".join(f"{_num(c + 0.5)},{_num(r + 0.5)}" for r, c in vertices)


def _sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{SVG_NS}}}{tag}", attributes)


def _shape(parent: ET.Element, annotation: Annotation, radius: float) -> None:
    """One element per annotation, id ``annotation-<id>``; point sets are a group of circles."""
    v = annotation.vertices
    name = {"id": f"annotation-{annotation.id}", "class": annotation.kind.value}
    if annotation.kind is Kind.POINTS:
        group = _sub(parent, "g", **name, stroke=_hex(POINT_OUTLINE), **{"stroke-width": "1"})
        for (r, c), colour in zip(v, point_colours(annotation), strict=True):
            centre = {"cx": _num(c + 0.5), "cy": _num(r + 0.5)}
            _sub(group, "circle", **centre, r=_num(radius + 0.5), fill=_hex(colour))
        return
    stroke = {"stroke": _hex(COLOURS[annotation.provenance.origin])}
    if annotation.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        (r0, c0), (r1, c1) = v
        top, left = min(r0, r1) + 0.5, min(c0, c1) + 0.5
        height, width = abs(r1 - r0), abs(c1 - c0)
        if annotation.kind is Kind.RECTANGLE:
            _sub(parent, "rect", **name, **stroke, **_box((left, top, left + width, top + height)))
        else:
            centre = {"cx": _num(left + width / 2), "cy": _num(top + height / 2)}
            _sub(
                parent,
                "ellipse",
                **name,
                **stroke,
                **centre,
                rx=_num(width / 2),
                ry=_num(height / 2),
            )
    elif annotation.kind in AREA_KINDS:
        _sub(parent, "polygon", **name, **stroke, points=_points(v))
    else:
        _sub(parent, "polyline", **name, **stroke, points=_points(v))


def _box(box: Sequence[float]) -> dict[str, str]:
    """``x, y, width, height`` attributes of an ``(x0, y0, x1, y1)`` box."""
    x0, y0, x1, y1 = box
    return {"x": _num(x0), "y": _num(y0), "width": _num(x1 - x0), "height": _num(y1 - y0)}


def _text(parent: ET.Element, box: TextBox, colour: Sequence[int], **attributes: str) -> None:
    """A ``<text>`` with its baseline origin at the box's ``(x, y)``."""
    attributes = {"x": _num(box.x), "y": _num(box.y), "fill": _hex(colour), **attributes}
    element = _sub(parent, "text", **attributes, **{"font-size": _num(box.size)})
    element.text = box.unicode


def annotated_svg(
    image_png: bytes,
    shape: Sequence[int],
    annotations: Sequence[Annotation],
    *,
    calibration: Calibration,
    scale_bar: ScaleBar | None,
    labels: bool,
    line_width: float | None,
) -> str:
    """The SVG document of an annotated export.

    Parameters
    ----------
    image_png : bytes
        The display image (levels applied) encoded as PNG; embedded as a data URI.
    shape : (rows, cols)
        Its size: the SVG's width and height in pixels.
    annotations, calibration, scale_bar, labels, line_width
        See :func:`measurer.io.annotated.render_annotated`.

    Returns
    -------
    str
        UTF-8 SVG 1.1 text with an XML declaration.
    """
    rows, cols = int(shape[0]), int(shape[1])
    sizes = OverlaySizes.for_shape(shape, line_width)
    bar = scale_bar_layout(scale_bar, calibration, shape)
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "version": "1.1",
            "width": str(cols),
            "height": str(rows),
            "viewBox": f"0 0 {cols} {rows}",
        },
    )
    image = _sub(root, "image", x="0", y="0", width=str(cols), height=str(rows))
    image.set("preserveAspectRatio", "none")
    image.set("style", "image-rendering:pixelated")
    image.set(
        f"{{{XLINK_NS}}}href", "data:image/png;base64," + base64.b64encode(image_png).decode()
    )
    shapes = _sub(root, "g", id="annotations", fill="none")
    shapes.set("stroke-width", _num(sizes.line_width))
    shapes.set("stroke-linecap", "round")
    shapes.set("stroke-linejoin", "round")
    ordered = sorted(
        annotations, key=lambda a: (a.kind is Kind.POINTS, _ORDER[a.provenance.origin])
    )
    for annotation in ordered:
        _shape(shapes, annotation, sizes.point_radius)
    if labels:
        group = _sub(root, "g", id="labels")
        group.set("font-family", FONT_FAMILY)
        opacity = {"fill-opacity": _num(LABEL_OPACITY)}
        for label in value_labels(annotations, calibration, shape, sizes.font_size):
            _sub(group, "rect", **_box(label.box), fill=_hex(LABEL_BACKGROUND), **opacity)
            _text(group, label, LABEL_TEXT)
    if bar is not None:
        group = _sub(root, "g", id="scale-bar")
        _sub(group, "rect", **_box(bar.bar), fill=_hex(bar.colour))
        if bar.label is not None:
            # Centred on the ink, so the label stays centred if the viewer substitutes a font.
            ink = bar.label.box
            centred = replace(bar.label, x=(ink[0] + ink[2]) / 2)
            style = {"text-anchor": "middle", "font-family": FONT_FAMILY, "font-weight": "bold"}
            _text(group, centred, bar.colour, **style)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
