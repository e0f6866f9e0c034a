"""Job kinds: what each long job declares once, on its model, so the shared code can reason about all of them.

A kind names its Celery task, which of the model's own statuses mean queued / running / succeeded / failed /
cancelled, the setting that says after how many silent minutes a job is stalled, what the watchdog then does
(fail it with a reason, or queue it again), who may see its status and who may retry or cancel it::

    class EvidencePack(JobFields):
        ...
        job = JobKind(name="pack", task="evidence.tasks.pack_build", queued=("queued",), ...)

Declaring it on the model registers it when Django loads the models, so every process (web, worker, beat,
commands) knows every kind. Adding a kind of job is adding a model with ``JobFields`` and one declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings


class State(StrEnum):
    """What a kind's own status means to the shared code. ``idle``: not a job state (a draft, a preview)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    IDLE = "idle"


ACTIVE = (State.QUEUED, State.RUNNING)


@dataclass(frozen=True)
class Fail:
    """A stalled job is failed: its status becomes the kind's first failed status, ``reason`` is shown.

    ``reason`` may name ``{minutes}`` (the kind's stale threshold) and ``{silence}`` (what was seen: no sign of
    life for over N minutes, or no worker alive for over N seconds)."""

    reason: str


@dataclass(frozen=True)
class Requeue:
    """A stalled job is queued again, at most once per threshold (its clock is reset when it is queued).

    ``reason`` (optional) is shown while it waits; ``phase`` (optional) marks it as queued again. With
    ``then_fail``, a job still stalled a threshold after it was queued again (it carries ``phase``) is failed
    with that reason instead; ``{total_minutes}`` is twice the threshold."""

    reason: str = ""
    phase: str = ""
    then_fail: str = ""


Policy = Fail | Requeue

_KINDS: dict[str, JobKind] = {}


@dataclass(eq=False)
class JobKind:
    """One kind of long job. ``since`` is the model field saying when the job was queued (the watchdog's clock
    until a worker gives a sign of life); ``stale_setting`` the setting holding the threshold in minutes."""

    name: str
    task: str
    stale_setting: str
    since: str
    may_view: Callable[[Any], bool]
    queued: tuple[str, ...] = ()
    running: tuple[str, ...] = ()
    succeeded: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    when_queued_stalls: Policy | None = None
    when_running_stalls: Policy | None = None
    # (user, job) -> bool. None: the kind has no such operation.
    may_retry: Callable[[Any, Any], bool] | None = None
    may_cancel: Callable[[Any, Any], bool] | None = None
    # Fail a running job as soon as every worker stopped beating (cek.workerbeat), not only after the threshold.
    fail_when_workers_stopped: bool = False
    # Its status view also runs its watchdog (at most once a minute), so it settles without beat.
    sweep_on_status: bool = False
    # The URL name of the kind's own status URL (it takes the job's pk), when it had one before the common view.
    status_route: str = ""
    model: Any = field(default=None, init=False, repr=False)

    def contribute_to_class(self, cls, name: str) -> None:
        """Django calls this for the class attribute: the kind learns its model and is registered."""
        self.model = cls
        setattr(cls, name, self)
        register(self)

    @property
    def active(self) -> tuple[str, ...]:
        return (*self.queued, *self.running)

    def state_of(self, status: str) -> State:
        for state, statuses in (
            (State.QUEUED, self.queued),
            (State.RUNNING, self.running),
            (State.SUCCEEDED, self.succeeded),
            (State.FAILED, self.failed),
            (State.CANCELLED, self.cancelled),
        ):
            if status in statuses:
                return state
        return State.IDLE

    def stale_minutes(self) -> int:
        return int(getattr(settings, self.stale_setting))


def register(kind: JobKind) -> None:
    other = _KINDS.get(kind.name)
    if other is not None and other.model is not None and other.model._meta.label != kind.model._meta.label:
        raise ValueError(
            f"Job kind {kind.name!r} is declared twice ({other.model._meta.label}, {kind.model._meta.label})."
        )
    _KINDS[kind.name] = kind


def kind_named(name: str) -> JobKind | None:
    return _KINDS.get(name)


def all_kinds() -> list[JobKind]:
    return [_KINDS[name] for name in sorted(_KINDS)]


def kind_of(job) -> JobKind:
    return type(job).job
