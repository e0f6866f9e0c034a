"""A key's fields, declared once: what each field is and how each format carries it.

:data:`FIELDS` lists every field of a key in display order (the key form's order, in its fieldsets), one
:class:`KeyField` each. The consumers derive their field lists from it: the key form, the API's serializer, the
import row (``inventory.importers.base.KeyRow``), the CSV columns (template, header check, cells of the
import and of the export), the CBOM's ``cek:`` properties in both directions and the fields an export states in
full, the import planner's checked, scanned and compared fields, and the evidence pack's key columns. Adding a
field to ``Key`` is the model field, its migration and one line here.

How a value is written and read follows from its :class:`Kind` (each format has one named function per kind:
``inventory.importers.csv``, ``inventory.importers.cbom.properties``). Where a format shows a field differently,
the field says so (the API names users by username but stores by id; the CSV and CBOM name both by name).

Three outputs keep the order they had before this declaration existed, so their files and pages stay as they
were: the files' columns (:data:`FILE_ORDER`: CSV, import rows, CBOM properties, import previews), the API
(:data:`API_ORDER`) and the evidence pack (:data:`PACK_ORDER`). These name fields only (what a field is comes
from here); a field one of them does not name follows the ones it names, in display order.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Kind(enum.Enum):
    """What a field's value is. It decides how each format writes and reads it, and how an import checks it."""

    TEXT = "text"  # free text (``multiline``: a text area)
    CHOICE = "choice"  # one of the model field's choices; the field has a default
    REFERENCE = "reference"  # another object, named by its natural key (``ref``)
    INTEGER = "integer"
    DATE = "date"
    FLAG = "flag"
    MAPPING = "mapping"  # names to plain values (tags, platform facts)
    PARTIES = "parties"  # other objects (many-to-many), each named by its natural key (``ref``)
    BINDINGS = "bindings"  # the services that use the key: Binding rows, not a column of Key

    @property
    def textual(self) -> bool:
        """An import reads the value as one text (checked for unsafe text and key material, and for length)."""
        return self in (Kind.TEXT, Kind.CHOICE, Kind.REFERENCE)


@dataclass(frozen=True, slots=True)
class Csv:
    """The CSV column of a field (named like the field): what the template says about it."""

    help: str
    example: str = ""


@dataclass(frozen=True, slots=True)
class Api:
    """How the API shows a field.

    ``natural``: a reference is read and written by its natural key (``KeyField.ref``), as the files do, rather
    than by id. ``help``: the API's own help text, where it is not the model field's. ``also``: read-only fields
    the serializer declares next to this one (``store_name`` after ``store``)."""

    read_only: bool = False
    natural: bool = False
    help: str = ""
    also: tuple[str, ...] = ()


EDITABLE = Api()


