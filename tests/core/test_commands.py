"""Commands through the document: do, undo, redo, the events they emit, the saved state."""

import numpy as np
import pytest

from measurer.core.annotations import Annotation, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.core.commands import (
    AddAnnotations,
    AnalysisStep,
    ApplyDetection,
    Macro,
    RemoveAnnotations,
    ReplaceAnnotation,
    SetCalibration,
    add_points,
    has_corrections,
    move_vertices,
    relabel,
    remove_point,
    set_point_classes,
)
from measurer.core.document import Document
from measurer.core.history import History
from measurer.core.measurements import compute_measurements

AUTO = Provenance(Origin.AUTOMATIC, "blobs", {"threshold": 128, "min_area": 4})


class Recorder:
    """Collects the document's events as (name, argument) tuples."""

    def __init__(self, doc):
        self.events = []
        doc.annotations_changed.connect(lambda ids: self.events.append(("annotations", ids)))
        doc.measurements_changed.connect(lambda t: self.events.append(("measurements", len(t))))
        doc.calibration_changed.connect(lambda c: self.events.append(("calibration", c)))
        doc.history_changed.connect(lambda: self.events.append(("history", None)))

    def take(self):
        events, self.events = self.events, []
        return events


def line(doc, label="", provenance=None):
    a = Annotation(doc.new_id(), "line", [(0, 0), (0, 10)], label=label)
    return a if provenance is None else Annotation(a.id, a.kind, a.vertices, provenance=provenance)


@pytest.fixture
def doc():
    return Document(path="cells.tif")


def filled(doc, count=3):
    annotations = [line(doc, label=f"L{i}") for i in range(count)]
    doc.apply(AddAnnotations(annotations))
    return [a.id for a in annotations]


def test_add_undo_redo_with_events(doc):
    events = Recorder(doc)
    a = line(doc)
    doc.apply(AddAnnotations([a]))
    assert doc.annotations == {a.id: a}
    assert events.take() == [("annotations", {a.id}), ("measurements", 1), ("history", None)]
    assert doc.history.undo_text() == "add line"
    doc.undo()
    assert doc.annotations == {}
    assert events.take() == [("annotations", {a.id}), ("measurements", 0), ("history", None)]
    doc.redo()
    assert doc.annotations[a.id] == a
    assert doc.measurements.annotation_ids == (a.id,)


def test_add_existing_id_refused(doc):
    (first,) = filled(doc, 1)
    with pytest.raises(ValueError, match="already exists"):
        doc.apply(AddAnnotations([Annotation(first, "line", [(0, 0), (1, 1)])]))


def test_remove_restores_positions(doc):
    ids = filled(doc, 4)
    events = Recorder(doc)
    doc.apply(RemoveAnnotations([ids[2], ids[0]]))
    assert doc.order() == [ids[1], ids[3]]
    assert events.take()[0] == ("annotations", {ids[0], ids[2]})
    doc.undo()
    assert doc.order() == ids
    assert [r["Label"] for r in doc.measurements.rows] == ["L0", "L1", "L2", "L3"]
    doc.redo()
    assert doc.order() == [ids[1], ids[3]]


def test_remove_the_same_id_twice_in_one_selection(doc):
    ids = filled(doc, 3)
    doc.apply(RemoveAnnotations([ids[1], ids[1]]))
    assert doc.order() == [ids[0], ids[2]]
    doc.undo()
    assert doc.order() == ids


def test_remove_unknown_id_changes_nothing(doc):
    ids = filled(doc, 2)
    with pytest.raises(ValueError):
        doc.apply(RemoveAnnotations([999]))
    assert doc.order() == ids
    assert doc.history.index == 1


def test_move_makes_automatic_corrected_and_undo_restores(doc):
    a = line(doc, provenance=AUTO)
    doc.apply(AddAnnotations([a]))
    events = Recorder(doc)
    doc.apply(move_vertices(doc, a.id, [(2, 2), (2, 8)]))
    moved = doc.annotations[a.id]
    assert moved.provenance == Provenance(Origin.CORRECTED, "blobs", AUTO.parameters)
    assert moved.vertices.tolist() == [[2, 2], [2, 8]]
    assert doc.measurements.rows[0]["Length (px)"] == 6.0
    assert doc.measurements.rows[0]["Origin"] == "automatic-then-corrected"
    assert events.take()[0] == ("annotations", {a.id})
    assert has_corrections(doc.annotations.values())
    doc.undo()
    assert doc.annotations[a.id] == a
    assert doc.measurements.rows[0]["Length (px)"] == 10.0
    doc.redo()
    assert doc.annotations[a.id] == moved


def test_move_keeps_manual_manual(doc):
    (first,) = filled(doc, 1)
    doc.apply(move_vertices(doc, first, [(1, 1), (5, 5)]))
    assert doc.annotations[first].provenance.origin is Origin.MANUAL


