"""Session sidecars: exact round trip, refusals (newer, damaged, another image), autosaves."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tifffile

from measurer.core.annotations import Annotation, Origin, Provenance
from measurer.core.calibration import Calibration
from measurer.core.commands import (
    AddAnnotations,
    AnalysisStep,
    ApplyDetection,
    RemoveAnnotations,
    SetCalibration,
    move_vertices,
)
from measurer.core.document import Document
from measurer.io import atomic, session
from measurer.io.images import file_checksum
from measurer.io.session import (
    SCHEMA,
    SessionError,
    autosave_path,
    find_autosave,
    load_session,
    read_session,
    remove_autosave,
    save_session,
    session_json,
    session_path,
    session_text,
    snapshot,
    write_autosave,
)

CALIBRATION = Calibration(0.25, 1.5, "µm", "metadata", "ImageJ TIFF")


def make_image(path, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 4000, (40, 60), dtype=np.uint16)
    tifffile.imwrite(path, pixels)
    return pixels


def open_document(path):
    return Document(tifffile.imread(path), path=path, checksum=file_checksum(path))


@pytest.fixture
def image_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MEASURER_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "cells.tif"
    make_image(path)
    return path


@pytest.fixture
def document(image_path):
    """A document with every kind of annotation, provenance, step, class name and view state."""
    doc = open_document(image_path)
    # Set before any command: the document caches table rows (no command changes class names).
    doc.class_names = {0: "live", 2: "mitotic µ"}
    manual = [
        Annotation(doc.new_id(), "line", [(1.25, 2.5), (30.0, 40.125)], label="Länge"),
        Annotation(doc.new_id(), "polyline", [(0, 0), (5, 5), (5, 20)]),
        Annotation(doc.new_id(), "angle", [(10, 20), (10, 10), (0.3, 0.1)]),
        Annotation(doc.new_id(), "rectangle", [(2.5, 3.5), (20.5, 30.5)]),
        Annotation(doc.new_id(), "polygon", [(1, 1), (1, 9), (7, 4)]),
        Annotation(doc.new_id(), "freehand", [(3, 3), (3, 8), (9, 8), (9, 3), (6, 1)]),
        Annotation(doc.new_id(), "profile", [(5, 5), (35, 50)], width=3.0),
        Annotation(doc.new_id(), "points", [(1, 2), (3, 4), (5, 6)], classes=(0, 2, 2)),
    ]
    doc.apply(AddAnnotations(manual))
    step = AnalysisStep("blobs", {"threshold": np.int64(1200), "sizes": [3, 5], "invert": False})
    ellipses = [
        Annotation(0, "ellipse", [(10, 10), (20, 26)]),
        Annotation(0, "ellipse", [(25, 30), (35, 55)]),
    ]
    doc.apply(ApplyDetection(step, ellipses))
    doc.apply(move_vertices(doc, doc.order()[-1], [(24, 30), (36, 55)]))  # now corrected
    doc.apply(SetCalibration(CALIBRATION))
    doc.view_state = {"zoom": 2.5, "centre": [20.0, 30.0], "layers": {"mask": True}}
    return doc


def assert_same_state(loaded, original):
    assert loaded.order() == original.order()
    for annotation_id, annotation in original.annotations.items():
        assert loaded.annotations[annotation_id] == annotation  # geometry, label, provenance
    assert loaded.calibration == original.calibration
    assert loaded.class_names == original.class_names
    assert loaded.steps == original.steps
    assert loaded.view_state == original.view_state
    assert loaded.measurements == original.measurements


def test_paths(tmp_path, monkeypatch):
    image = tmp_path / "cells.tif"
    assert session_path(image) == tmp_path / "cells.tif.measurer.json"
    assert autosave_path(image) == tmp_path / ".cells.tif.measurer.autosave.json"
    monkeypatch.setenv("MEASURER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(session.os, "access", lambda path, mode: False)  # a read-only folder
    elsewhere = autosave_path(image)
    assert elsewhere.parent == tmp_path / "data" / "autosave"
    assert elsewhere.name.endswith("-cells.tif.measurer.autosave.json")
    assert autosave_path(tmp_path / "other" / "cells.tif") != elsewhere  # same name, other folder


def test_round_trip_restores_exactly(document, image_path):
    assert document.is_modified
    written = save_session(document)
    assert written == session_path(image_path)
    assert not document.is_modified
    raw = json.loads(written.read_text(encoding="utf-8"))
    assert raw["schema"] == SCHEMA == 1
    assert raw["image"] == {"name": "cells.tif", "checksum": file_checksum(image_path), "page": 0}
    assert raw["calibration"]["source"] == "metadata"
    assert "measurements" not in raw and "Length (µm)" not in written.read_text("utf-8")

    loaded = open_document(image_path)
    data = load_session(written, loaded)
    assert_same_state(loaded, document)
    origins = [a.provenance.origin for a in loaded.annotations.values()]
    assert origins[-2:] == [Origin.AUTOMATIC, Origin.CORRECTED]
    assert loaded.annotations[loaded.order()[-1]].provenance == Provenance(
        Origin.CORRECTED, "blobs", {"threshold": 1200, "sizes": [3, 5], "invert": False}
    )
    assert loaded.measurements.rows[6]["Count"] > 0  # profile statistics recomputed from pixels
    assert not loaded.is_modified and not loaded.history.can_undo
    assert loaded.new_id() > max(document.annotations)
    assert (data.page, data.app_version, data.image_name) == (0, "0.1.0", "cells.tif")


def test_read_session_leaves_documents_alone(document, image_path):
    save_session(document)
    data = read_session(session_path(image_path))
    assert data.annotations == list(document.annotations.values())
    assert data.calibration == CALIBRATION
    assert data.saved_at.endswith("Z")


def test_events_on_load(document, image_path):
    save_session(document)
    loaded = open_document(image_path)
    seen = []
    loaded.calibration_changed.connect(lambda c: seen.append(("calibration", c)))
    loaded.annotations_changed.connect(lambda ids: seen.append(("annotations", ids)))
    load_session(session_path(image_path), loaded)
    assert seen == [("calibration", CALIBRATION), ("annotations", set(document.annotations))]


def test_session_json_one_annotation_per_line(document):
    text = session_json(document)
    lines = text.splitlines()
    assert sum(line.startswith('  {"id"') for line in lines) == len(document.annotations)
    assert json.loads(text)["class_names"] == {"0": "live", "2": "mitotic µ"}


def test_unstorable_values(document):
    document.view_state = {"nan": float("nan"), "array": np.arange(3)}
    assert json.loads(session_json(document))["view_state"] == {"nan": None, "array": [0, 1, 2]}
    document.view_state = {"widget": object()}
    with pytest.raises(SessionError, match="cannot store a object in a session"):
        session_json(document)


def state(doc):
    return (list(doc.annotations.items()), doc.calibration, doc.steps, doc.view_state)


def test_newer_schema_refused_and_kept(document, image_path):
    path = session_path(image_path)
    future = json.loads(session_json(document)) | {"schema": 3}
    path.write_text(json.dumps(future), encoding="utf-8")
    before = path.read_bytes()
    message = "made by a newer measurer (schema 3); this version reads schema 1"
    with pytest.raises(SessionError, match=re.escape(message)):
        read_session(path)
    fresh = open_document(image_path)
    with pytest.raises(SessionError, match="newer measurer"):
        load_session(path, fresh)
    assert state(fresh) == ([], Calibration.uncalibrated(), [], {})
    with pytest.raises(SessionError, match=r"not saved.*newer measurer"):
        save_session(document)
    assert path.read_bytes() == before
    assert document.is_modified


@pytest.mark.parametrize(
    "content", [b'{"schema": 1, "annotations": [{"id": 1, "ki', b"", b"\xff\xfe\x00garbage"]
)
def test_damaged_file_refused_and_not_overwritten(document, image_path, content):
    path = session_path(image_path)
    path.write_bytes(content)
    with pytest.raises(SessionError, match=r"cells\.tif\.measurer\.json is damaged"):
        load_session(path, open_document(image_path))
    with pytest.raises(SessionError, match=r"not saved.*damaged"):
        save_session(document)
    assert path.read_bytes() == content
    assert document.is_modified


def test_damaged_file_moved_aside_on_request(document, image_path):
    path = session_path(image_path)
    path.write_bytes(b"{not json")
    save_session(document, overwrite_damaged=True)
    (aside,) = image_path.parent.glob("cells.tif.measurer.damaged-*.json")
    assert aside.read_bytes() == b"{not json"
    assert read_session(path).annotations == list(document.annotations.values())


def test_overwriting_a_good_session_of_the_same_image(document, image_path):
    save_session(document)
    document.view_state = {"zoom": 1.0}
    document.mark_saved()
    save_session(document)
    assert read_session(session_path(image_path)).view_state == {"zoom": 1.0}
    assert not list(image_path.parent.glob("*.damaged-*"))


def test_sidecar_of_another_image_refused(document, image_path, tmp_path):
    save_session(document)
    other = tmp_path / "other.tif"
    make_image(other, seed=1)
    sidecar = session_path(other)
    sidecar.write_bytes(session_path(image_path).read_bytes())  # copied beside another image
    fresh = open_document(other)
    with pytest.raises(SessionError, match=r"belongs to another image \(cells\.tif, sha256:"):
        load_session(sidecar, fresh)
    assert state(fresh) == ([], Calibration.uncalibrated(), [], {})
    # A document that was not given a checksum is checked against its file.
    unchecked = Document(tifffile.imread(other), path=other)
    with pytest.raises(SessionError, match="belongs to another image"):
        load_session(sidecar, unchecked)
    # Saving the other image's session does not overwrite that sidecar silently either.
    fresh.apply(AddAnnotations([Annotation(1, "line", [(0, 0), (1, 1)])]))
    with pytest.raises(SessionError, match=r"not saved.*belongs to another image"):
        save_session(fresh)


def test_same_image_renamed_keeps_its_session(document, image_path, tmp_path):
    save_session(document)
    renamed = tmp_path / "renamed.tif"
    renamed.write_bytes(image_path.read_bytes())
    loaded = open_document(renamed)
    load_session(session_path(image_path), loaded)
    assert loaded.order() == document.order()


def valid_raw(document):
    return json.loads(session_json(document))


MALFORMED = {
    "not an object": (lambda raw: [raw], "no schema"),
    "no schema": (lambda raw: {k: v for k, v in raw.items() if k != "schema"}, "no schema"),
    "schema as text": (lambda raw: raw | {"schema": "1"}, "invalid schema number '1'"),
    "schema zero": (lambda raw: raw | {"schema": 0}, "invalid schema number 0"),
    "no image": (lambda raw: raw | {"image": None}, "malformed image entry"),
    "negative page": (lambda raw: raw | {"image": raw["image"] | {"page": -1}}, "page number -1"),
    "bad checksum": (lambda raw: raw | {"image": raw["image"] | {"checksum": 5}}, "checksum"),
    "no calibration": (lambda raw: raw | {"calibration": None}, "malformed calibration"),
    "negative pixel": (
        lambda raw: raw | {"calibration": raw["calibration"] | {"pixel_width": -1.0}},
        "malformed calibration: pixel_width must be a positive",
    ),
    "unknown unit": (
        lambda raw: raw | {"calibration": raw["calibration"] | {"unit": "parsec"}},
        "unknown length unit 'parsec'",
    ),
    "annotations not a list": (lambda raw: raw | {"annotations": {}}, "annotation list"),
    "annotation not an object": (lambda raw: raw | {"annotations": [3]}, "annotation 1 is not"),
    "annotation id as text": (
        lambda raw: raw | {"annotations": [raw["annotations"][0] | {"id": "1"}]},
        "annotation 1 has no integer id",
    ),
    "unknown kind": (
        lambda raw: raw | {"annotations": [raw["annotations"][0] | {"kind": "blob"}]},
        "malformed annotation 1: 'blob' is not a valid Kind",
    ),
    "no vertices": (
        lambda raw: raw | {"annotations": [{"id": 1, "kind": "line"}]},
        "malformed annotation 1: 'vertices'",
    ),
    "too few vertices": (
        lambda raw: raw | {"annotations": [raw["annotations"][0] | {"vertices": [[1, 2]]}]},
        "a line needs exactly 2 vertices",
    ),
    "vertex not a number": (
        lambda raw: (
            raw | {"annotations": [raw["annotations"][0] | {"vertices": [[1, "x"], [2, 3]]}]}
        ),
        "malformed annotation 1",
    ),
    "bad origin": (
        lambda raw: (
            raw | {"annotations": [raw["annotations"][0] | {"provenance": {"origin": "guessed"}}]}
        ),
        "'guessed' is not a valid Origin",
    ),
    "duplicate ids": (
        lambda raw: raw | {"annotations": [raw["annotations"][0]] * 2},
        r"annotation ids used twice: \[1\]",
    ),
    "class name key": (lambda raw: raw | {"class_names": {"one": "a"}}, "class name 'one'"),
    "class name value": (lambda raw: raw | {"class_names": {"1": 2}}, "class name '1': 2"),
    "steps not a list": (lambda raw: raw | {"steps": "blobs"}, "list of analysis steps"),
    "step without name": (lambda raw: raw | {"steps": [{"parameters": {}}]}, "malformed step 1"),
    "view state a list": (lambda raw: raw | {"view_state": []}, "malformed view state"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_sessions_refused_before_touching_the_document(document, image_path, case):
    mutate, message = MALFORMED[case]
    path = session_path(image_path)
    path.write_text(json.dumps(mutate(valid_raw(document))), encoding="utf-8")
    fresh = open_document(image_path)
    with pytest.raises(SessionError, match=message) as info:
        load_session(path, fresh)
    assert str(info.value).startswith("cells.tif.measurer.json")
    assert state(fresh) == ([], Calibration.uncalibrated(), [], {})


def test_save_without_an_image_path_needs_a_path(tmp_path):
    doc = Document(np.zeros((4, 4)))
    doc.apply(AddAnnotations([Annotation(1, "line", [(0, 0), (1, 1)])]))
    with pytest.raises(SessionError, match="no image file"):
        save_session(doc)
    path = save_session(doc, tmp_path / "loose.json")
    assert read_session(path).annotations == [doc.annotations[1]]
    with pytest.raises(SessionError, match="no image file"):
        write_autosave(doc)


def test_failed_save_keeps_the_old_sidecar(document, image_path, monkeypatch):
    save_session(document)
    path = session_path(image_path)
    before = path.read_bytes()
    document.view_state = {"zoom": 9.0}
    document.apply(SetCalibration(Calibration.uncalibrated()))

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_session(document)
    assert path.read_bytes() == before
    assert document.is_modified
    assert sorted(p.name for p in image_path.parent.iterdir()) == ["cells.tif", path.name]


def test_autosave_beside_the_image(document, image_path):
    path = write_autosave(document)
    assert path == image_path.parent / ".cells.tif.measurer.autosave.json"
    assert find_autosave(image_path) == path
    assert document.is_modified  # an autosave is not a save
    restored = open_document(image_path)
    load_session(path, restored)
    assert_same_state(restored, document)
    save_session(document)
    assert not path.exists() and find_autosave(image_path) is None


def test_autosave_elsewhere_when_the_folder_is_read_only(document, image_path, monkeypatch):
    monkeypatch.setattr(session.os, "access", lambda path, mode: False)
    path = write_autosave(document)
    assert path.parent.parent == image_path.parent / "data"  # MEASURER_DATA_DIR
    assert find_autosave(image_path) == path
    assert read_session(path).annotations == list(document.annotations.values())
    remove_autosave(image_path)
    assert not path.exists()
    remove_autosave(image_path)  # nothing left: no error


def test_snapshot_then_text_on_a_worker(document, image_path):
    """The GUI's split: a cheap snapshot on the GUI thread, serialising and writing on a worker."""
    data = snapshot(document)
    before = list(document.annotations.values())
    document.apply(RemoveAnnotations(document.order()[:3]))  # edits after the snapshot...
    document.view_state["zoom"] = 8.0
    with ThreadPoolExecutor(1) as worker:
        path = worker.submit(write_autosave, document, data).result()
    assert path == autosave_path(image_path)
    written = read_session(path)  # ...are not in it
    assert written.annotations == before
    assert written.view_state["zoom"] == 2.5
    assert session_text(data) == path.read_text(encoding="utf-8")


