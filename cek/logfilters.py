"""Logging filters named in ``LOGGING`` (cek/settings.py)."""

from __future__ import annotations

import logging


class ForbiddenOneLine(logging.Filter):
    """Make Django's record of a refused request (403) one warning line naming the user and the path.

    Django logs a view's PermissionDenied with its traceback; a role refused a page is routine (every
    permission-matrix test, every auditor following a stale link), and tracebacks would bury real errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        request = getattr(record, "request", None)
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        message = record.getMessage()
        record.msg = "%s (user: %s)"
        record.args = (message, username)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
