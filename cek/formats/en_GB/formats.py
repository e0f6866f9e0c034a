"""How pages print dates for people (``FORMAT_MODULE_PATH``): in words, "6 Dec 2026" and "6 Dec 2026, 14:05 UTC".
Django's en_GB formats fill in the rest (input formats, separators). Machine-readable places (CSV, JSON, the
API, ``<time datetime>``, the evidence pack's data files) write ISO 8601 themselves and never read these."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