@dataclass(frozen=True, slots=True)
class KeyField:
    """One field of a key and how each format carries it.

    - ``name``: the ``Key`` model field, the import row's field, the CSV column; ``model=False`` for what is not
      a field of ``Key`` (``services``: the key's bindings).
    - ``kind``: what the value is (:class:`Kind`); ``ref``: for references, the attribute that names the other
      object in files (``username``, ``slug``, ``name``).
    - ``group``: the key form's fieldset (and where the field belongs when shown).
    - ``required``: every imported key gives it (a required CSV column); ``multiline``: a text area, where tab
      and line breaks are allowed.
    - ``csv``: the CSV column, or None. ``from_platforms``: platform exports and the CBOM set it (an import row
      field without a CSV column). A field with either is *imported*: a field of the import row.
    - ``cbom``: the name of its ``cek:`` property (after the namespace), or ``cyclonedx``: the CycloneDX field
      that carries it instead (where it sits in CycloneDX's own structure, which the CBOM importer and exporter
      map field by field).
    - ``pack``: a column of the evidence pack's keys.csv (the field's value, a reference by its natural key);
      ``pack_also``: (header, ORM lookup) columns that follow it.
    - ``form``: editable in the key form; ``api``: how the API shows it (:class:`Api`), or None.
    """

    name: str
    kind: Kind
    group: str
    ref: str = ""
    model: bool = True
    required: bool = False
    multiline: bool = False
    csv: Csv | None = None
    from_platforms: bool = False
    cbom: str | None = None
    cyclonedx: str = ""
    pack: bool = True
    pack_also: tuple[tuple[str, str], ...] = ()
    form: bool = True
    api: Api | None = EDITABLE

    def __post_init__(self) -> None:
        if (self.kind in (Kind.REFERENCE, Kind.PARTIES)) != bool(self.ref):
            raise ValueError(f"Key field '{self.name}': references (and only they) name their natural key in ref.")
        if self.cbom and self.cyclonedx:
            raise ValueError(f"Key field '{self.name}': a cek: property or a CycloneDX field, not both.")

    @property
    def imported(self) -> bool:
        """A field of the import row: files (CSV, CBOM) or platform exports set it."""
        return self.csv is not None or self.from_platforms

    @property
    def scanned(self) -> bool:
        """Text in it is checked for key material (and unsafe text) when it is imported. Model fields of free
        text carry ``cek.keymaterial.KeyMaterialValidator`` as well, for the form and the API."""
        return self.kind.textual or self.kind in (Kind.MAPPING, Kind.PARTIES)

    @property
    def stated(self) -> bool:
        """A CBOM export states it in full (its ``cek:fields``): a key without it has it empty. Not the fields
        every key has (required, or a choice with a default): an import never empties those (nor makes a key's
        purpose unassigned)."""
        return bool(self.cbom or self.cyclonedx) and not self.required and self.kind is not Kind.CHOICE

    @property
    def pack_lookup(self) -> str:
        """The ORM lookup of the pack's column: a reference by its natural key."""
        return f"{self.name}__{self.ref}" if self.kind in (Kind.REFERENCE, Kind.PARTIES) else self.name


IDENTITY = "Identity"
PURPOSE = "Purpose (exactly one)"
OWNERSHIP = "Ownership"
LIFECYCLE = "Lifecycle"
EXPOSURE = "Labels and exposure"
BINDINGS = "Bindings"
_RM = "cryptoProperties.relatedCryptoMaterialProperties"

