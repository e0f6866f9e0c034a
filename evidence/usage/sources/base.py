"""The one interface every usage-log source implements.

A source turns one log file into **normalized rows**, by DuckDB SQL only: it is given a DuckDB connection and
the path of a local file (gzip or plain) and returns one ``SELECT`` statement over ``read_json`` / ``read_csv``
(:meth:`UsageSource.relation`). It never touches the Django database and never loops over events in Python:
the engine (``evidence.usage.engine``) wraps the statement in one ``GROUP BY``, checks the aggregates
(format, account, key material) and merges them into ``UsageAggregate`` rows. Raw events never leave DuckDB.

Adding a source is adding one module in ``evidence/usage/sources/`` with a :class:`UsageSource` subclass that
sets ``format``, ``label`` and ``order``: the class registers itself when it is defined
(``UsageSource.__init_subclass__``, as the importers and checks do) and ``evidence.usage.sources`` imports every
module of the package, so ``REGISTRY``, the ``--format`` choices of ``manage.py ingest_usage``, the upload form
and the API list it without another edit.

The normalized columns
----------------------
The statement returns exactly these columns (:data:`COLUMNS`, in any order; NULL is allowed where noted). A row
is either one event (``calls`` 1, ``first_seen`` = ``last_seen`` = the event's time) or an aggregate the
file already holds (``usage-csv``); the engine sums ``calls`` and takes min/max of the times either way.

``recognised`` BOOLEAN
    The row has this source's shape (a CloudTrail event has ``eventSource`` and ``eventName``). A file with any
    row that is not recognised is refused as the wrong format, with the counts; nothing is written.
``relevant`` BOOLEAN
    The row is key usage this source keeps (a KMS cryptographic operation). Other recognised rows (a
    ``CreateKey``, an S3 event in the same trail) are counted as skipped. For rows that are not relevant every
    column below may be NULL: the engine does not read them.
``event_id`` VARCHAR
    The platform's id of the event (CloudTrail ``eventID``); NULL when the source has none. Up to
    ``SAMPLE_EVENT_IDS`` of them are kept per aggregate for drill-down in the platform's own logs.
``day`` DATE (UTC), ``first_seen`` / ``last_seen`` TIMESTAMP (UTC, no time zone), ``calls`` BIGINT
``account`` VARCHAR, ``region`` VARCHAR
    Where the event happened, compared with ``KeyStore.account`` / ``KeyStore.region`` to match the store
    (or to refuse events of another account than the store chosen). '' when the log does not say.
``store_name`` VARCHAR
    A store named by the file itself (``usage-csv``'s ``store`` column); NULL for logs.
``key_ref`` VARCHAR
    The key as the log names it: an ARN, a key id, an alias (``alias/...``), a resource name, a key URL or a
    Vault path. Resolved to an inventory key by ``evidence.usage.keyrefs`` (unknown references are kept).
``principal`` VARCHAR, ``principal_type`` VARCHAR
    Who called: the role ARN behind an assumed-role session, a user ARN, a service account, or the platform
    service that used the key (``principal_type`` ``service``: platform-managed use). Types: :data:`PRINCIPAL_TYPES`.
``operation`` VARCHAR
    The platform's own operation name (``Decrypt``, ``GenerateDataKeyWithoutPlaintext``, ``AsymmetricSign``,
    ``transit/encrypt``). :attr:`UsageSource.functions` maps them to ``inventory.models.CryptoFunction``
    values for the rules that compare use with a key's purpose.
``error_code`` VARCHAR
    '' for a call that succeeded, else the platform's error code (``AccessDeniedException``): failed calls
    are their own aggregates (the outcome is part of the grouping).
``context`` VARCHAR
    The call's context as a JSON object text (CloudTrail's encryption context: keys and values), or NULL.
    The engine keeps a bounded sample of it per aggregate after the key-material check of every key and value;
    a value that looks like a secret is replaced by a note saying why, never kept.

The statement must not fail on a well-formed file of its format; a file DuckDB cannot read (not JSON, a
truncated gzip) raises ``duckdb.Error``, which the engine turns into :class:`UsageFileError` with
:meth:`UsageSource.read_error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

COLUMNS: tuple[str, ...] = (
    "recognised",
    "relevant",
    "event_id",
    "day",
    "first_seen",
    "last_seen",
    "calls",
    "account",
    "region",
    "store_name",
    "key_ref",
    "principal",
    "principal_type",
    "operation",
    "error_code",
    "context",
)

PRINCIPAL_TYPES: tuple[str, ...] = ("user", "role", "service", "account", "other")


class UsageFileError(Exception):
    """The file as a whole cannot be ingested (unreadable, wrong format, another account, key material). The
    message is shown to people: it says what is wrong and what to do, and never quotes the file."""


@dataclass(frozen=True)
class SourceFile:
    """A local file handed to a source: its path, whether it is gzip (by its magic bytes, not its name) and the
    name people gave it (for messages)."""

    path: str
    gzip: bool
    name: str

    @property
    def compression(self) -> str:
        return "gzip" if self.gzip else "uncompressed"


def sql_string(value: str) -> str:
    """A SQL string literal (DuckDB): the path of a temporary file is ours, but quote it properly anyway."""
    return "'" + value.replace("'", "''") + "'"


# Every source class that names a format, by format: filled as their modules are imported.
_REGISTERED: dict[str, type[UsageSource]] = {}


def registered_sources() -> list[type[UsageSource]]:
    """The source classes that registered themselves, in their ``order``."""
    return sorted(_REGISTERED.values(), key=lambda cls: (cls.order, cls.format))


class UsageSource:
    """Turns one log file into normalized rows (see the module docstring). Subclasses set the class attributes
    and implement :meth:`relation`; one that sets ``format`` registers itself when it is defined."""

    format: ClassVar[str]  # registry name, stored on UsageIngestion.source: "cloudtrail", "usage-csv"
    label: ClassVar[str]  # shown in the format select and on the ingestion list: "AWS CloudTrail (KMS)"
    order: ClassVar[int]  # place among the format choices, lower first
    # The StoreKind values this source's events belong to (a store chosen for the file must be one of them);
    # empty: any store (usage-csv names its stores itself).
    store_kinds: ClassVar[tuple[str, ...]] = ()
    help: ClassVar[str] = ""  # one line for the upload page: where the file comes from
    # Platform operation name -> inventory.models.CryptoFunction value, for the rules that compare use and purpose.
    functions: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "format" not in cls.__dict__:
            return
        if not isinstance(getattr(cls, "order", None), int):
            raise TypeError(f"The usage source {cls.__qualname__} ('{cls.format}') must set order, a whole number.")
        other = _REGISTERED.get(cls.format)
        if other is not None and (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(
                f"Two usage sources name the format '{cls.format}': {other.__module__}.{other.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}. Give one of them another format."
            )
        _REGISTERED[cls.format] = cls

    def relation(self, con: Any, file: SourceFile) -> str:
        """One DuckDB ``SELECT`` returning :data:`COLUMNS` for ``file``. ``con`` (a ``duckdb`` connection) may be
        used to look at the file first (its first bytes, to choose ``read_json``'s format); raise
        :class:`UsageFileError` for a file that is plainly not of this format."""
        raise NotImplementedError

    def read_error(self, file: SourceFile, error: Exception) -> str:
        """The message for a file DuckDB could not read (``error``: the ``duckdb.Error``; its text may quote the
        file, so it is not shown)."""
        what = "a gzip file that is cut short or damaged" if file.gzip else "not readable"
        if file.gzip and "gzip" not in str(error).lower() and "compress" not in str(error).lower():
            what = "not readable after decompression"
        return (
            f"{file.name}: the file is {what} as {self.label} ({type(error).__name__}). Check that it is a complete "
            f"{self.label} file: {self.help}"
        )
