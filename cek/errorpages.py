"""The app's own "not found" page, for people, whatever ``DEBUG`` says.

A view that refuses an object (``Http404``: it does not exist, or the user's role does not see it, as a key owner
opening another owner's key) answers with ``templates/404.html``, which says which kind of record it was and where
to go instead. Django shows its technical 404 page instead when ``DEBUG`` is on, and the demo runs with
``CEK_DEBUG=1``: :class:`AppNotFoundMiddleware` answers such refusals with the app's page in every mode. An address
that matches no URL keeps Django's handling (with ``DEBUG``, the list of URL patterns, which a developer wants);
``handler404`` (``cek.urls``) is :func:`not_found` for those without ``DEBUG``. The API is not concerned: DRF turns
its 404s into JSON inside the view. ``PermissionDenied`` needs nothing: Django renders ``403.html`` in every mode.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

# The records a page can refuse, by the page's URL name: what the "not found" page calls them.
RECORDS: dict[str, str] = {
    "inventory:key-detail": "key",
    "evidence:finding-detail": "finding",
}


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``templates/404.html`` with the kind of record the page refused (``record``: "key", "finding" or None)."""
    match = getattr(request, "resolver_match", None)
    record = RECORDS.get(match.view_name) if match is not None else None
    return render(request, "404.html", {"request_path": request.path, "record": record}, status=404)


class AppNotFoundMiddleware:
    """Answers a view's ``Http404`` with :func:`not_found`, also when ``DEBUG`` is on (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return not_found(request, exception)
        return None
