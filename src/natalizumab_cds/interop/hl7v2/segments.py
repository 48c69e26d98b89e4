"""Reading fields out of a message parsed by python-hl7.

python-hl7 splits a message into nested lists (segment → field → repetition →
component → sub-component) but leaves a level out when the text has no
separator for it, so a field is either ``["abc"]`` or a list of repetitions.
``Segment`` hides that, and numbers fields the way HL7 does (``MSH-9``,
``OBX-3``; python-hl7 keeps MSH-1 and MSH-2 as fields of their own, so the
numbers agree for MSH too).

Escape sequences are decoded here rather than with python-hl7's ``unescape``,
which logs through a deprecated call and fails on some malformed sequences; we
only ever need the separators back (``\\F\\`` ``\\S\\`` ``\\R\\`` ``\\T\\``
``\\E\\``), formatting sequences become a space, anything else is dropped.
"""

from __future__ import annotations

from typing import Any

_SEPARATORS = {"F": "|", "S": "^", "R": "~", "T": "&", "E": "\\"}


def unescape(text: str) -> str:
    """HL7 escape sequences decoded (see the module docstring)."""
    if "\\" not in text:
        return text
    out: list[str] = []
    rest = text
    while rest:
        start = rest.find("\\")
        end = rest.find("\\", start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(rest)
            break
        out.append(rest[:start])
        sequence = rest[start + 1 : end]
        if sequence in _SEPARATORS:
            out.append(_SEPARATORS[sequence])
        elif sequence.startswith("."):
            out.append(" ")
        rest = rest[end + 1 :]
    return "".join(out)


def _first_leaf(node: Any) -> str:
    while not isinstance(node, str):
        if not node:
            return ""
        node = node[0]
    return node


class Segment:
    """One segment of a parsed message, read by HL7 field numbers."""

    __slots__ = ("_node", "name")

    def __init__(self, node: Any) -> None:
        self._node = node
        self.name = _first_leaf(node[0]) if len(node) else ""

    def repetitions(self, field: int) -> int:
        """How many repetitions a field has (0 when it is absent or empty)."""
        if field >= len(self._node):
            return 0
        node = self._node[field]
        if isinstance(node, str):
            return 1 if node else 0
        if len(node) == 1 and _first_leaf(node) == "" and isinstance(node[0], str):
            return 0
        return len(node)

    def value(self, field: int, component: int = 1, repetition: int = 1) -> str:
        """A component's text (its first sub-component), unescaped; "" when absent."""
        raw = self.raw(field, component, repetition)
        return unescape(raw).strip()

    def raw(self, field: int, component: int = 1, repetition: int = 1) -> str:
        """A component's text as sent (escape sequences kept)."""
        if field >= len(self._node):
            return ""
        node = self._node[field]
        if isinstance(node, str):
            return node if component == 1 and repetition == 1 else ""
        if repetition > len(node):
            return ""
        rep = node[repetition - 1]
        if isinstance(rep, str):
            return rep if component == 1 else ""
        if component > len(rep):
            return ""
        return _first_leaf(rep[component - 1])

    def field_text(self, field: int) -> str:
        """A whole field as sent, separators included (for notes and messages)."""
        if field >= len(self._node):
            return ""
        return str(self._node[field])
