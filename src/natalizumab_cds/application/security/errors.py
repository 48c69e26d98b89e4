"""Errors of accounts, sign-in, tokens and the audit trail (all subclass ``NtzError``).

- ``NotAuthenticated``: no valid session or token came with the request, or the
  session has expired (the API answers 401).
- ``Forbidden``: the principal's role may not take the action (403); the
  message names the action.
- ``SignInRefused``: wrong username or password, or a disabled account (401);
  deliberately the same message for each, so names cannot be probed.
- ``SignInThrottled``: too many failed sign-ins for the username or from the
  client address within the window (429); carries when to try again.
- ``CoSignRefused``: a second person's username and password, typed in for a
  double check at someone else's session, were wrong, throttled, or belong to a
  role that may not check; an ``InvalidInput`` (422): the form is wrong, not the
  session.
- ``CsrfRefused``: a state-changing request made with a session cookie did not
  carry the session's CSRF token (403).
- ``AccountError``: an account command that cannot be done as asked (a taken
  username, an unknown user, a weak password, disabling the last administrator);
  ``NotOnFile``, one of them: the user or API token named does not exist.
- ``AuditChainBroken``: raised by a caller that wants verification to fail loudly.
"""

from __future__ import annotations

from datetime import datetime

from natalizumab_cds.domain.errors import InvalidInput, NtzError


class NotAuthenticated(NtzError):
    def __init__(self, reason: str = "sign in or send an API token") -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(NtzError):
    def __init__(self, username: str, role: str, action: str) -> None:
        super().__init__(f"{username} ({role}) may not {action}: the role does not allow it")
        self.action = action
        self.role = role


class SignInRefused(NtzError):
    def __init__(self) -> None:
        super().__init__("unknown username or wrong password")


class SignInThrottled(NtzError):
    def __init__(self, retry_after: datetime) -> None:
        super().__init__(
            f"too many failed sign-ins: try again after {retry_after.isoformat(timespec='seconds')}"
        )
        self.retry_after = retry_after


class CoSignRefused(InvalidInput):
    def __init__(
        self, reason: str = "unknown username or wrong password, or a disabled account"
    ) -> None:
        super().__init__(f"checked_by: the second person was not accepted: {reason}")
        self.reason = reason


class CsrfRefused(NtzError):
    def __init__(self) -> None:
        super().__init__(
            "the request did not carry this session's CSRF token; reload the page and try again"
        )


class AccountError(NtzError):
    """An account or token command that cannot be done as asked; the message says why."""


class NotOnFile(AccountError):
    """The user or API token a command names does not exist."""


class AuditChainBroken(NtzError):
    def __init__(self, sequence: int, reason: str) -> None:
        super().__init__(f"audit chain broken at sequence {sequence}: {reason}")
        self.sequence = sequence
        self.reason = reason
