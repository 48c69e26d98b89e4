"""Splitting an ER7 message into segments and reading fields by HL7 number.

A message is split on CR into segments and each segment on ``|`` into fields;
repetitions (``~``), components (``^``) and sub-components (``&``) are split
only when a field is read. The profile fixes the encoding characters to
``|^~\\&`` (``message.py`` refuses any other), so splitting is plain
``str.split`` and the escape sequences (``\\F\\`` …) never contain a separator.

Why not python-hl7 here: it builds a container for every field, repetition
and component of the whole message (about 170 for a six-result ORU) and took
about two thirds of the time of reading a message; we read some 40 values of
it. python-hl7 stays in the test suite as the independent reference: a property
test checks that every value read here equals what python-hl7 reads
(docs/decisions/hl7-splitting.md).

Fields are numbered the way HL7 does (``MSH-9``, ``OBX-3``); for MSH the
field separator itself is MSH-1, so MSH-2 is the encoding characters and the
numbers agree with the standard.

Escape sequences are decoded here: the separators come back (``\\F\\``
``\\S\\`` ``\\R\\`` ``\\T\\`` ``\\E\\``), formatting sequences become a space,
anything else is dropped.
"""

from __future__ import annotations

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


def split_segments(text: str) -> list[Segment]:
    """The segments of a normalised message (segments separated by single CRs)."""
    return [Segment(line) for line in text.split("\r")]


class Segment:
    """One segment of a message, read by HL7 field numbers."""

    __slots__ = ("_fields", "name")

    def __init__(self, text: str) -> None:
        fields = text.split("|")
        self.name = fields[0]
        if self.name == "MSH":
            fields.insert(1, "|")  # MSH-1 is the field separator itself
        self._fields = fields

    def _field(self, field: int) -> str:
        return self._fields[field] if 0 < field < len(self._fields) else ""

    def repetitions(self, field: int) -> int:
        """How many repetitions a field has (0 when it is absent or empty)."""
        text = self._field(field)
        return text.count("~") + 1 if text else 0

    def value(self, field: int, component: int = 1, repetition: int = 1) -> str:
        """A component's text (its first sub-component), unescaped; "" when absent."""
        if component == 1 and repetition == 1 and 0 < field < len(self._fields):
            text = self._fields[field]  # most fields are one plain value: no splitting
            if "^" not in text and "~" not in text and "&" not in text and "\\" not in text:
                return text.strip()
        return unescape(self.raw(field, component, repetition)).strip()

    def values(self, field: int) -> list[str]:
        """Every component's ``value`` of the field's first repetition, in one pass.

        ``values(f)[c - 1] == value(f, c)`` for each component there is; for reading
        several components of a field at once.
        """
        text = self._field(field)
        if self.name == "MSH" and field <= 2:  # the separators themselves, never split
            return [unescape(text).strip()]
        if "~" in text:
            text = text.split("~", 1)[0]
        if "^" not in text and "&" not in text and "\\" not in text:
            return [text.strip()]
        return [
            unescape(part.split("&", 1)[0] if "&" in part else part).strip()
            for part in text.split("^")
        ]

    def raw(self, field: int, component: int = 1, repetition: int = 1) -> str:
        """A component's text as sent (escape sequences kept)."""
        text = self._field(field)
        if self.name == "MSH" and field <= 2:  # the separators themselves, never split
            return text if component == repetition == 1 else ""
        if repetition > 1 or "~" in text:
            repetitions = text.split("~")
            if repetition > len(repetitions):
                return ""
            text = repetitions[repetition - 1]
        if component > 1 or "^" in text:
            components = text.split("^")
            if component > len(components):
                return ""
            text = components[component - 1]
        return text.split("&", 1)[0] if "&" in text else text

    def field_text(self, field: int) -> str:
        """A whole field as sent, separators included (for notes and messages)."""
        return self._field(field)
