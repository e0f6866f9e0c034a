"""The one way evidence sends e-mail: ``templates/emails/<name>_subject.txt``, ``<name>.txt`` and
``<name>.html`` rendered with the same context, sent as a text message with an HTML alternative.

Every template gets ``base_url`` (``CEK_BASE_URL``) and ``organisation`` (``CEK_ORGANISATION``), so links in
mails sent by a worker (which has no request) point at the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    return f"{settings.CEK_BASE_URL}{path}"


def email_render(*, name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of e-mail ``name``. The subject is one line, whatever the template's spacing."""
    context = {"base_url": settings.CEK_BASE_URL, "organisation": settings.CEK_ORGANISATION, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def email_send(*, name: str, to: Sequence[str], context: dict[str, Any]) -> int:
    """Render e-mail ``name`` and send it to ``to`` (one message, each address in To). Returns the number
    of messages sent (1, or 0 when there is nobody to send to). Errors of the mail backend propagate."""
    recipients = [address for address in to if address]
    if not recipients:
        return 0
    subject, text, html = email_render(name=name, context=context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    return message.send()
