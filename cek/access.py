"""Login enforcement and auditor access expiry."""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.utils import timezone


def access_expired(user) -> bool:
    """True when the user's access limit (``cek.UserAccess``) has passed."""
    try:
        access = user.access
    except ObjectDoesNotExist:
        return False
    return access.is_expired(now=timezone.now())


class ExpiringAccessBackend(ModelBackend):
    """ModelBackend that refuses accounts whose access has expired, at login and on every request
    (``get_user`` runs ``user_can_authenticate``), so an expired auditor's session ends by itself."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        """ModelBackend's check, plus two things it cannot do: note on the request that the password was right
        but the access has ended (the login form says so, without hashing the password a second time: a
        second hash only for existing usernames is what let a guesser tell them apart by timing), and keep the
        user's API tokens when Django re-encodes the same password with a stronger hasher."""
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.select_related("access").get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            # Hash once anyway, as for an existing username, so both answers take as long.
            user_model().set_password(password)
            return None
        encoded_before = user.password
        if not user.check_password(password):
            return None
        if user.password != encoded_before:
            from cek.apitokens import api_tokens_follow_rehash  # cek.apitokens imports this module

            api_tokens_follow_rehash(user=user, encoded_before=encoded_before)
        if self.user_can_authenticate(user):
            return user
        if request is not None and user.is_active and access_expired(user):
            request.cek_access_ended_at = user.access.expires_at
        return None

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not access_expired(user)

    def get_user(self, user_id):
        """The session's user, with its access limit and its groups (its roles for this request) in the same
        query: read on every request, so a role given or taken away counts from the next one."""
        from cek.roles import remember_group_names  # cek.roles imports DRF, which reads settings

        user_model = get_user_model()
        try:
            user = _session_users().get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        remember_group_names(user, user.cek_group_names)
        return user if self.user_can_authenticate(user) else None


@lru_cache(maxsize=1)
def _session_users() -> QuerySet:
    """Users with their access limit and group names: built once (its subquery and join take longer to build than
    the query takes to run), never evaluated itself: ``get()`` runs a copy."""
    from cek.roles import group_names

    return get_user_model()._default_manager.select_related("access").annotate(cek_group_names=group_names())


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page requires login. The API (``/api/``) answers 401/403 as JSON through DRF instead of
    redirecting to the login page, so it is left to DRF's own authentication."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
