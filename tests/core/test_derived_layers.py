"""Layer rows recomputed from editable boundaries: drags, deletions, additions, units, taper."""

import math

import numpy as np
import pytest

from measurer.core.annotations import Annotation, Kind, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.core.commands import (
    AddAnnotations,
    AnalysisStep,
    ApplyDetection,
    RemoveAnnotations,
    move_vertices,
)
from measurer.core.derived_layers import (
    analysed_line,
    boundary_role,
    layer_annotations,
    parse_boundary_role,
    parse_line_role,
    profile_layers,
)
from measurer.core.document import Document

#: A horizontal profile along row 50 from column 10 to 110, with boundaries at these columns:
#: light | 30 dark 40 | light 55 | dark 70 | light (ends cut by the line's ends).
#: The boundaries are given as distances from the line's start.
LINE = ((50.0, 10.0), (50.0, 110.0))
DISTANCES = [20.0, 30.0, 45.0, 60.0]  # distances from the line's start
RISING = [False, True, False, True]


def run(doc, lines, distances, rising, **extra):
    """Apply a layer detection with boundaries at given distances along each line."""
    points = []
    for (start, end), along in zip(lines, distances, strict=True):
        p0, p1 = np.asarray(start), np.asarray(end)
        unit = (p1 - p0) / np.hypot(*(p1 - p0))
        points.append([p0 + d * unit for d in along])
    parameters = {
        "lines": [[*s, *e] for s, e in lines],
        "blur": [None] * len(lines),
        "period": [None] * len(lines),
        "smoothing": 1.0,
        "resolved_factor": 4.0,
        **extra,
    }
    shapes = layer_annotations(lines, points, rising, band_width=5)
    doc.apply(ApplyDetection(AnalysisStep("layers", parameters), shapes))
    return {a.role: a.id for a in doc.annotations.values()}


def layer_rows(doc, profile=1):
    return [r for r in doc.measurements.rows if r["Kind"] == "layer" and r["Profile"] == profile]


def count_row(doc, profile=1):
    (row,) = [r for r in doc.measurements.rows if r.get("ID") == f"P{profile}"]
    return row


@pytest.fixture
def doc():
    return Document(np.zeros((120, 160), np.uint8))


