"""Outlines of blobs traced along pixel edges (crack boundaries), as ImageJ's wand traces them.

A blob's outline runs along the edges between its pixels and the background, so its vertices lie
on pixel corners: half-integer ``(row, col)`` coordinates in measurer's convention (pixel centres
at integers). The shoelace area of the outer outline is the blob's pixel count plus the pixels of
its holes, and its area centroid is their pixel centroid, which is what ImageJ measures on a
traced polygon ROI.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from measurer.analysis.masks import MaskError

# Directions along pixel edges as (drow, dcol), in clockwise order on screen (rows down):
# east, south, west, north. Turning right is d + 1, turning left d + 3 (mod 4).
_STEPS = np.array([[0, 1], [1, 0], [0, -1], [-1, 0]])


def mask_outline_polygon(mask: np.ndarray, *, connectivity: int = 8) -> np.ndarray:
    """Outer outline of the one blob in a mask, along pixel edges.

    Parameters
    ----------
    mask : ndarray of shape (M, N)
        Nonzero pixels are the blob; they must form exactly one connected component. Never
        modified. For one blob of a label image pass ``labels == k``.
    connectivity : {8, 4}
        8: pixels touching at a corner belong together (ImageJ's Analyze Particles and wand);
        the outline then passes twice through such a corner. 4: only edge neighbours belong
        together.

    Returns
    -------
    ndarray of float, shape (K, 2)
        ``(row, col)`` vertices on pixel corners (half-integers), one per change of direction,
        not repeating the first. The outline goes clockwise on screen (rows down) and starts
        where ImageJ's wand starts: at the bottom end of the right side of the first run of
        pixels in the blob's top row. ImageJ's traced perimeter depends on that start, so Fiji
        then gives the outline the perimeter Analyze Particles reports. Holes are not traced:
        the polygon encloses them, so its area is the pixel count of the blob with its holes
        filled (holes are 4-connected background for ``connectivity=8``, 8-connected for 4).

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
    structure = np.ones((3, 3), bool) if connectivity == 8 else None
    _, count = ndi.label(foreground, structure=structure)
    if count != 1:
        raise MaskError(
            f"the mask holds {count} blobs ({connectivity}-connected); pass one blob, "
            "e.g. labels == k"
        )
    rows, cols = np.nonzero(foreground)
    r0, c0 = rows.min(), cols.min()
    crop = foreground[r0 : rows.max() + 1, c0 : cols.max() + 1]
    # Holes are the background components that cannot reach the border with the complementary
    # connectivity (4-connected background for 8-connected blobs, and vice versa).
    background = None if connectivity == 8 else np.ones((3, 3), bool)
    filled = np.pad(ndi.binary_fill_holes(crop, structure=background), 1)
    corners = _trace(filled, turn_left_first=connectivity == 8)
    return corners + np.array([r0 - 1.5, c0 - 1.5])


def _trace(filled: np.ndarray, *, turn_left_first: bool) -> np.ndarray:
    """Corners of the one crack boundary of a padded, hole-free blob (corner-lattice indices).

    Pixel ``(r, c)`` spans corners ``r..r+1`` by ``c..c+1``. Every boundary edge is directed
    with the blob on its right. A corner where two blob pixels touch diagonally has two
    outgoing edges: 8-connectivity turns left there (on to the diagonal neighbour), 4-connectivity
    turns right (staying with the same pixel).
    """
    height, width = filled.shape
    starts, directions = [], []
    # (neighbour offset, start corner offset, direction) for the top, right, bottom, left sides.
    sides = (((-1, 0), (0, 0), 0), ((0, 1), (0, 1), 1), ((1, 0), (1, 1), 2), ((0, -1), (1, 0), 3))
    inner = filled[1:-1, 1:-1]
    for (dr, dc), (sr, sc), direction in sides:
        neighbour = filled[1 + dr : height - 1 + dr, 1 + dc : width - 1 + dc]
        r, c = np.nonzero(inner & ~neighbour)
        starts.append(np.stack([r + 1 + sr, c + 1 + sc], axis=1))
        directions.append(np.full(len(r), direction))
    start = np.concatenate(starts)
    direction = np.concatenate(directions)
    end = start + _STEPS[direction]
    stride = width + 1
    start_id = start[:, 0] * stride + start[:, 1]
    end_id = end[:, 0] * stride + end[:, 1]
    outgoing = np.full(((height + 1) * stride, 4), -1, np.int64)
    outgoing[start_id, direction] = np.arange(len(start))
    # Preference at each corner: left, straight, right (8-connectivity) or the reverse.
    order = (3, 0, 1) if turn_left_first else (1, 0, 3)
    following = np.full(len(start), -1, np.int64)
    for turn in order:
        candidate = outgoing[end_id, (direction + turn) % 4]
        following = np.where(following < 0, candidate, following)
    # The first edge is the top side of the first blob pixel in raster order (listed first).
    path, edge = [], 0
    successor = following.tolist()
    while True:
        path.append(edge)
        edge = successor[edge]
        if edge == 0:
            break
    path_array = np.array(path)
    turning = direction[path_array] != np.roll(direction[path_array], 1)
    # Vertex 0 is the top-left corner of the first run of the top row, vertex 1 its top-right
    # corner; ImageJ's wand starts at vertex 2, the bottom end of that run's right side.
    return np.roll(start[path_array[turning]], -2, axis=0).astype(float)
