"""Outlines of blobs traced along pixel edges (crack boundaries), as ImageJ's wand traces them.

A blob's outline runs along the edges between its pixels and the background, so its vertices lie
on pixel corners: half-integer ``(row, col)`` coordinates in measurer's convention (pixel centres
at integers). The shoelace area of the outer outline is the blob's pixel count plus the pixels of
its holes, and its area centroid is their pixel centroid, which is what ImageJ measures on a
traced polygon ROI. With ``holes=True`` the outline also runs round every hole, joined to the
rest by zero-width bridges along pixel edges (a "keyhole" polygon): its area, centroid and
rasterised pixels are then exactly the blob's.

This module holds the one pixel-edge tracer of measurer: OpenCV follows the contours (in C) and
:func:`contour_edges` turns each contour's pixel chain into the pixel sides it passes, for every
contour at once. :mod:`measurer.analysis.blobs` builds ImageJ's perimeters on the same sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from measurer.analysis.masks import MaskError


def _direction_tables() -> tuple[np.ndarray, ...]:
    """Pixel edges passed at a contour pixel, per (incoming, outgoing) step.

    A step is coded ``(dy + 1) * 3 + (dx + 1)``; ``q = 9 * incoming + outgoing`` and ``q = 81``
    is a lone pixel. OpenCV walks every contour with the traced pixels on its left; turning from
    the previous pixel to the next one counter-clockwise (on screen) passes over the sides of the
    pixel that face the other side, named 0 = right, 1 = top, 2 = left, 3 = bottom. Returns the
    number of sides per ``q``, where its list starts in a flat table, the flat table, the number
    of top/bottom sides and the position of the right side in the list (-1 if absent).
    """
    angle = {(1, 0): 0, (1, -1): 1, (0, -1): 2, (-1, -1): 3, (-1, 0): 4, (-1, 1): 5, (0, 1): 6}
    angle[(1, 1)] = 7
    count, start, horizontal, right = (np.zeros(82, np.int32) for _ in range(4))
    flat: list[int] = []
    for q in range(82):
        code_in, code_out = divmod(q, 9)
        step_in = (code_in % 3 - 1, code_in // 3 - 1)
        step_out = (code_out % 3 - 1, code_out // 3 - 1)
        if q == 81:
            d_in, span = 0, 8
        elif step_in in angle and step_out in angle:
            d_in = angle[step_in]
            span = (angle[step_out] - d_in - 1) % 8
        else:
            d_in, span = 0, 0  # impossible step
        sides = [((d_in + k) % 8) // 2 for k in range(1, span + 1) if (d_in + k) % 2 == 0]
        count[q], start[q] = len(sides), len(flat)
        horizontal[q] = sum(side % 2 for side in sides)
        right[q] = sides.index(0) if 0 in sides else -1
        flat.extend(sides)
    return count, start, np.array(flat, np.int8), horizontal, right


_SIDE_COUNT, _SIDE_START, _SIDES, _SIDE_HORIZONTAL, _SIDE_RIGHT = _direction_tables()
# Outline corner at the start of each side, as (dx, dy) from the pixel's top-left corner.
_SIDE_START_DX = np.array([1, 1, 0, 0], np.int32)
_SIDE_START_DY = np.array([1, 0, 0, 1], np.int32)


def cyclic_shift(
    values: np.ndarray, starts: np.ndarray, ends: np.ndarray, back: bool
) -> np.ndarray:
    """``values`` moved one place (along axis 0) within each cyclic segment ``starts[i]:ends[i]``.

    ``back`` gives each element its predecessor (the last element for a segment's first);
    otherwise its successor.
    """
    out = np.empty_like(values)
    if back:
        out[1:] = values[:-1]
        out[starts] = values[ends - 1]
    else:
        out[:-1] = values[1:]
        out[ends - 1] = values[starts]
    return out


@dataclass(frozen=True)
class ContourEdges:
    """The pixel sides that OpenCV contours pass, contour after contour, in their order.

    Per contour pixel: ``count`` (sides passed), ``first_side`` (index of its first side) and
    ``right`` (position of its right side among them, -1 if not passed). Per side: ``side``
    (0 right, 1 top, 2 left, 3 bottom). Per contour: ``total`` sides, ``horizontal`` (top and
    bottom sides) and ``corner_count``. ``corners`` are the indices of the sides that start
    with a change of direction (the outline's vertices).
    """

    count: np.ndarray
    first_side: np.ndarray
    right: np.ndarray
    side: np.ndarray
    total: np.ndarray
    horizontal: np.ndarray
    corners: np.ndarray
    corner_count: np.ndarray

    def corner_points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of the vertices on the pixel-corner lattice (pixel ``(x, y)`` spans
        ``x..x+1``, ``y..y+1``), contour after contour."""
        pixel = np.repeat(np.arange(len(x), dtype=np.int32), self.count)[self.corners]
        side = self.side[self.corners]
        return x[pixel] + _SIDE_START_DX[side], y[pixel] + _SIDE_START_DY[side]


def contour_edges(x: np.ndarray, y: np.ndarray, lengths: np.ndarray) -> ContourEdges:
    """The pixel sides passed by OpenCV contours (``CHAIN_APPROX_NONE``), all at once.

    ``x``, ``y`` are the contours' pixels in OpenCV's order, concatenated; contour ``i`` has
    ``lengths[i]`` of them. The sides of an outer border face the background; those of a hole
    border face the hole. They come in OpenCV's order, with the traced pixels on the left.
    """
    starts = np.cumsum(lengths) - lengths
    ends = starts + lengths
    step_out = (cyclic_shift(y, starts, ends, False) - y + 1) * 3 + (
        cyclic_shift(x, starts, ends, False) - x + 1
    )
    q = 9 * (8 - cyclic_shift(step_out, starts, ends, True)) + step_out  # a step back: 8 - code
    q[starts[lengths == 1]] = 81
    count = _SIDE_COUNT[q]
    total = np.add.reduceat(count, starts)
    first_side = np.cumsum(count) - count
    side = _SIDES[np.repeat(_SIDE_START[q] - first_side, count) + np.arange(int(total.sum()))]
    first = np.cumsum(total) - total
    is_corner = side != cyclic_shift(side, first, first + total, True)
    return ContourEdges(
        count=count,
        first_side=first_side,
        right=_SIDE_RIGHT[q],
        side=side,
        total=total,
        horizontal=np.add.reduceat(_SIDE_HORIZONTAL[q], starts),
        corners=np.flatnonzero(is_corner),
        corner_count=np.add.reduceat(is_corner, first).astype(np.int64),
    )


def loop_order(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, *, clockwise: bool, top_left_at: int
) -> np.ndarray:
    """Gather index that orients closed outlines and rotates them to their top-left corner.

    ``rows``, ``cols`` (integers) hold the corners of consecutive outlines, ``counts[i]`` each,
    in either orientation. The result makes every outline clockwise on screen (rows down) or
    counter-clockwise, with its top-left corner (smallest row, then column, visited once) at
    position ``top_left_at`` (modulo its length). ImageJ's wand order is clockwise with the
    top-left corner second to last (``-2``): the outline starts at the bottom end of the right
    side of the top row's first run and ends along the top of that run.
    """
    counts = np.asarray(counts, np.int64)
    if len(counts) == 0:
        return np.zeros(0, np.int64)
    starts = np.cumsum(counts) - counts
    ends = starts + counts
    r_next = cyclic_shift(rows, starts, ends, False)
    c_next = cyclic_shift(cols, starts, ends, False)
    area2 = np.add.reduceat(
        cols.astype(np.int64) * r_next - c_next.astype(np.int64) * rows, starts
    )  # positive: clockwise on screen
    keep = (area2 > 0) == clockwise
    local = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    width = int(cols.max()) - int(cols.min()) + 1
    key = (rows.astype(np.int64) - int(rows.min())) * width + (cols - int(cols.min()))
    top_left = np.flatnonzero(key == np.repeat(np.minimum.reduceat(key, starts), counts))
    m = top_left - starts
    size = np.repeat(counts, counts)
    flip = ~np.repeat(keep, counts)
    a = np.where(keep, m, -m) % counts  # top-left corner's position in the wanted orientation
    wanted = (np.repeat(a - top_left_at, counts) + local) % size
    return np.repeat(starts, counts) + np.where(flip, -wanted % size, wanted)


def mask_outline_polygon(
    mask: np.ndarray, *, connectivity: int = 8, holes: bool = False
) -> np.ndarray:
    """Outline of the one blob in a mask, along pixel edges.

    Parameters
    ----------
    mask : ndarray of shape (M, N)
        Nonzero pixels are the blob; they must form exactly one connected component. Never
        modified. For one blob of a label image pass ``labels == k``.
    connectivity : {8, 4}
        8: pixels touching at a corner belong together (ImageJ's Analyze Particles and wand);
        the outline then passes twice through such a corner. 4: only edge neighbours belong
        together. A hole is a background component with the other connectivity (4-connected
        for 8-connected blobs, 8-connected for 4-connected blobs) that does not reach the
        border; another blob inside a hole belongs to the hole.
    holes : bool
        False: the outer outline only, which encloses the holes (ImageJ's wand outline; its
        area is the pixel count of the blob with its holes filled). True: a keyhole polygon
        that excludes them: for every hole, a bridge along pixel edges from the outline (or
        from a hole above) up to the hole, the hole's outline the other way round, and back
        along the bridge. Its shoelace area is the blob's pixel count, its area centroid the
        pixels' centroid, and the pixel centres inside it are exactly the blob's.

    Returns
    -------
    ndarray of float, shape (K, 2)
        ``(row, col)`` vertices on pixel corners (half-integers), one per change of direction,
        not repeating the first. The outline goes clockwise on screen (rows down) and starts
        where ImageJ's wand starts: at the bottom end of the right side of the first run of
        pixels in the blob's top row. ImageJ's traced perimeter depends on that start, so Fiji
        then gives the outline the perimeter Analyze Particles reports. With ``holes=True``
        the holes go counter-clockwise; each bridge runs up from the top-left corner of its
        hole's first pixel, between two columns of blob pixels, to the first corner with a
        pixel not in the blob above it (zero length when that pixel touches the hole's corner).

    Raises
    ------
    MaskError
        When the mask is not 2-D, has no foreground, or has more than one blob.
    """
    if connectivity not in (4, 8):
        raise MaskError(f"connectivity must be 4 or 8, got {connectivity!r}")
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(f"a mask must be a 2-D array, got shape {mask.shape}")
    foreground = mask != 0
    if not foreground.any():
        raise MaskError("the mask has no foreground pixel")
    count = cv2.connectedComponents(foreground.view(np.uint8), connectivity=connectivity)[0] - 1
    if count != 1:
        raise MaskError(
            f"the mask holds {count} blobs ({connectivity}-connected); pass one blob, "
            "e.g. labels == k"
        )
    rows, cols = np.nonzero(foreground)
    r0, c0 = rows.min(), cols.min()
    blob = np.pad(foreground[r0 : rows.max() + 1, c0 : cols.max() + 1], 1)
    loops = _traced_loops(blob, connectivity, holes)
    corners = _keyhole(loops, blob) if len(loops) > 1 else loops[0]
    return corners + np.array([r0 - 1.5, c0 - 1.5])


def _traced_loops(blob: np.ndarray, connectivity: int, holes: bool) -> list[np.ndarray]:
    """Outer outline, then (with ``holes``) each hole's, of the one blob of a padded mask.

    Corner-lattice ``(row, col)`` integers (pixel ``(r, c)`` spans ``r..r+1`` by ``c..c+1``):
    the outer outline in ImageJ's wand order, each hole counter-clockwise from its top-left
    corner. OpenCV traces 8-connected pixels with 4-connected holes. For a 4-connected blob it
    traces the complement instead: the hole border of the (8-connected) outside is the blob's
    outer outline, and each 8-connected hole is a component with its own outer border.
    """
    if connectivity == 8:
        image, shift = blob.view(np.uint8), 0
    else:
        image, shift = np.pad(~blob, 1).view(np.uint8), 1
    contours, hierarchy = cv2.findContours(image, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    parent = hierarchy[0][:, 3]
    outer, others = np.flatnonzero(parent < 0), np.flatnonzero(parent >= 0)
    if connectivity == 4:  # others: the outside's hole border; outer: it and the holes
        outer, others = others, outer[outer != parent[others[0]]]
    chosen = [*outer, *others] if holes else list(outer)
    chains = [contours[i][:, 0] for i in chosen]
    lengths = np.array([len(chain) for chain in chains])
    points = np.concatenate(chains)
    x, y = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    edges = contour_edges(x, y, lengths)
    vx, vy = edges.corner_points(x, y)
    lattice = np.stack([vy, vx], axis=1) - shift
    sizes = edges.corner_count
    pieces = np.split(lattice, np.cumsum(sizes)[:-1])
    first = pieces[0][loop_order(*pieces[0].T, sizes[:1], clockwise=True, top_left_at=-2)]
    if len(pieces) == 1:
        return [first]
    rest = np.concatenate(pieces[1:])
    rest = rest[loop_order(*rest.T, sizes[1:], clockwise=False, top_left_at=0)]
    return [first, *np.split(rest, np.cumsum(sizes[1:])[:-1])]


def _keyhole(loops: list[np.ndarray], blob: np.ndarray) -> np.ndarray:
    """One polygon: the outer loop with every hole loop spliced in along its bridge.

    ``loops[0]`` is the outer loop (clockwise), the others are holes (counter-clockwise, from
    their top-left corner ``T``), on the corner lattice of the padded ``blob``. A hole's bridge
    runs up from ``T`` between two columns of blob pixels and stops at the first corner ``S``
    with a pixel outside the blob above it. Both pixels below ``S`` are blob pixels, so exactly
    one loop passes ``S``, along a horizontal side: the outer loop or a hole starting higher
    up, never the bridge of another hole. (``S = T`` when the pixel above-left of ``T`` is not
    in the blob, where an 8-connected blob touches itself at a corner.)
    """
    paired = blob[:, :-1] & blob[:, 1:]  # paired[r, c]: pixels (r, c) and (r, c + 1) in the blob
    sizes = np.array([len(loop) for loop in loops])
    starts = np.cumsum(sizes) - sizes
    points = np.concatenate(loops)
    following = cyclic_shift(points, starts, starts + sizes, False)
    owner = np.repeat(np.arange(len(loops)), sizes)
    local = np.arange(len(points)) - np.repeat(starts, sizes)
    flat = np.flatnonzero(points[:, 0] == following[:, 0])
    flat = flat[np.argsort(points[flat, 0], kind="stable")]
    flat_rows = points[flat, 0]
    children: list[list[tuple]] = [[] for _ in loops]
    splice = [None] * len(loops)
    for hole in range(1, len(loops)):
        top, left = loops[hole][0]
        row = np.flatnonzero(~paired[:top, left - 1])[-1] + 1
        lo, hi = np.searchsorted(flat_rows, [row, row + 1])
        sides = flat[lo:hi]
        a, b = points[sides, 1], following[sides, 1]
        on = (np.minimum(a, b) <= left) & (left <= np.maximum(a, b)) & (owner[sides] != hole)
        side = sides[on][0]
        splice[hole] = np.array([row, left])
        children[owner[side]].append((local[side], abs(left - points[side, 1]), hole))
    for kids in children:
        kids.sort()
    pieces, stack = [], [[0, 0, 0]]  # (loop, next vertex, next child) of the loops being written
    while stack:
        frame = stack[-1]
        loop, start, kid = frame
        if kid < len(children[loop]):
            index, _, hole = children[loop][kid]
            pieces += [loops[loop][start : index + 1], splice[hole][None]]
            frame[1:] = index + 1, kid + 1
            stack.append([hole, 0, 0])
            continue
        stack.pop()
        pieces.append(loops[loop][start:])
        if loop:  # back to the hole's first corner T, then up the bridge to S
            pieces += [loops[loop][:1], splice[loop][None]]
    return _simplified(np.concatenate(pieces))


def _simplified(points: np.ndarray) -> np.ndarray:
    """A closed path without repeated points or vertices inside straight runs (U-turns stay)."""
    points = points[(points != np.roll(points, -1, axis=0)).any(axis=1)]
    incoming = np.sign(points - np.roll(points, 1, axis=0))
    outgoing = np.sign(np.roll(points, -1, axis=0) - points)
    return points[(incoming != outgoing).any(axis=1)].astype(float)