def test_move_points_keeps_their_number(doc):
    points = Annotation(doc.new_id(), "points", [(1, 1), (2, 2)])
    doc.apply(AddAnnotations([points]))
    with pytest.raises(ValueError, match="keeps their number"):
        move_vertices(doc, points.id, [(1, 1)])


def test_replace_must_keep_the_id():
    a = Annotation(1, "line", [(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="keeps the annotation's id"):
        ReplaceAnnotation(a, Annotation(2, "line", [(0, 0), (1, 1)]))


def test_relabel(doc):
    (first,) = filled(doc, 1)
    doc.apply(relabel(doc, first, "vessel"))
    assert doc.measurements.rows[0]["Label"] == "vessel"
    doc.undo()
    assert doc.measurements.rows[0]["Label"] == "L0"


def points_doc(doc, provenance=None):
    points = Annotation(
        doc.new_id(),
        "points",
        [(1, 1), (2, 2), (3, 3)],
        classes=(0, 1, 0),
        provenance=provenance or Provenance(),
    )
    doc.apply(AddAnnotations([points]))
    return points


def test_set_point_classes(doc):
    points = points_doc(doc)
    doc.class_names = {0: "live", 1: "dead"}
    doc.apply(set_point_classes(doc, points.id, [1, 1, 1]))
    assert [r["Class"] for r in doc.measurements.rows] == ["dead", "dead", "dead"]
    doc.undo()
    assert doc.annotations[points.id].classes == (0, 1, 0)
    assert [r["Class"] for r in doc.measurements.rows] == ["live", "dead", "live"]


def test_set_point_classes_only_for_points(doc):
    (first,) = filled(doc, 1)
    with pytest.raises(ValueError, match="only point sets"):
        set_point_classes(doc, first, [0])


def test_add_points_to_an_automatic_set(doc):
    points = points_doc(doc, AUTO)
    doc.apply(add_points(doc, points.id, [(7, 8), (9, 10)], [2, 2]))
    new = doc.annotations[points.id]
    assert new.vertices.tolist()[-2:] == [[7, 8], [9, 10]]
    assert new.classes == (0, 1, 0, 2, 2)
    assert new.provenance.origin is Origin.CORRECTED
    assert [r["ID"] for r in doc.measurements.rows] == [f"{points.id}.{i}" for i in range(1, 6)]
    doc.undo()
    assert doc.annotations[points.id] == points


def test_remove_point(doc):
    points = points_doc(doc, AUTO)
    doc.apply(remove_point(doc, points.id, 1))
    new = doc.annotations[points.id]
    assert new.vertices.tolist() == [[1, 1], [3, 3]]
    assert new.classes == (0, 0)
    assert new.provenance.origin is Origin.CORRECTED
    doc.undo()
    assert doc.annotations[points.id] == points


def test_remove_last_point_removes_the_set(doc):
    (before,) = filled(doc, 1)
    single = Annotation(doc.new_id(), "points", [(5, 5)])
    doc.apply(AddAnnotations([single]))
    command = remove_point(doc, single.id, 0)
    assert isinstance(command, RemoveAnnotations)
    doc.apply(command)
    assert doc.order() == [before]
    doc.undo()
    assert doc.order() == [before, single.id]


def test_set_calibration(doc):
    filled(doc, 1)
    events = Recorder(doc)
    cal = Calibration(0.25, 0.25, "µm", "manual")
    doc.apply(SetCalibration(cal))
    assert doc.calibration == cal
    assert events.take() == [("calibration", cal), ("measurements", 1), ("history", None)]
    assert doc.measurements.rows[0]["Length (µm)"] == 2.5
    doc.undo()
    assert doc.calibration == Calibration.uncalibrated()
    assert events.take()[0] == ("calibration", Calibration.uncalibrated())
    assert "Length (µm)" not in doc.measurements.headers
    doc.redo()
    assert doc.measurements.rows[0]["Length (µm)"] == 2.5


def detection_shapes():
    return [
        Annotation(0, "ellipse", [(0, 0), (4, 4)]),
        Annotation(0, "ellipse", [(10, 10), (14, 16)]),
    ]


def test_apply_detection_replaces_the_previous_run(doc):
    manual = line(doc, "by hand")
    other = line(doc, provenance=Provenance(Origin.AUTOMATIC, "edges", {}))
    doc.apply(AddAnnotations([manual, other]))
    first = AnalysisStep("blobs", {"threshold": 100})
    doc.apply(ApplyDetection(first, detection_shapes()))
    old_ids = doc.order()[2:]
    assert len(old_ids) == 2
    assert all(
        doc.annotations[i].provenance == Provenance(Origin.AUTOMATIC, "blobs", {"threshold": 100})
        for i in old_ids
    )
    # Correct one of them by hand, then run again with other parameters.
    doc.apply(move_vertices(doc, old_ids[0], [(1, 1), (5, 5)]))
    before = dict(doc.annotations)
    events = Recorder(doc)
    second = AnalysisStep("blobs", {"threshold": 120})
    command = ApplyDetection(second, detection_shapes()[:1])
    doc.apply(command)
    (new_id,) = doc.order()[2:]
    assert new_id not in old_ids
    assert doc.order()[:2] == [manual.id, other.id]  # manual and other analyses untouched
    assert doc.annotations[new_id].provenance.parameters == {"threshold": 120}
    assert doc.steps == [second]
    assert events.take()[0] == ("annotations", {new_id, *old_ids})
    doc.undo()
    assert doc.annotations == before
    assert doc.order() == list(before)
    assert doc.steps == [first]
    doc.redo()
    assert doc.order() == [manual.id, other.id, new_id]  # the same id again
    assert doc.steps == [second]


def test_apply_detection_redo_keeps_ids(doc):
    doc.apply(ApplyDetection(AnalysisStep("blobs", {}), detection_shapes()))
    ids = doc.order()
    doc.undo()
    assert doc.order() == []
    doc.redo()
    assert doc.order() == ids
    assert doc.new_id() > max(ids)


def test_macro_is_one_undo_step(doc):
    ids = filled(doc, 3)
    macro = Macro([relabel(doc, ids[0], "kept"), RemoveAnnotations([ids[1], ids[2]])], "clean up")
    events = Recorder(doc)
    doc.apply(macro)
    assert doc.order() == [ids[0]]
    assert doc.annotations[ids[0]].label == "kept"
    assert events.take()[0] == ("annotations", set(ids))
    assert doc.history.undo_text() == "clean up"
    doc.undo()
    assert doc.order() == ids
    assert doc.annotations[ids[0]].label == "L0"
    assert (doc.history.undo_text(), doc.history.redo_text()) == ("add 3 annotations", "clean up")


def test_is_modified_follows_save_undo_redo(doc):
    assert not doc.is_modified
    ids = filled(doc, 1)
    assert doc.is_modified
    doc.mark_saved()
    assert not doc.is_modified
    doc.apply(relabel(doc, ids[0], "x"))
    assert doc.is_modified
    doc.undo()
    assert not doc.is_modified
    doc.undo()
    assert doc.is_modified
    doc.redo()
    assert not doc.is_modified
    # A new command after undoing past the saved state makes it unreachable.
    doc.undo()
    doc.apply(AddAnnotations([line(doc)]))
    doc.undo()
    assert doc.is_modified


def test_undo_redo_with_nothing_to_do(doc):
    events = Recorder(doc)
    doc.undo()
    doc.redo()
    assert events.take() == []
    assert doc.history.undo_text() is None and doc.history.redo_text() is None


def test_revision_counts_every_change(doc):
    start = doc.revision
    ids = filled(doc, 1)
    doc.apply(relabel(doc, ids[0], "a"))
    doc.undo()
    doc.redo()
    assert doc.revision == start + 4


def test_cached_table_equals_a_fresh_computation(doc):
    ids = filled(doc, 3)
    points = points_doc(doc)
    doc.apply(move_vertices(doc, ids[1], [(0, 0), (3, 4)]))
    doc.apply(SetCalibration(Calibration(2.0, 3.0, "mm")))
    doc.apply(RemoveAnnotations([ids[0]]))
    doc.apply(add_points(doc, points.id, [(6, 6)], [0]))
    doc.undo()
    fresh = compute_measurements(doc.annotations.values(), doc.calibration, image_name="cells.tif")
    assert doc.measurements == fresh


def test_history_limit_forgets_the_oldest_and_an_unreachable_saved_state():
    history = History(limit=2)
    for text in ("a", "b", "c"):
        command = Macro([], text)
        history.push(command)
    assert history.texts() == ["b", "c"]
    assert not history.is_clean  # the saved (empty) state is gone
    history.take_undo()
    history.take_undo()
    assert not history.can_undo
    with pytest.raises(IndexError):
        history.take_undo()


def test_load_state_with_duplicate_ids_leaves_the_document_alone(doc):
    ids = filled(doc, 2)
    duplicate = [Annotation(5, "line", [(0, 0), (1, 1)])] * 2
    with pytest.raises(ValueError, match="unique"):
        doc.load_state(
            calibration=Calibration(1.0, 1.0, "mm"),
            annotations=duplicate,
            class_names={},
            steps=[],
            view_state={},
        )
    assert doc.order() == ids
    assert doc.calibration == Calibration.uncalibrated()


def test_annotation_vertices_are_read_only(doc):
    (first,) = filled(doc, 1)
    with pytest.raises(ValueError):
        doc.annotations[first].vertices[0, 0] = 5.0
    assert np.array_equal(doc.annotations[first].vertices, [[0, 0], [0, 10]])
