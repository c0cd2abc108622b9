"""The session file's content and its validation: what :func:`parse_session` accepts.

Part of :mod:`measurer.io.session`, which re-exports the public names; see it for the format.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from measurer.core.annotations import Annotation
from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep

SCHEMA = 1

#: Written instead of a detection's parameters when they are its step's (see the steps list).
STEP_PARAMETERS = "same as its analysis step"


class SessionError(ValueError):
    """A session file cannot be read, does not fit the image, or cannot be written."""


@dataclass(frozen=True)
class SessionData:
    """A session file's content, parsed and validated (see :func:`.session.read_session`)."""

    schema: int
    app_version: str
    saved_at: str
    image_name: str
    checksum: str | None
    page: int
    calibration: Calibration
    class_names: dict[int, str]
    annotations: list[Annotation]
    steps: list[AnalysisStep]
    view_state: dict[str, Any]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SessionError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_session(raw: Any) -> SessionData:
    """Validate decoded session JSON; raises :class:`SessionError` on anything malformed."""
    _require(isinstance(raw, dict) and "schema" in raw, "not a measurer session (no schema)")
    schema = raw["schema"]
    _require(_is_int(schema) and schema >= 1, f"invalid schema number {schema!r}")
    if schema > SCHEMA:
        raise SessionError(
            f"made by a newer measurer (schema {schema}); this version reads schema {SCHEMA}"
        )
    image = raw.get("image")
    _require(isinstance(image, dict), "malformed image entry")
    checksum, page = image.get("checksum"), image.get("page", 0)
    _require(checksum is None or isinstance(checksum, str), "malformed image checksum")
    _require(_is_int(page) and page >= 0, f"malformed page number {page!r}")
    view_state = raw.get("view_state", {})
    _require(isinstance(view_state, dict), "malformed view state")
    steps = _parse_steps(raw.get("steps", []))
    try:
        calibration = Calibration.from_dict(raw.get("calibration"))
    except ValueError as exc:
        reason = str(exc).removeprefix("malformed calibration: ")
        raise SessionError(f"malformed calibration: {reason}") from exc
    return SessionData(
        schema=schema,
        app_version=str(raw.get("app_version", "")),
        saved_at=str(raw.get("saved_at", "")),
        image_name=str(image.get("name", "")),
        checksum=checksum,
        page=page,
        calibration=calibration,
        class_names=_parse_class_names(raw.get("class_names", {})),
        annotations=_parse_annotations(raw.get("annotations", []), steps),
        steps=steps,
        view_state=view_state,
    )


def _parse_class_names(raw: Any) -> dict[int, str]:
    _require(isinstance(raw, dict), "malformed class names")
    names = {}
    for key, name in raw.items():
        _require(
            key.isascii() and key.isdecimal() and isinstance(name, str),
            f"malformed class name {key!r}: {name!r}",
        )
        names[int(key)] = name
    return names


def _parse_annotations(raw: Any, steps: list[AnalysisStep]) -> list[Annotation]:
    _require(isinstance(raw, list), "malformed annotation list")
    by_analysis = {s.analysis: s for s in steps}
    annotations = []
    for number, item in enumerate(raw, start=1):
        _require(isinstance(item, dict), f"annotation {number} is not an object")
        _require(_is_int(item.get("id")), f"annotation {number} has no integer id")
        provenance = item.get("provenance")
        shared = isinstance(provenance, dict) and provenance.get("parameters") == STEP_PARAMETERS
        step = by_analysis.get(provenance.get("analysis")) if shared else None
        _require(not shared or step is not None, f"annotation {item['id']} names no saved step")
        if shared:
            item = {**item, "provenance": {**provenance, "parameters": {}}}
        try:
            annotation = Annotation.from_dict(item)
            if step is not None:  # share the step's parameters again, as ApplyDetection did
                provenance = replace(annotation.provenance, parameters=step.parameters)
                annotation = replace(annotation, provenance=provenance)
            annotations.append(annotation)
        except (ValueError, TypeError) as exc:
            reason = str(exc).removeprefix("malformed annotation: ")
            raise SessionError(f"malformed annotation {item['id']}: {reason}") from exc
    repeated = sorted(i for i, n in Counter(a.id for a in annotations).items() if n > 1)
    _require(not repeated, f"annotation ids used twice: {repeated}")
    return annotations


def _parse_steps(raw: Any) -> list[AnalysisStep]:
    _require(isinstance(raw, list), "malformed list of analysis steps")
    steps = []
    for number, item in enumerate(raw, start=1):
        valid = isinstance(item, dict) and isinstance(item.get("analysis"), str)
        _require(valid and isinstance(item.get("parameters", {}), dict), f"malformed step {number}")
        steps.append(AnalysisStep.from_dict(item))
    return steps
