"""The audit trail (issue 7 item 1): who did what, when, from where, to which object, and the
result. `record(...)` is the one way to add a row; model writes, logins and views of personal
data are recorded by the signals in minyi.audit.signals."""

from typing import Any


def record(action: str, obj: Any = None, **kwargs: Any) -> Any:
    """Append one audit event; see minyi.audit.trail.record for the arguments."""
    from minyi.audit.trail import record as _record

    return _record(action, obj, **kwargs)
