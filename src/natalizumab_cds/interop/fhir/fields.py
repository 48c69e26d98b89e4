"""Typed access to the parts of a FHIR resource the reader uses.

FHIR JSON arrives from other systems, so every field may have the wrong shape.
Each accessor checks the one field it reads and, when the shape is wrong, raises
``InvalidInput`` naming the resource ("Observation/alt-1") and the field path
("valueQuantity.value"). Paths are only formatted when an error is raised, so the
happy path costs a dict lookup and an ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from natalizumab_cds.domain.errors import InvalidInput
from natalizumab_cds.domain.timeline import Coding

JsonObject = Mapping[str, Any]

#: What Python raises when code meets a structure of an unexpected shape; the
#: reader turns any that slip past the accessors into ``InvalidInput``.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


def show(value: object) -> str:
    """A short description of a bad value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def path_of(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def invalid(ref: str, path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{ref}: {path} {problem}")


def get_object(ref: str, node: JsonObject, key: str, parent: str = "") -> JsonObject | None:
    value = node.get(key)
    # ``type(...) is dict`` first: parsed JSON is dicts, and the ABC check is slow.
    if value is None or type(value) is dict or isinstance(value, Mapping):
        return value
    raise invalid(ref, path_of(parent, key), f"must be an object, got {show(value)}")


def get_list(ref: str, node: JsonObject, key: str, parent: str = "") -> list[Any] | tuple[Any, ...]:
    """A repeating element; absent means empty."""
    value = node.get(key)
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    raise invalid(ref, path_of(parent, key), f"must be a list, got {show(value)}")


def get_str(ref: str, node: JsonObject, key: str, parent: str = "") -> str | None:
    value = node.get(key)
    if value is None or isinstance(value, str):
        return value
    raise invalid(ref, path_of(parent, key), f"must be a string, got {show(value)}")


def require_str(ref: str, node: JsonObject, key: str, parent: str = "") -> str:
    value = get_str(ref, node, key, parent)
    if not value:
        raise invalid(ref, path_of(parent, key), "is missing")
    return value


def get_number(ref: str, node: JsonObject, key: str, parent: str = "") -> float | None:
    """A JSON number as a finite float (booleans are not numbers)."""
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = float("inf")
        if number - number == 0.0:  # finite: inf - inf and nan - nan are nan
            return number
    raise invalid(ref, path_of(parent, key), f"must be a number, got {show(value)}")


def item_object(ref: str, items: list[Any] | tuple[Any, ...], index: int, path: str) -> JsonObject:
    """One element of a repeating element that must hold objects."""
    value = items[index]
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise invalid(ref, f"{path}[{index}]", f"must be an object, got {show(value)}")


def codings(ref: str, concept: JsonObject | None, path: str) -> tuple[Coding, ...]:
    """The codings of a CodeableConcept; codings without system or code cannot match."""
    if concept is None:
        return ()
    found = []
    items = get_list(ref, concept, "coding", path)
    for index in range(len(items)):
        coding = item_object(ref, items, index, f"{path}.coding")
        where = f"{path}.coding[{index}]"
        system = get_str(ref, coding, "system", where)
        code = get_str(ref, coding, "code", where)
        if system and code:
            found.append(Coding(system, code, get_str(ref, coding, "display", where) or ""))
    return tuple(found)


def concept_text(ref: str, concept: JsonObject | None, path: str) -> str:
    """What a person would read: the concept's text, else its first display."""
    if concept is None:
        return ""
    text = get_str(ref, concept, "text", path)
    if text:
        return text
    items = get_list(ref, concept, "coding", path)
    for index in range(len(items)):
        coding = item_object(ref, items, index, f"{path}.coding")
        display = get_str(ref, coding, "display", f"{path}.coding[{index}]")
        if display:
            return display
    return ""


def status_code(ref: str, node: JsonObject, key: str) -> str | None:
    """The code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    concept = get_object(ref, node, key)
    if concept is None:
        return None
    items = get_list(ref, concept, "coding", key)
    if not items:
        return None
    return get_str(ref, item_object(ref, items, 0, f"{key}.coding"), "code", f"{key}.coding[0]")
