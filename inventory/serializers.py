"""Serializers of the REST API (``/api/v1/``).

They only turn JSON into model instances and back: every write goes through ``inventory.services``
(``key_save``, ``party_save``, ``purpose_save``, ``object_save``), which run ``full_clean`` and record
history. Every free-text field is checked by ``cek.keymaterial`` here already, with a message that names the
field and never echoes the value; error messages for unknown values list what is accepted instead of
repeating the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models
from rest_framework import serializers

from cek import textsafety
from cek.keymaterial import KeyMaterialValidator, check_text, validate_labels
from cek.textsafety import check_text as check_safe_text
from inventory import keyfields
from inventory.models import (
    AccessGrant,
    Binding,
    Key,
    KeyKind,
    KeyStore,
    Operation,
    Party,
    Purpose,
    Service,
    SsrmAssignment,
    SsrmRole,
    Tenant,
)
from inventory.selectors import keys_for
from inventory.services import key_save, object_save, party_save, purpose_save

MAX_LISTED_CHOICES = 40


def _expected(values: Iterable[str]) -> str:
    values = list(values)
    shown = ", ".join(values[:MAX_LISTED_CHOICES])
    if len(values) > MAX_LISTED_CHOICES:
        shown += f" (and {len(values) - MAX_LISTED_CHOICES} more)"
    return shown or "(none defined yet)"


# --- Validators ---------------------------------------------------------------------------------


class NoKeyMaterial:
    """Field validator: ``cek.keymaterial`` with the field's name in the message (never the value)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            check_text(value, field=f"'{self.field}'")


class SafeText:
    """Field validator: ``cek.textsafety`` (control characters, unpaired surrogates, bidi overrides; tab and
    line breaks only in multi-line fields) with the field's name in the message, never the value. DRF refuses
    NUL and surrogates in a CharField already; this names the field and covers the rest."""

    def __init__(self, field: str, *, multiline: bool) -> None:
        self.field, self.multiline = field, multiline

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            try:
                check_safe_text(value, field=f"'{self.field}'", multiline=self.multiline)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages, code=textsafety.CODE) from None


def _strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _strings_in(name)
            yield from _strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_in(item)


def validate_api_labels(value: Any) -> None:
    """Labels are KMS tags: plain text without key material and without unsafe text (a NUL or an unpaired
    surrogate is refused by PostgreSQL's jsonb with a database error; control characters and bidi overrides
    disguise what an auditor reads). Tab and line breaks pass, as in imported labels (platform text)."""
    for text in _strings_in(value):
        reason = textsafety.find_unsafe_text(text, multiline=True)
        if reason:
            raise serializers.ValidationError(textsafety.message_for("A label", reason), code=textsafety.CODE)
    validate_labels(value)


# --- Fields -------------------------------------------------------------------------------------


class ListedSlugRelatedField(serializers.SlugRelatedField):
    """A relation written by slug or username. An unknown value is answered with the accepted values
    (``list_choices``) or a plain sentence, never by repeating what was sent."""

    def __init__(self, *, choices_queryset=None, list_choices: bool = True, noun: str = "", **kwargs) -> None:
        self.choices_queryset = choices_queryset
        self.list_choices = list_choices
        self.noun = noun
        super().__init__(**kwargs)

    def _unknown(self) -> serializers.ValidationError:
        noun = self.noun or self.get_queryset().model._meta.verbose_name
        if not self.list_choices:
            return serializers.ValidationError(f"No {noun} with this {self.slug_field}.", code="does_not_exist")
        queryset = self.choices_queryset if self.choices_queryset is not None else self.get_queryset()
        values = queryset.order_by(self.slug_field).values_list(self.slug_field, flat=True)
        return serializers.ValidationError(
            f"Not a known {noun}; expected one of: {_expected(values)}.", code="does_not_exist"
        )

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data:
            raise self._unknown()
        reason = textsafety.find_unsafe_text(data)
        if reason:  # PostgreSQL refuses a NUL even in a lookup (a DataError, answered 500)
            raise serializers.ValidationError(textsafety.message_for("This value", reason), code=textsafety.CODE)
        try:
            return self.get_queryset().get(**{self.slug_field: data})
        except (models.ObjectDoesNotExist, TypeError, ValueError):
            raise self._unknown() from None


def purpose_field(**kwargs) -> ListedSlugRelatedField:
    """A purpose by slug. Unknown slugs are answered with the active purposes. A retired purpose is left to
    ``inventory.services.key_validate_purpose``, which refuses it for a new mapping but lets an existing key
    keep it (so a PUT that repeats a key's retired purpose still works)."""
    return ListedSlugRelatedField(
        slug_field="slug",
        queryset=Purpose.objects.all(),
        choices_queryset=Purpose.objects.filter(is_active=True),
        noun="active purpose",
        **kwargs,
    )


