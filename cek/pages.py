"""What pages built on services share: the role set that reads everything, a read mixin that tells the template
whether the user may edit, loading the page's objects after the role check, turning a service's errors into form
errors, a service-backed form view, and safe "back to" redirects."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView

from cek.roles import Role, RoleRequiredMixin, is_grc

EVERYONE = (Role.GRC, Role.AUDITOR, Role.KEY_OWNER)


class LenientPages:
    """A junk or out-of-range ``?page=`` shows the first or last page instead of a 404."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()


class ReadMixin(RoleRequiredMixin):
    """Pages every role reads and GRC alone writes (policies, changes, evaluations): ``can_edit`` tells the template."""

    allowed_roles = EVERYONE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = is_grc(self.request.user)
        return context


class LoadsObjects:
    """Calls ``self.load()`` (which 404s for a missing object) after the role check of the mixin before it."""

    def dispatch(self, request, *args, **kwargs):
        self.load()
        return super().dispatch(request, *args, **kwargs)

    def load(self) -> None:
        raise NotImplementedError


def errors_to_form(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: under its field when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ServiceFormView(FormView):
    """A form whose valid data goes to a service (``perform``); the service's refusals re-render the form."""

    success_message = ""

    def perform(self, form):  # returns the saved object
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.saved = self.perform(form)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message.format(obj=self.saved))
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was saved: correct the fields marked below.")
        return super().form_invalid(form)

    def get_success_url(self) -> str:
        return self.saved.get_absolute_url()


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default