def test_detection_parameters_are_written_once_with_their_step(tmp_path):
    import json as _json

    from PIL import Image

    from measurer.core.annotations import Annotation, Kind
    from measurer.core.commands import AnalysisStep, ApplyDetection
    from measurer.core.document import Document
    from measurer.io.session import load_session, save_session

    path = tmp_path / "grid.png"
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(path)
    doc = Document(np.zeros((40, 40), np.uint8), path=path)
    scores = {f"cell:{i}": 0.5 + i / 1000 for i in range(300)}
    shapes = [Annotation(0, Kind.POINTS, [(i % 40, i // 40)], role=f"cell:{i}") for i in range(300)]
    doc.apply(ApplyDetection(AnalysisStep("grid", {"scores": scores}), shapes))
    saved = save_session(doc)
    text = saved.read_text(encoding="utf-8")
    assert text.count('"cell:299": ') == 1  # in the step only, not once per shape
    assert len(text) < 150_000  # 2.3 MB when each shape repeats the 300 scores
    again = Document(np.zeros((40, 40), np.uint8), path=path)
    load_session(saved, again)
    (step,) = again.steps
    assert step.parameters == {"scores": scores}
    assert all(a.provenance.parameters is step.parameters for a in again.annotations.values())
    assert [a.to_dict() for a in again.annotations.values()] == [
        a.to_dict() for a in doc.annotations.values()
    ]
    assert _json.loads(text)["annotations"][0]["provenance"]["parameters"] == (
        "same as its analysis step"
    )
