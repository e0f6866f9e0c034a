"""What an evidence pack shows: everything the PDF (and ``pack.json``) needs, read once from the database.

:func:`collect` returns a :class:`PackContent`, a tree of dataclasses holding plain values (text, numbers,
dates), never model instances, so the PDF template renders it without a query and the builder can serialise it
(``dataclasses.asdict`` with ``DjangoJSONEncoder``). It only reads; the builder runs it inside one
repeatable-read transaction so every figure comes from the same snapshot.

The key population can be large (100,000 keys and more): it is summarised with aggregate queries (GROUP BY in
the database); only its ids are read, to draw the sample. Lists that can grow with the population (findings,
purpose-mapping changes) are read up to ``CEK_PACK_PDF_MAX_ROWS`` rows plus one: a longer list is not put in
the PDF, which names the data file that holds it instead (:class:`Table`).

One module per section of the PDF (``templates/pdf/``), each holding the section's dataclasses and the function
that reads it:

- ``_cover.html``: :mod:`.cover`; ``_control.html``: :mod:`.control`; ``_answer.html``: :mod:`.answer`;
- ``_guidelines.html`` (and the ``_status.html`` badges it and the summary show): :mod:`.guidelines`;
- ``_policies.html``: :mod:`.policies`; ``_campaigns.html``: :mod:`.campaigns`; ``_findings.html``: :mod:`.findings`;
- ``_inventory.html`` (and its ``_buckets.html`` tables): :mod:`.inventory`;
- ``_changes.html``: :mod:`.changes`; ``_sample.html``: :mod:`.sample`; ``_iac.html``: :mod:`.iac`;
- ``_usage.html``: :mod:`.usage` (which also gives the rows of ``usage.csv``);
- ``_toc.html``, ``_summary.html`` and ``_about.html`` read no data of their own: they show the other sections,
  the notes and the row limit, which :func:`collect` below puts together (the limit and :class:`Table`:
  :mod:`.table`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from cek.control import load_control
from evidence.models import EvidencePack
from evidence.packs.content.answer import AnswerSection, answer_section
from evidence.packs.content.campaigns import CampaignRow, campaign_rows
from evidence.packs.content.changes import PURPOSE_CHANGES_FILE, purpose_changes
from evidence.packs.content.control import ControlSection, SsrmLayerRow, control_section
from evidence.packs.content.cover import Cover, cover_section
from evidence.packs.content.findings import SEVERITY_ORDER, FindingSection, finding_section
from evidence.packs.content.guidelines import FAILING_SHOWN, GuidelineRow, GuidelineSection, guideline_section
from evidence.packs.content.iac import IAC_SCANS_FILE, IacSection, iac_section
from evidence.packs.content.inventory import Bucket, InventorySection, inventory_section
from evidence.packs.content.policies import PolicySection, policy_section
from evidence.packs.content.sample import SampledKey, SampleSection, sample_section, sampled_keys
from evidence.packs.content.table import DEFAULT_MAX_ROWS, Table, max_rows
from evidence.packs.content.usage import USAGE_FILE, UsageSection, usage_section
from evidence.packs.scope import scoped_keys, window_bounds

__all__ = [
    "DEFAULT_MAX_ROWS",
    "FAILING_SHOWN",
    "IAC_SCANS_FILE",
    "PURPOSE_CHANGES_FILE",
    "SEVERITY_ORDER",
    "USAGE_FILE",
    "AnswerSection",
    "Bucket",
    "CampaignRow",
    "ControlSection",
    "Cover",
    "FindingSection",
    "GuidelineRow",
    "GuidelineSection",
    "IacSection",
    "InventorySection",
    "PackContent",
    "PolicySection",
    "Progress",
    "SampleSection",
    "SampledKey",
    "SsrmLayerRow",
    "Table",
    "UsageSection",
    "collect",
    "max_rows",
    "sampled_keys",
]

Progress = Callable[[int, str], None]


@dataclass
class PackContent:
    cover: Cover
    control: ControlSection
    answer: AnswerSection | None
    guidelines: GuidelineSection
    policies: PolicySection
    campaigns: list[CampaignRow]
    findings: FindingSection
    inventory: InventorySection
    purpose_changes: Table  # rows: dicts, see changes.purpose_changes
    sample: SampleSection
    iac: IacSection
    usage: UsageSection
    max_rows: int = DEFAULT_MAX_ROWS
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain data (dates and datetimes left as objects: serialise with ``DjangoJSONEncoder``)."""
        return dataclasses.asdict(self)


def collect(pack: EvidencePack, *, progress: Progress | None = None) -> PackContent:
    """Read everything the pack shows. Only reads: the caller holds the snapshot (one repeatable-read
    transaction). ``progress(percent, phase)`` is called between sections (percent 0-100 of this step)."""

    def report(percent: int, phase: str) -> None:
        if progress is not None:
            progress(percent, phase)

    limit = max_rows()
    start, end = window_bounds(pack)
    keys = scoped_keys(pack)
    scoped = pack.stores.exists() or pack.tenants.exists()
    control = load_control()

    report(0, "Reading the control and its roles")
    cover = cover_section(pack, control)
    inventory = inventory_section(keys, start, end)
    control_content = control_section(control, inventory)
    report(10, "Reading the CEK-11.1 answer")
    answer = answer_section(pack, control)
    report(20, "Reading the check results")
    guidelines = guideline_section(control, end)
    report(35, "Reading policies, reviews and evaluations")
    policies = policy_section(pack, start, end)
    report(50, "Reading attestation campaigns")
    campaigns = campaign_rows(start, end)
    report(60, "Reading findings")
    findings = finding_section(keys, start, end, scoped=scoped, limit=limit)
    report(70, "Reading purpose-mapping changes")
    changes = purpose_changes(keys, start, end, limit)
    report(80, "Reading the IaC scans")
    iac = iac_section(guidelines.run_id, start, end, limit)
    report(83, "Reading the key usage")
    usage = usage_section(pack, guidelines.run_id, start, end, limit)
    report(85, "Drawing the key sample")
    sample = sample_section(pack, keys, limit)
    report(100, "Content read")
    notes = [
        "Key counts, bindings, grants and owners are as recorded when the pack was generated; the guideline "
        "results are those of the check run named in section 4.",
    ]
    if scoped:
        notes.append(
            "The pack's scope narrows the key population, the inventory summary, the findings about keys, the "
            "purpose-mapping changes, the sample and the key usage (keys the inventory does not know count with their "
            "store). Check runs, IaC scans, policies and campaigns cover the whole "
            "organisation."
        )
    return PackContent(
        cover=cover,
        control=control_content,
        answer=answer,
        guidelines=guidelines,
        policies=policies,
        campaigns=campaigns,
        findings=findings,
        inventory=inventory,
        purpose_changes=changes,
        sample=sample,
        iac=iac,
        usage=usage,
        max_rows=limit,
        notes=notes,
    )
