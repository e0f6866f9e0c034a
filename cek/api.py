"""Shared REST API plumbing: pagination and JSON error bodies."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, parsers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from cek.keymaterial import find_key_material


class Pagination(PageNumberPagination):
    page_size = settings.CEK_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 500


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deeply for Python's recursion (valid JSON, 5,000 levels of
    ``[``) answered 400 like any other unreadable body, instead of a RecursionError and a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None


REFUSED_UNQUOTED = "This value is not accepted (it is not repeated here: it looks like key material)."


def _unquoted(errors):
    """Error messages that quote a value (an invalid choice, a filter value) never repeat key material."""
    if isinstance(errors, dict):
        return {name: _unquoted(value) for name, value in errors.items()}
    if isinstance(errors, list):
        return [_unquoted(value) for value in errors]
    if isinstance(errors, str) and find_key_material(errors):
        return REFUSED_UNQUOTED
    return errors


def exception_handler(exc, context):
    """Every error is JSON: ``{"detail": "...", "errors": {field: [messages]}}`` with a 4xx status.

    Django's own ValidationError (raised by services' ``full_clean``) becomes a 400 with field messages
    instead of a 500.
    """
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": "The request has invalid fields.", "errors": _unquoted(errors)}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"detail": str(data["detail"])}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
