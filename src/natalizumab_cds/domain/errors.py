"""The project's one root error and the domain's own errors.

The root lives here because ``domain`` imports nothing from the rest of the
project; every other layer's ``errors.py`` subclasses ``NtzError``.

- ``InvalidInput``: a record cannot be read as it is (raised by readers in
  ``interop`` and by timeline construction); the message names the resource and
  the field.
- ``ProtocolError``: a protocol data file is incomplete or inconsistent; raised
  when the protocol is loaded, the message names the entry.
- ``WorkflowRefused``: an infusion-day step breaks a workflow rule; carries the
  rule id and a plain reason.
"""


class NtzError(Exception):
    """Root of every error this project raises on purpose."""


class InvalidInput(NtzError):
    """Input that cannot be read as it is; the message names resource and field."""


class ProtocolError(NtzError):
    """A protocol data file that is incomplete or inconsistent; names the entry."""


class WorkflowRefused(NtzError):
    """An infusion-day event refused by a workflow rule.

    ``field`` names the input the refusal concerns, when it concerns one, as the
    domain names its inputs in messages (``preparation.dose_mg``,
    ``infusion_start.planned_duration``, ``discharge.at``): the web page marks that
    field and the API returns it, neither reading it out of the reason's words.
    """

    def __init__(self, rule: str, reason: str, field: str | None = None) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
        self.field = field
