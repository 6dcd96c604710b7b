"""The page an invitation link opens: ``/invitations/<id>/<token>/`` (``tenants.invitations``).

A GET shows what the invitation is and a form, and changes nothing (mail scanners and link
previews open links); only its POST accepts, through ``services.accept_invitation``, with a
password when the account is new or has none. Every link that does not work (unknown id, wrong
or other invitation's token, used, expired) answers the same 404 page. The answer is never
cached and sends no ``Referer`` onwards, and the log lines show the path without the token.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tenants import dbscope, i18n, invitations, services
from tenants.models import Invitation
from tenants.roles import Role


class PasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        return data


class JoinForm(forms.Form):
    """No fields: joining with an account that already has a password."""


@sensitive_post_parameters("password1", "password2")
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    found = Invitation.objects.select_related("tenant", "invited_by").filter(pk=pk).first()
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "hours": settings.SIGAP_INVITATION_TTL_HOURS,
    }
    if found is None or not invitations.check_token(found, token):
        return _page(request, {**context, "state": "invalid"}, status=404)
    # The token proved the link: the rest of the request may touch its tenant's rows.
    dbscope.set_entry_scope(dbscope.tenants([found.tenant_id]))
    account = invitations.account_for(found.email)
    i18n.activate(user=account, tenant=found.tenant)  # as the e-mail: the invited person's
    needs_password = account is None or not account.has_usable_password()
    can_join = account is None or services.may_join(account, found.tenant, found.role)
    context.update(
        tenant=found.tenant.name,
        email=found.email,
        role=Role(found.role).label,
        inviter=found.invited_by.email if found.invited_by else gettext("An administrator"),
        needs_password=needs_password,
    )
    if not can_join:
        return _cannot_join(request, context)
    form: forms.Form = (PasswordForm if needs_password else JoinForm)(
        request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.accept_invitation(
                invitation=found, password=form.cleaned_data.get("password1")
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "not_invitable":
                return _cannot_join(request, context)
            _add_errors(form, exc)
        else:
            staff = membership.user.is_staff
            return _page(request, {**context, "state": "joined", "staff": staff})
    status = 400 if form.errors else 200
    return _page(request, {**context, "state": "form", "form": form}, status=status)


def _cannot_join(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context = {**context, "state": "cannot_join", "cannot_join": services.CANNOT_JOIN}
    return _page(request, context, status=403)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error("password1" if name == "password" else None, errors)
    else:
        form.add_error(None, error)


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "tenants/invitation.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def action_link(request: HttpRequest, tenant_id: int, token: str) -> HttpResponse:
    """The page a link in a notification opens (``tenants.action_links``): GET shows what it
    does and a form, POST does it once. Every link that does not work answers the same 404."""
    from tenants import action_links

    # The tenant comes from the URL; the token is then checked inside that tenant only.
    dbscope.set_entry_scope(dbscope.tenants([tenant_id]))
    context: dict[str, Any] = {**admin.site.each_context(request)}
    link = action_links.find(tenant_id, token)
    target = action_links.target_of(link) if link is not None else None
    if link is None or target is None:
        return _action_page(request, {**context, "state": "invalid"}, status=404)
    i18n.activate(user=link.user, tenant=link.tenant)
    kind = action_links.kind_of(link.kind)
    assert kind is not None  # find() checked it
    context.update(
        label=kind.label,
        target=str(target),
        tenant=link.tenant.name,
        user=link.user.email,
        fields=kind.fields,
        expires=i18n.local_time(link.expires_at, tenant=link.tenant),
    )
    if request.method == "POST":
        data = {name: str(request.POST.get(name, ""))[:5000] for name in kind.fields}
        try:
            done = action_links.use(link, data)
        except ValidationError as exc:
            return _action_page(
                request, {**context, "state": "form", "errors": exc.messages}, status=400
            )
        if done is None:
            return _action_page(request, {**context, "state": "invalid"}, status=404)
        return _action_page(request, {**context, "state": "done", "done": done})
    return _action_page(request, {**context, "state": "form"})


def _action_page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "tenants/action_link.html", context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response
