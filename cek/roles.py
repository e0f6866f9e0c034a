"""The three roles of the product and the checks every view, API view and queryset uses.

- GRC (group ``grc``): reads and writes everything.
- Key owner (group ``key-owners``): reads the keys they own or back up (and what hangs off them), attests.
- Auditor (group ``auditors``): reads everything, writes nothing but their own notes.

Superusers count as GRC. A user's groups are read once per request and cached on the user object: for the user
of a session, with the user's own row (``cek.access.ExpiringAccessBackend.get_user`` annotates it with
:func:`group_names`), so a role given or taken away counts from the next request on.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Aggregate, JSONField, OuterRef, Subquery
from django.http import HttpRequest
from rest_framework.permissions import SAFE_METHODS, BasePermission


class Role(StrEnum):
    GRC = "grc"
    KEY_OWNER = "key-owners"
    AUDITOR = "auditors"

    @property
    def label(self) -> str:
        return {"grc": "GRC", "key-owners": "Key owner", "auditors": "Auditor"}[self.value]


def user_roles(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_cek_roles", None)
    if cached is None:
        cached = remember_group_names(user, user.groups.values_list("name", flat=True))
    return cached


def remember_group_names(user, names) -> frozenset[str]:
    """Keep ``names`` (the user's groups, read now) on the user as its roles for this request."""
    roles = frozenset(names or ())
    if user.is_superuser:
        roles = roles | {Role.GRC.value}
    user._cek_roles = roles
    return roles


class _NameArray(Aggregate):
    """The names as one JSON array: exact whatever a group's name holds (no separator to split on)."""

    function = "JSONB_AGG"  # PostgreSQL (jsonb: Django reads it as JSON text)
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def group_names(user_ref: str = "pk") -> Subquery:
    """The user's group names as a column of a query of users (a JSON array, NULL for none): the user of a session
    and its roles in one query instead of two (:func:`remember_group_names` keeps them on the user)."""
    names = (
        Group.objects.filter(user=OuterRef(user_ref))
        .order_by()
        .values("user")
        .annotate(names=_NameArray("name"))
        .values("names")
    )
    return Subquery(names, output_field=JSONField())


def is_grc(user) -> bool:
    return Role.GRC in user_roles(user)


def is_auditor(user) -> bool:
    return Role.AUDITOR in user_roles(user)


def is_key_owner(user) -> bool:
    return Role.KEY_OWNER in user_roles(user)


def can_read_all(user) -> bool:
    """GRC and auditors see the whole inventory; key owners see only their own keys."""
    roles = user_roles(user)
    return Role.GRC in roles or Role.AUDITOR in roles


def primary_role(user) -> Role | None:
    roles = user_roles(user)
    for role in (Role.GRC, Role.AUDITOR, Role.KEY_OWNER):
        if role in roles:
            return role
    return None


def role_context(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "role": primary_role(user),
        "is_grc": is_grc(user),
        "is_auditor": is_auditor(user),
        "is_key_owner": is_key_owner(user),
        "can_read_all": can_read_all(user),
    }


# --- Views ----------------------------------------------------------------------------------------


class RoleRequiredMixin(AccessMixin):
    """Class-based view guard: ``allowed_roles`` may read; GRC may always read and write.

    Unauthenticated users never reach a view (``cek.access.LoginRequiredMiddleware``), so a refusal here
    is a 403, not a redirect to the login page.
    """

    allowed_roles: tuple[Role, ...] = (Role.GRC,)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        roles = user_roles(request.user)
        if not any(role in roles for role in (Role.GRC, *self.allowed_roles)):
            raise PermissionDenied("Your role does not give access to this page.")
        return super().dispatch(request, *args, **kwargs)


class GrcRequiredMixin(RoleRequiredMixin):
    allowed_roles = (Role.GRC,)


class ReadAllMixin(RoleRequiredMixin):
    allowed_roles = (Role.GRC, Role.AUDITOR)


class AnyRoleMixin(RoleRequiredMixin):
    """Any of the three roles; the view narrows what a key owner sees through its queryset."""

    allowed_roles = (Role.GRC, Role.AUDITOR, Role.KEY_OWNER)


# --- API ------------------------------------------------------------------------------------------


class ApiRolePermission(BasePermission):
    """GRC writes; auditors read; key owners read only on views that set ``key_owner_readable = True``
    (those views narrow their queryset to the owner's keys)."""

    message = "Your role does not allow this request."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        roles = user_roles(user)
        if Role.GRC in roles:
            return True
        if request.method not in SAFE_METHODS:
            return False
        if Role.AUDITOR in roles:
            return True
        return Role.KEY_OWNER in roles and getattr(view, "key_owner_readable", False)


class ApiGrcPermission(BasePermission):
    """GRC only, reads included (imports: the files and their plans are working material of GRC)."""

    message = "Only GRC staff may use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and Role.GRC in user_roles(user))


class ApiAnyRolePermission(BasePermission):
    """Read-only access for any of the three roles (the OpenAPI schema and Swagger UI)."""

    message = "Your role does not allow this request."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS and bool(user_roles(request.user))