FIELDS: tuple[KeyField, ...] = (
    KeyField(
        "name", Kind.TEXT, IDENTITY, required=True, csv=Csv("Display name.", "Inference logs EU"), cyclonedx="name"
    ),
    KeyField(
        "kind",
        Kind.CHOICE,
        IDENTITY,
        csv=Csv(
            "symmetric-key (default), private-key, certificate-private-key, api-token, password, "
            "shared-secret, public-key or other.",
            "symmetric-key",
        ),
        cbom="kind",
    ),
    KeyField(
        "algorithm",
        Kind.TEXT,
        IDENTITY,
        csv=Csv("E.g. AES-256-GCM, ECDSA P-256.", "AES-256-GCM"),
        cyclonedx=f"{_RM}.algorithmRef",
    ),
    KeyField(
        "size_bits",
        Kind.INTEGER,
        IDENTITY,
        csv=Csv("Key size in bits, a whole number.", "256"),
        cyclonedx=f"{_RM}.size",
    ),
    KeyField(
        "store",
        Kind.REFERENCE,
        IDENTITY,
        ref="name",
        required=True,
        csv=Csv("Name of an existing key store (create it first under Key stores).", "prod-kms-eu"),
        cbom="store",
        pack_also=(("store_kind", "store__kind"),),
        api=Api(also=("store_name",)),
    ),
    KeyField(
        "external_id",
        Kind.TEXT,
        IDENTITY,
        required=True,
        csv=Csv(
            "The key's id in its store (ARN, resource name, path). With store, identifies the key.",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        cyclonedx=f"{_RM}.id",
    ),
    KeyField(
        "platform_usage",
        Kind.TEXT,
        IDENTITY,
        csv=Csv("The store's native usage, e.g. ENCRYPT_DECRYPT.", "ENCRYPT_DECRYPT"),
        cbom="platform-usage",
    ),
    KeyField(
        "platform_managed",
        Kind.FLAG,
        IDENTITY,
        from_platforms=True,
        cbom="platform-managed",
        api=Api(read_only=True, help="Set by imports: the platform creates and operates the key itself."),
        form=False,
    ),
    KeyField(
        "platform_details",
        Kind.MAPPING,
        IDENTITY,
        from_platforms=True,
        cbom="platform-details",
        pack=False,
        api=Api(read_only=True, help="Set by imports: the platform's own facts about the key."),
        form=False,
    ),
    KeyField(
        "description",
        Kind.TEXT,
        IDENTITY,
        multiline=True,
        csv=Csv("Free text (metadata only, never the key).", ""),
        cyclonedx="description",
        pack=False,
    ),
    KeyField(
        "purpose",
        Kind.REFERENCE,
        PURPOSE,
        ref="slug",
        required=True,
        csv=Csv("Slug of an active purpose (see Purposes). Exactly one per key.", "inference-log-encryption"),
        cbom="purpose",
        pack_also=(("purpose_name", "purpose__name"), ("purpose_function", "purpose__function")),
        api=Api(
            natural=True,
            help="Slug of an active purpose from the catalog (exactly one per key).",
            also=("purpose_function",),
        ),
    ),
    KeyField(
        "purpose_justification",
        Kind.TEXT,
        PURPOSE,
        multiline=True,
        csv=Csv("Why the key has this purpose.", "Encrypts prompts and completions at rest."),
        cbom="purpose-justification",
    ),
    KeyField(
        "purpose_approver",
        Kind.REFERENCE,
        PURPOSE,
        ref="username",
        csv=Csv("Username of whoever approved the purpose mapping.", "alice"),
        cbom="purpose-approver",
        api=Api(natural=True, help="Username of who approved the purpose mapping."),
    ),
    KeyField(
        "purpose_reviewed_on",
        Kind.DATE,
        PURPOSE,
        csv=Csv("Date of the last review of the mapping, YYYY-MM-DD.", "2026-01-15"),
        cbom="purpose-reviewed-on",
    ),
    KeyField(
        "owner",
        Kind.REFERENCE,
        OWNERSHIP,
        ref="username",
        csv=Csv("Username of the key owner.", "bob"),
        cbom="owner",
        api=Api(natural=True, help="Username of the key owner."),
    ),
    KeyField(
        "backup_owner",
        Kind.REFERENCE,
        OWNERSHIP,
        ref="username",
        csv=Csv("Username of the backup owner.", ""),
        cbom="backup-owner",
        api=Api(natural=True, help="Username of the backup owner."),
    ),
    KeyField(
        "custodian",
        Kind.REFERENCE,
        OWNERSHIP,
        ref="name",
        csv=Csv("Name of the party that holds and operates the key.", ""),
        cbom="custodian",
    ),
    KeyField(
        "tenant",
        Kind.REFERENCE,
        OWNERSHIP,
        ref="slug",
        csv=Csv("Slug of an existing tenant, or empty.", ""),
        cbom="tenant",
        api=Api(natural=True, help="Tenant slug."),
    ),
    KeyField(
        "ssrm_layer",
        Kind.CHOICE,
        OWNERSHIP,
        csv=Csv("pi, model, orchestrated or application (default).", "application"),
        cbom="ssrm-layer",
    ),
    KeyField(
        "state",
        Kind.CHOICE,
        LIFECYCLE,
        csv=Csv("pre-activation, active (default), suspended, deactivated, compromised or destroyed.", "active"),
        cyclonedx=f"{_RM}.state",
    ),
    KeyField(
        "created_on",
        Kind.DATE,
        LIFECYCLE,
        csv=Csv("Date created in the store, YYYY-MM-DD.", "2025-06-01"),
        cyclonedx=f"{_RM}.creationDate",
    ),
    KeyField(
        "activated_on",
        Kind.DATE,
        LIFECYCLE,
        csv=Csv("Date activated, YYYY-MM-DD.", "2025-06-01"),
        cyclonedx=f"{_RM}.activationDate",
    ),
    KeyField(
        "last_rotated_on",
        Kind.DATE,
        LIFECYCLE,
        csv=Csv("Date last rotated, YYYY-MM-DD.", ""),
        cyclonedx=f"{_RM}.updateDate",
    ),
    KeyField(
        "expires_on",
        Kind.DATE,
        LIFECYCLE,
        csv=Csv("Expiry date, YYYY-MM-DD.", ""),
        cyclonedx=f"{_RM}.expirationDate",
    ),
    KeyField(
        "rotation_period_days",
        Kind.INTEGER,
        LIFECYCLE,
        csv=Csv("Rotation period in days.", "365"),
        cbom="rotation-period-days",
    ),
    KeyField(
        "cryptoperiod_days",
        Kind.INTEGER,
        LIFECYCLE,
        csv=Csv("Cryptoperiod override in days; empty uses the purpose's maximum.", ""),
        cbom="cryptoperiod-days",
    ),
    KeyField(
        "cryptoperiod_ends_on",
        Kind.DATE,
        LIFECYCLE,
        api=Api(read_only=True, help="Derived: start of the current period plus the cryptoperiod."),
        form=False,
    ),
    KeyField(
        "not_seen_since",
        Kind.DATE,
        LIFECYCLE,
        api=Api(read_only=True, help="Set when a full import of the key's store no longer listed the key."),
        form=False,
    ),
    KeyField(
        "labels",
        Kind.MAPPING,
        EXPOSURE,
        csv=Csv("KMS tags as name=value pairs separated by ';', or a JSON object.", "env=prod;team=ml-platform"),
        cbom="labels",
        api=Api(help="KMS tags / labels: an object of names to plain values."),
    ),
    KeyField(
        "exposed_to",
        Kind.PARTIES,
        EXPOSURE,
        ref="name",
        csv=Csv("Names of parties the key is shared with, separated by ';'.", ""),
        cbom="exposed-to",
        api=Api(help="Ids of parties the key is shared with."),
    ),
    KeyField(
        "exposure_scope",
        Kind.TEXT,
        EXPOSURE,
        multiline=True,
        csv=Csv("What parties the key is shared with may do with it.", ""),
        cbom="exposure-scope",
    ),
    KeyField(
        "exposure_contract",
        Kind.TEXT,
        EXPOSURE,
        csv=Csv("Contract reference for the sharing.", ""),
        cbom="exposure-contract",
    ),
    KeyField(
        "services",
        Kind.BINDINGS,
        BINDINGS,
        model=False,
        csv=Csv(
            "Bindings: service-slug[@tenant-slug] separated by ';', each for the key's purpose "
            "(add :purpose-slug for another purpose). When the column is present, the key's bindings are replaced "
            "by these; leave the column out to keep them.",
            "inference-gateway",
        ),
        cbom="binding",
        pack=False,
        form=False,
        api=None,
    ),
)
# Model fields of Key that are no key field: the record's own (every table has them, and shows them the same way).
INTERNAL: tuple[str, ...] = ("id", "created_at", "updated_at")

# The order of the files' columns (CSV), of the import row and of the CBOM's properties.
FILE_ORDER: tuple[str, ...] = (
    "store", "external_id", "name", "kind", "algorithm", "size_bits", "purpose", "purpose_justification",
    "purpose_approver", "purpose_reviewed_on", "owner", "backup_owner", "tenant", "custodian", "ssrm_layer",
    "state", "platform_usage", "created_on", "activated_on", "last_rotated_on", "expires_on",
    "rotation_period_days", "cryptoperiod_days", "labels", "description", "exposure_scope", "exposure_contract",
    "exposed_to", "services", "platform_managed", "platform_details",
)  # fmt: skip
API_ORDER: tuple[str, ...] = (
    "name", "kind", "algorithm", "size_bits", "purpose", "store", "external_id", "platform_usage", "owner",
    "backup_owner", "tenant", "custodian", "ssrm_layer", "state", "description", "labels", "created_on",
    "activated_on", "last_rotated_on", "expires_on", "rotation_period_days", "cryptoperiod_days",
    "cryptoperiod_ends_on", "exposed_to", "exposure_scope", "exposure_contract", "purpose_justification",
    "purpose_approver", "purpose_reviewed_on", "platform_managed", "platform_details", "not_seen_since",
)  # fmt: skip
PACK_ORDER: tuple[str, ...] = (
    "name", "kind", "algorithm", "size_bits", "store", "external_id", "tenant", "purpose", "purpose_justification",
    "purpose_approver", "purpose_reviewed_on", "owner", "backup_owner", "custodian", "ssrm_layer", "state",
    "created_on", "activated_on", "last_rotated_on", "expires_on", "rotation_period_days", "cryptoperiod_days",
    "cryptoperiod_ends_on", "not_seen_since", "platform_managed", "platform_usage", "labels", "exposure_scope",
    "exposure_contract", "exposed_to",
)  # fmt: skip


def arranged(fields: Iterable[KeyField], order: tuple[str, ...]) -> tuple[KeyField, ...]:
    """``fields`` in the order ``order`` names them, then the ones it does not name in their own order. A name
    that is not among ``fields`` is an error: an order must not outlive a field or show one where it is not."""
    fields = tuple(fields)
    by_name = {field.name: field for field in fields}
    stray = [name for name in order if name not in by_name]
    if stray or len(set(order)) != len(order):
        raise ValueError(f"The order names {', '.join(stray) or 'a field twice'}: correct it in inventory.keyfields.")
    named = set(order)
    return tuple(by_name[name] for name in order) + tuple(field for field in fields if field.name not in named)


# --- What each consumer shows, derived (``fields`` is the declaration; tests pass one with a field more) -------


def imported_fields(fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The import row's fields, in the files' order."""
    return arranged((field for field in fields if field.imported), FILE_ORDER)


def csv_fields(fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The CSV's columns, in order."""
    return tuple(field for field in imported_fields(fields) if field.csv is not None)


def cbom_fields(*kinds: Kind, fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The fields that travel as ``cek:`` properties (of ``kinds``, when given), in the files' order."""
    return tuple(field for field in imported_fields(fields) if field.cbom and (not kinds or field.kind in kinds))


def stated_fields(fields: tuple[KeyField, ...] = FIELDS) -> tuple[str, ...]:
    """The fields a CBOM export states in full (its ``cek:fields``), in the files' order."""
    return tuple(field.name for field in imported_fields(fields) if field.stated)


def form_fields(fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The key form's fields, in display order."""
    return tuple(field for field in fields if field.form)


def form_fieldsets(fields: tuple[KeyField, ...] = FIELDS) -> list[tuple[str, list[str]]]:
    """The key form's fieldsets: each group once, in display order, with its fields."""
    groups: dict[str, list[str]] = {}
    for field in form_fields(fields):
        groups.setdefault(field.group, []).append(field.name)
    return list(groups.items())


def api_fields(fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The fields the API shows, in its order."""
    return arranged((field for field in fields if field.api is not None), API_ORDER)


def api_field_names(fields: tuple[KeyField, ...] = FIELDS) -> tuple[str, ...]:
    """The serializer's field names for key fields: each followed by its read-only companions."""
    return tuple(name for field in api_fields(fields) for name in (field.name, *field.api.also))


def pack_fields(fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The fields of the pack's keys.csv, in its order."""
    return arranged((field for field in fields if field.pack), PACK_ORDER)


def pack_columns(fields: tuple[KeyField, ...] = FIELDS) -> tuple[tuple[str, str], ...]:
    """The (header, ORM lookup) columns of the pack's keys.csv for single values (many-to-many fields, such as
    the parties a key is exposed to, are listed by :func:`pack_lists`)."""
    return tuple(
        column
        for field in pack_fields(fields)
        if field.kind is not Kind.PARTIES
        for column in ((field.name, field.pack_lookup), *field.pack_also)
    )


def pack_lists(fields: tuple[KeyField, ...] = FIELDS) -> tuple[KeyField, ...]:
    """The many-to-many fields of the pack's keys.csv (after its other columns)."""
    return tuple(field for field in pack_fields(fields) if field.kind is Kind.PARTIES)


BY_NAME: dict[str, KeyField] = {field.name: field for field in FIELDS}
IMPORTED: tuple[KeyField, ...] = imported_fields()
REQUIRED: tuple[str, ...] = tuple(field.name for field in IMPORTED if field.required)
SCANNED: tuple[str, ...] = tuple(field.name for field in IMPORTED if field.scanned)
