"""Polling instead of sleeping: converge-or-fail with a readable reason."""

import time


class TimeoutExpired(AssertionError):
    pass


class Abort(RuntimeError):
    """Raised by a predicate when waiting longer cannot help (a daemon died)."""


def wait_until(predicate, timeout=30.0, interval=0.2, what=None, describe=None):
    """Call ``predicate()`` until it returns a truthy value; return that value.

    Exceptions raised by the predicate count as "not yet" (a daemon that is
    still starting refuses connections), except Abort, which ends the wait.
    On timeout raise TimeoutExpired with ``what``, the last exception and
    ``describe()`` (e.g. a diff) if given.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last_exc = None
        except Abort:
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure means "not yet"
            last_exc = exc
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    msg = f"timed out after {timeout:.1f}s waiting for {what or predicate}"
    if last_exc is not None:
        msg += f"\nlast error: {last_exc!r}"
    if describe is not None:
        try:
            msg += "\n" + str(describe())
        except Exception as exc:  # noqa: BLE001
            msg += f"\n(describe failed: {exc!r})"
    raise TimeoutExpired(msg)