def user_field(**kwargs) -> ListedSlugRelatedField:
    return ListedSlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        list_choices=False,
        noun="active user",
        required=False,
        allow_null=True,
        **kwargs,
    )


def choice_list_field(choices: type[models.TextChoices], **kwargs) -> serializers.ListField:
    child = serializers.ChoiceField(
        choices=choices.choices, error_messages={"invalid_choice": f"Expected one of: {_expected(choices.values)}."}
    )
    return serializers.ListField(child=child, **kwargs)


_PK_MESSAGES = {
    "does_not_exist": "No such object: check the id.",
    "incorrect_type": "Expected the numeric id of the object.",
}


class VisibleKeyField(serializers.PrimaryKeyRelatedField):
    """A key by id, limited to the keys the requesting user can see."""

    def __init__(self, **kwargs) -> None:
        super().__init__(queryset=Key.objects.all(), error_messages=_PK_MESSAGES, **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return keys_for(request.user) if request is not None else Key.objects.none()


# --- Base ---------------------------------------------------------------------------------------


class InventorySerializer(serializers.ModelSerializer):
    """Validates input; ``create``/``update`` build the instance and hand it to a service to save.

    ``m2m_fields`` are popped from the validated data and passed to the service, which sets them after
    saving the row.
    """

    m2m_fields: tuple[str, ...] = ()
    serializer_related_field = serializers.PrimaryKeyRelatedField

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        validators = [v for v in kwargs.get("validators", []) if not isinstance(v, KeyMaterialValidator)]
        is_text = isinstance(model_field, models.CharField | models.TextField)
        if is_text and not model_field.choices and not isinstance(model_field, models.SlugField):
            validators.append(NoKeyMaterial(field_name))
        if is_text:  # after the key-material check: a PEM block in a one-line field is reported as a key
            validators.append(SafeText(field_name, multiline=isinstance(model_field, models.TextField)))
        if validators:
            kwargs["validators"] = validators
        if kwargs.get("choices"):
            values = [value for value, _ in model_field.choices]
            kwargs["error_messages"] = {"invalid_choice": f"Expected one of: {_expected(values)}."}
        return field_class, kwargs

    def build_relational_field(self, field_name, relation_info):
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        if issubclass(field_class, serializers.PrimaryKeyRelatedField):
            kwargs["error_messages"] = _PK_MESSAGES
        return field_class, kwargs

    def create(self, validated_data):
        m2m = {name: validated_data.pop(name) for name in self.m2m_fields if name in validated_data}
        return self._save(self.Meta.model(**validated_data), m2m)

    def update(self, instance, validated_data):
        m2m = {name: validated_data.pop(name) for name in self.m2m_fields if name in validated_data}
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self._save(instance, m2m)

    def _save(self, instance, m2m: dict[str, Any]):
        actor = self.context["request"].user
        try:
            return self.service_save(instance=instance, actor=actor, m2m=m2m)
        except IntegrityError:
            # A concurrent write took a unique value between validation and saving.
            raise serializers.ValidationError(
                {"non_field_errors": ["This record conflicts with an existing one: a unique value is already taken."]}
            ) from None

    def service_save(self, *, instance, actor, m2m: dict[str, Any]):
        return object_save(instance=instance, actor=actor, m2m=m2m)


TIMESTAMPS = ("created_at", "updated_at")


# --- Inventory objects ----------------------------------------------------------------------------


class PartySerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-party-detail")
    roles = choice_list_field(SsrmRole, help_text="SSRM roles: CSP, MP, OSP, AP, AIC.")

    class Meta:
        model = Party
        fields = ("id", "url", "name", "roles", "is_us", "description", "contact", *TIMESTAMPS)
        # Not unique in the usual sense: party_save moves the "us" mark from the previous party.
        extra_kwargs = {"is_us": {"validators": []}}

    def service_save(self, *, instance, actor, m2m):
        return party_save(party=instance, actor=actor)


class SsrmAssignmentSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-ssrm-assignment-detail")
    party_name = serializers.CharField(source="party.name", read_only=True)

    class Meta:
        model = SsrmAssignment
        fields = ("id", "url", "layer", "party", "party_name", "role", "responsibility", *TIMESTAMPS)


class TenantSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-tenant-detail")

    class Meta:
        model = Tenant
        fields = ("id", "url", "name", "slug", "party", "description", "is_active", *TIMESTAMPS)


class ServiceSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-service-detail")
    owner = user_field()

    class Meta:
        model = Service
        fields = (
            "id", "url", "name", "slug", "description", "environment", "architectural_layer", "ssrm_layer",
            "lifecycle_phase", "operating_party", "owner", "is_active", *TIMESTAMPS,
        )  # fmt: skip


class KeyStoreSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-key-store-detail")

    class Meta:
        model = KeyStore
        fields = (
            "id", "url", "name", "kind", "account", "region", "operating_party", "purpose_tag_key", "owner_tag_key",
            "service_tag_key", "tenant_tag_key", "last_full_import_at", "description",
            *TIMESTAMPS,
        )  # fmt: skip


class PurposeSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-purpose-detail")
    allowed_kinds = choice_list_field(KeyKind, required=False, help_text="Empty: any kind.")
    allowed_operations = choice_list_field(Operation)
    key_count = serializers.IntegerField(read_only=True, help_text="Keys mapped to this purpose.")

    class Meta:
        model = Purpose
        fields = (
            "id", "url", "slug", "name", "description", "function", "key_type", "allowed_kinds",
            "allowed_operations", "max_cryptoperiod_days", "is_ai_specific", "is_active", "key_count", *TIMESTAMPS,
        )  # fmt: skip

    def service_save(self, *, instance, actor, m2m):
        return purpose_save(purpose=instance, actor=actor)


def _api_help(name: str) -> str:
    return keyfields.BY_NAME[name].api.help


# A key's fields as inventory.keyfields declares them for the API (no docstring: the API schema would show it).
# References the declaration names by natural key are written by it (users by username, the tenant by slug); the
# others by id.
class KeySerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-key-detail")
    purpose = purpose_field(help_text=_api_help("purpose"))
    purpose_function = serializers.CharField(source="purpose.function", read_only=True, allow_null=True)
    store_name = serializers.CharField(source="store.name", read_only=True)
    exposed_to = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Party.objects.all(), required=False, help_text=_api_help("exposed_to")
    )
    labels = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        validators=[validate_api_labels],
        help_text=_api_help("labels"),
    )

    m2m_fields = ("exposed_to",)

    class Meta:
        model = Key
        fields = ("id", "url", *keyfields.api_field_names(), *TIMESTAMPS)
        read_only_fields = tuple(field.name for field in keyfields.api_fields() if field.api.read_only)
        extra_kwargs = {field.name: {"help_text": field.api.help} for field in keyfields.api_fields() if field.api.help}

    def build_relational_field(self, field_name, relation_info):
        declared = keyfields.BY_NAME.get(field_name)
        if declared is None or declared.api is None or not declared.api.natural:
            return super().build_relational_field(field_name, relation_info)
        _pk_field, kwargs = super().build_relational_field(field_name, relation_info)
        if relation_info.related_model is get_user_model():
            kwargs.update(
                queryset=get_user_model().objects.filter(is_active=True), list_choices=False, noun="active user"
            )
        kwargs.pop("error_messages", None)
        return ListedSlugRelatedField, {**kwargs, "slug_field": declared.ref}

    def service_save(self, *, instance, actor, m2m):
        return key_save(key=instance, actor=actor, exposed_to=m2m.get("exposed_to"))


class BindingSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-binding-detail")
    key = VisibleKeyField(help_text="Id of the key.")
    key_name = serializers.CharField(source="key.name", read_only=True)
    service = ListedSlugRelatedField(slug_field="slug", queryset=Service.objects.all(), help_text="Service slug.")
    tenant = ListedSlugRelatedField(
        slug_field="slug", queryset=Tenant.objects.all(), required=False, allow_null=True, help_text="Tenant slug."
    )
    purpose = ListedSlugRelatedField(
        slug_field="slug", queryset=Purpose.objects.all(), help_text="Slug of the purpose the service uses the key for."
    )
    operations = choice_list_field(Operation, required=False)

    class Meta:
        model = Binding
        fields = (
            "id", "url", "key", "key_name", "service", "tenant", "purpose", "principal", "operations", "notes",
            *TIMESTAMPS,
        )  # fmt: skip


class AccessGrantSerializer(InventorySerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-grant-detail")
    key = VisibleKeyField(help_text="Id of the key.")
    key_name = serializers.CharField(source="key.name", read_only=True)
    approver = user_field(help_text="Username of the approver.")
    operations = choice_list_field(Operation)
    is_expired = serializers.BooleanField(read_only=True)
    is_wildcard = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccessGrant
        fields = (
            "id", "url", "key", "key_name", "principal_type", "principal", "operations", "justification",
            "approver", "approved_on", "expires_on", "is_expired", "is_wildcard", *TIMESTAMPS,
        )  # fmt: skip
