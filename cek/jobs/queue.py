"""The one place that queues background work: a task is sent by its registered *name*, after the transaction
that wrote its row commits (at once outside one), so services never import task modules (tasks import services:
no import circles) and a worker never looks for a row that is not committed yet."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from kombu.exceptions import OperationalError

from cek.jobs.kinds import JobKind, kind_of

logger = logging.getLogger(__name__)


def send(name: str, args: list):
    """Send the task ``name`` to the broker now and return its ``AsyncResult``. No retry: a broker that cannot
    be reached raises kombu's ``OperationalError`` at once, and the caller says so. (Tests replace this.)"""
    from cek.celery import app

    return app.send_task(name, args=args, retry=False)


def dispatch(kind: JobKind, pk: int, *, args: Sequence | None = None) -> str:
    """Send the task of job ``pk`` now and record its id on the row. Raises ``OperationalError`` (broker down)."""
    result = send(kind.task, list(args) if args is not None else [pk])
    task_id = (getattr(result, "id", None) or "")[:64]
    kind.model.objects.filter(pk=pk).update(task_id=task_id)
    return task_id


def enqueue(
    job,
    *,
    args: Sequence | None = None,
    on_broker_down: Callable[[], Exception | None] | None = None,
    robust: bool = False,
    at_once: bool = False,
) -> None:
    """Queue ``job``'s task (its kind's task name; arguments ``[job.pk]`` unless given) when the current
    transaction commits, and record the task id on the row.

    When the broker cannot be reached, ``on_broker_down()`` runs: it puts the row back as it was (or removes it)
    and returns the exception to raise, written for the user; without it, the job stays as it is and the
    kind's watchdog queues it again. With ``robust``, any other error of the send is logged, not raised.

    ``at_once``: the caller committed the row already and runs outside any transaction of its own (an import's
    apply, a check run's start), so the task is sent now, whatever transaction may wrap the caller: the broker
    being down is then said to this request."""
    kind = kind_of(job)
    pk = job.pk

    def _send() -> None:
        try:
            dispatch(kind, pk, args=args)
        except OperationalError as exc:
            logger.warning("Could not queue %s %s: %s", kind.name, pk, exc)
            error = on_broker_down() if on_broker_down is not None else None
            if error is not None:
                raise error from None

    if at_once:
        _send()
    else:
        transaction.on_commit(_send, robust=robust)


def send_on_commit(name: str, args: Sequence, *, what: str) -> None:
    """Queue a task that is not a job (no row follows it) when the transaction commits. A broker that cannot be
    reached is logged: the periodic sweep of that work picks it up (``what`` names it in the log)."""

    def _send() -> None:
        try:
            send(name, list(args))
        except OperationalError as exc:
            logger.warning("Could not queue %s: %s", what, exc)

    transaction.on_commit(_send, robust=True)
