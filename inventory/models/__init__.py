"""The key inventory: metadata about keys and secrets, never the keys themselves.

Every model keeps a history table (django-simple-history): who changed what, when. One module per family;
everything is re-exported here so ``inventory.models.X`` works (migrations name some of these paths):

- ``choices``: the vocabularies (SSRM roles and layers, AICM layers and phases, key kinds and states, ...);
- ``validation``: the validators and the time-stamped base the models share;
- ``parties``: parties in the supply chain and SSRM assignments;
- ``workloads``: tenants and services;
- ``stores``: key stores;
- ``purposes``: the purpose catalog;
- ``keys``: keys (their fields, as the formats see them, are declared in ``inventory.keyfields``);
- ``access``: bindings (who uses a key) and access grants (who may);
- ``imports``: imports of inventory files.
"""

from __future__ import annotations

from inventory.models.access import AccessGrant, Binding
from inventory.models.choices import (
    IN_USE_LABEL,
    IN_USE_STATES,
    ArchitecturalLayer,
    CryptoFunction,
    Environment,
    KeyKind,
    KeyState,
    LifecyclePhase,
    Operation,
    PrincipalType,
    Sp80057KeyType,
    SsrmLayer,
    SsrmRole,
    StoreKind,
)
from inventory.models.imports import KeyImport, import_upload_path
from inventory.models.keys import Key
from inventory.models.parties import Party, SsrmAssignment
from inventory.models.purposes import Purpose
from inventory.models.stores import KeyStore
from inventory.models.validation import (
    ChoiceListValidator,
    days_after,
    free_text,
    validate_choice_list,
)
from inventory.models.workloads import Service, Tenant

__all__ = [
    "IN_USE_LABEL",
    "IN_USE_STATES",
    "AccessGrant",
    "ArchitecturalLayer",
    "Binding",
    "ChoiceListValidator",
    "CryptoFunction",
    "Environment",
    "Key",
    "KeyImport",
    "KeyKind",
    "KeyState",
    "KeyStore",
    "LifecyclePhase",
    "Operation",
    "Party",
    "PrincipalType",
    "Purpose",
    "Service",
    "Sp80057KeyType",
    "SsrmAssignment",
    "SsrmLayer",
    "SsrmRole",
    "StoreKind",
    "Tenant",
    "days_after",
    "free_text",
    "import_upload_path",
    "validate_choice_list",
]
