"""The vendor timestamps of import files (ISO 8601 or Unix time) read as dates."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any


def parse_timestamp(value: Any) -> dt.date | None:
    """The date of an ISO 8601 timestamp ("2024-01-31T10:00:00.123Z", "2024-01-31T10:00:00+01:00") or of a
    Unix time in seconds (AWS CLI output in some versions, Azure attributes). None for None or "". Raises
    ValueError with a short reason for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("expected a date and time")
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            raise ValueError("expected a date and time (the number is out of range)") from None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Python before 3.11 did not read more than 6 fraction digits; GCP writes 9. Cut to 6.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            if "T" not in text and " " not in text:
                return dt.date.fromisoformat(text)
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("expected an ISO 8601 date and time such as 2025-01-31T10:00:00Z") from None
        return (moment if moment.tzinfo is None else moment.astimezone(dt.UTC)).date()
    raise ValueError("expected a date and time")