def test_layers_between_boundaries_with_kinds_and_counts(doc):
    run(doc, [LINE], [DISTANCES], [RISING])
    rows = layer_rows(doc)
    assert [r["Label"] for r in rows] == ["light", "dark", "light", "dark", "light"]
    assert [r["Width (px)"] for r in rows] == pytest.approx([20, 10, 15, 15, 40])
    assert [r["Complete"] for r in rows] == [False, True, True, True, False]
    assert [r["Layer"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[1]["Start (px)"] == pytest.approx(20) and rows[1]["End (px)"] == pytest.approx(30)
    counts = count_row(doc)
    assert (counts["Dark layers"], counts["Light layers"]) == (2, 1)
    assert counts["Pair width (px)"] == pytest.approx(12.5 + 15)
    assert all(r["Origin"] == "automatic" for r in rows)


def test_dragging_a_boundary_moves_both_neighbouring_widths_and_undo_restores(doc):
    ids = run(doc, [LINE], [DISTANCES], [RISING])
    moved = ids[boundary_role(0, 1, True)]  # the one at column 40
    doc.apply(move_vertices(doc, moved, [(50.0, 43.5)]))
    widths = [r["Width (px)"] for r in layer_rows(doc)]
    assert widths == pytest.approx([20, 13.5, 11.5, 15, 40])
    assert layer_rows(doc)[1]["Origin"] == Origin.CORRECTED.value
    assert layer_rows(doc)[0]["Origin"] == "automatic"
    doc.undo()
    assert [r["Width (px)"] for r in layer_rows(doc)] == pytest.approx([20, 10, 15, 15, 40])


def test_a_boundary_off_the_line_counts_where_it_projects(doc):
    ids = run(doc, [LINE], [DISTANCES], [RISING])
    doc.apply(move_vertices(doc, ids[boundary_role(0, 0, False)], [(58.0, 33.0)]))
    assert layer_rows(doc)[1]["Width (px)"] == pytest.approx(7.0)


def test_deleting_a_boundary_merges_two_layers_into_a_mixed_one(doc):
    ids = run(doc, [LINE], [DISTANCES], [RISING])
    doc.apply(RemoveAnnotations([ids[boundary_role(0, 2, False)]]))  # the one at column 55
    rows = layer_rows(doc)
    assert [r["Width (px)"] for r in rows] == pytest.approx([20, 10, 30, 40])
    assert rows[2]["Label"] == "mixed"
    counts = count_row(doc)
    assert (counts["Dark layers"], counts["Light layers"], counts["Mixed layers"]) == (1, 0, 1)
    doc.undo()
    assert len(layer_rows(doc)) == 5 and "Mixed layers" not in count_row(doc)


def test_deleting_a_pair_of_boundaries_merges_three_layers_of_one_kind(doc):
    ids = run(doc, [LINE], [DISTANCES], [RISING])
    pair = [ids[boundary_role(0, 1, True)], ids[boundary_role(0, 2, False)]]
    doc.apply(RemoveAnnotations(pair))
    rows = layer_rows(doc)
    assert [(r["Label"], r["Width (px)"]) for r in rows] == [
        ("light", pytest.approx(20)),
        ("dark", pytest.approx(40)),
        ("light", pytest.approx(40)),
    ]


def test_adding_a_boundary_splits_a_layer(doc):
    ids = run(doc, [LINE], [DISTANCES], [RISING])
    step = doc.steps[-1]
    added = Annotation(
        doc.new_id(),
        Kind.POINTS,
        [(50.0, 50.0)],
        role=boundary_role(0, 9, True),
        provenance=Provenance(Origin.CORRECTED, "layers", step.parameters),
    )
    doc.apply(AddAnnotations([added]))
    rows = layer_rows(doc)
    assert [r["Width (px)"] for r in rows] == pytest.approx([20, 10, 10, 5, 15, 40])
    # a rising boundary inside a light layer: light before it would need a falling one
    assert [r["Label"] for r in rows][2:4] == ["mixed", "light"]
    assert rows[2]["Origin"] == Origin.CORRECTED.value
    assert analysed_line(added) is not None and ids
    doc.undo()
    assert len(layer_rows(doc)) == 5


def test_widths_in_units_with_anisotropic_pixels_follow_the_line_direction():
    doc = Document(np.zeros((200, 200), np.uint8), calibration=Calibration(0.5, 2.0, "µm"))
    line = ((20.0, 20.0), (20.0 + 0.6 * 150, 20.0 + 0.8 * 150))  # direction (3, 4) / 5
    run(doc, [line], [[30.0, 42.0, 60.0]], [[False, True, False]])
    per_px = math.hypot(0.6 * 2.0, 0.8 * 0.5)
    rows = layer_rows(doc)
    assert [r["Width (px)"] for r in rows] == pytest.approx([30, 12, 18, 90])
    assert [r["Width (µm)"] for r in rows] == pytest.approx([w * per_px for w in (30, 12, 18, 90)])
    assert rows[1]["Start (µm)"] == pytest.approx(30 * per_px)
    assert count_row(doc)["Dark layers"] == 1


def test_layers_narrower_than_four_blurs_are_not_resolved(doc):
    run(doc, [LINE], [[20.0, 30.0, 45.0, 48.0]], [RISING], blur=[3.0], smoothing=0.0)
    resolved = [r["Resolved"] for r in layer_rows(doc)]
    assert resolved == [True, False, True, False, True]  # widths 20, 10, 15, 3, 52 vs 12 px


def test_parallel_profiles_number_the_same_layer_alike_and_give_its_taper(doc):
    lines = [((r, 10.0), (r, 110.0)) for r in (30.0, 40.0, 50.0)]
    # each profile starts 3 px further right (tilted layers) and the dark layer widens
    columns = [[20 + 3 * q, 30 + 3 * q + q, 45 + 3 * q + q] for q in range(3)]
    rising = [[False, True, False]] * 3
    run(doc, lines, columns, rising)
    dark = [r for r in doc.measurements.rows if r["Kind"] == "layer" and r["Layer"] == 2]
    assert [r["Profile"] for r in dark] == [1, 2, 3]
    assert [r["Label"] for r in dark] == ["dark"] * 3
    assert [r["Width (px)"] for r in dark] == pytest.approx([10, 11, 12])
    assert [r["Position (px)"] for r in dark] == pytest.approx([0, 10, 20])
    assert {r["ID"] for r in dark} == {"P1:L2", "P2:L2", "P3:L2"}


def test_layer_numbers_follow_a_layer_that_profiles_cut_at_different_places(doc):
    lines = [((30.0, 10.0), (30.0, 110.0)), ((40.0, 30.0), (40.0, 110.0))]
    # the second line starts at column 30: it misses the first two layers of the first one
    run(doc, lines, [[20.0, 30.0, 45.0], [12.0, 27.0]], [[False, True, False], [True, False]])
    second = [r for r in doc.measurements.rows if r["Kind"] == "layer" and r["Profile"] == 2]
    assert [r["Layer"] for r in second] == [2, 3, 4]
    assert [r["Label"] for r in second] == ["dark", "light", "dark"]


def test_a_deleted_line_takes_its_profile_out(doc):
    ids = run(doc, [LINE], [DISTANCES], [RISING])
    doc.apply(RemoveAnnotations([ids["layers:line:0"]]))
    assert not [r for r in doc.measurements.rows if r["Kind"] in ("layer", "layer count")]


def test_roles_round_trip_and_others_are_ignored():
    assert parse_boundary_role(boundary_role(2, 7, False)) == (2, 7, False)
    assert parse_boundary_role("layers:boundary:2:7") is None
    assert parse_line_role("layers:line:3") == 3 and parse_line_role("layers:line:x") is None
    other = Annotation(1, Kind.POINTS, [(1.0, 1.0)], role="blob:3")
    assert profile_layers([other], Calibration(), {}) == []


def test_rows_survive_a_session_round_trip(doc):
    import json

    from measurer.io.session import parse_session, session_json

    ids = run(doc, [LINE], [DISTANCES], [RISING], blur=[float("nan")])
    doc.apply(move_vertices(doc, ids[boundary_role(0, 1, True)], [(50.0, 43.5)]))
    data = parse_session(json.loads(session_json(doc)))
    restored = Document(doc.image)
    restored.load_state(
        calibration=data.calibration,
        annotations=data.annotations,
        class_names=data.class_names,
        steps=data.steps,
        view_state=data.view_state,
    )
    assert layer_rows(restored) == layer_rows(doc)
    tick = restored.annotations[ids[boundary_role(0, 2, False)]]
    assert analysed_line(tick) == pytest.approx(np.array(LINE))
