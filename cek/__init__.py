from __future__ import annotations

__version__ = "0.8.0"  # also in CHANGELOG.md; shown in the footer, /healthz, the API schema and every pack

from cek.celery import app as celery_app

__all__ = ("__version__", "celery_app")
