"""Celery task of usage-log ingestion (thin: it calls the service)."""

from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, name="evidence.tasks.usage_ingest", acks_late=True, reject_on_worker_lost=True)
def usage_ingest(self, ingestion_id: int) -> dict:
    """Ingest a queued usage-log file. Acknowledged when done: a task redelivered after its worker died claims the
    ingestion again once it is stalled, never while its first delivery still works (the merge is one transaction, so the dead worker wrote nothing). The outcome is on the row."""
    from evidence.usage.services import usage_ingestion_run

    ingestion = usage_ingestion_run(ingestion_id=ingestion_id, task_id=self.request.id or "")
    return {"ingestion": ingestion_id, "status": ingestion.status if ingestion else "deleted"}


@shared_task(name="evidence.tasks.usage_misuse_evaluate")
def usage_misuse_evaluate() -> dict:
    """Daily (beat): every misuse rule over the usage aggregates, so dormant keys are found and findings whose calls
    left the window are resolved even on a day without an ingestion."""
    from evidence.usage.findings import usage_misuse_evaluate as evaluate

    return evaluate(source="daily usage evaluation").as_dict()
