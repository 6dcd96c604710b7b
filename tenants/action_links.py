"""Links in e-mails and chat messages that act for one person on one object (acknowledge an
alert, approve a statement) without signing in.

``SIGAP_PUBLIC_URL/act/<tenant id>/<token>/`` opens a page (``tenants.views.action_link``):

- **GET changes nothing**: mail scanners and link previews open links; the page shows what the
  link does and a form (with the kind's extra ``fields``) whose POST acts;
- **single-use**: the POST marks the link used in the same transaction as the work (a conditional
  ``UPDATE ... WHERE used_at IS NULL``), so two POSTs act once;
- **expiring**: ``issue`` is given a ``ttl``; an expired link answers like an unknown one;
- **bound**: to one user and one target row (``app_label.Model`` and id) of the link's tenant;
  ``perform`` runs as that user, through the normal service, and may refuse (a role that lost
  the capability) with a ``ValidationError``;
- **never stored or logged**: the token is 32 random bytes; only its SHA-256 is stored, and the
  request log writes the path with the token replaced (``config.request_context``).

API::

    register(kind, *, label, perform, fields=())   # from an AppConfig.ready()
    issue(kind=..., user=..., target=..., ttl=timedelta(hours=24)) -> absolute URL

``perform(user, target, data) -> str`` returns the confirmation text shown on the page;
``fields`` names extra form fields (text) whose values arrive in ``data``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tenants.models import ActionLink, User

Perform = Callable[[Any, Any, dict[str, str]], str]


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any  # a (lazy) translated text
    perform: Perform
    fields: tuple[str, ...] = ()


_KINDS: dict[str, Kind] = {}


def register(kind: str, *, label: Any, perform: Perform, fields: Sequence[str] = ()) -> Kind:
    """Declare what links of ``kind`` do. Registering a kind again replaces it."""
    _KINDS[kind] = Kind(kind, label, perform, tuple(fields))
    return _KINDS[kind]


def kind_of(name: str) -> Kind | None:
    return _KINDS.get(name)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(*, kind: str, user: User, target: Any, ttl: timedelta) -> str:
    """A new link for ``user`` to do ``kind`` on ``target`` (a row of a tenant), valid for
    ``ttl``; returns its absolute URL. Call it inside the transaction that sends the message."""
    if kind not in _KINDS:
        raise LookupError(f"no action-link kind {kind!r} is registered")
    token = secrets.token_urlsafe(32)
    ActionLink.objects.create(
        tenant_id=target.tenant_id,
        kind=kind,
        user=user,
        target_model=target._meta.label,
        target_id=target.pk,
        token_hash=hash_token(token),
        expires_at=timezone.now() + ttl,
    )
    path = reverse("action-link", kwargs={"tenant_id": target.tenant_id, "token": token})
    return settings.SIGAP_PUBLIC_URL + path


def find(tenant_id: int, token: str) -> ActionLink | None:
    """The usable link of this token (unused, unexpired, of a known kind), or None."""
    link = (
        ActionLink.objects.for_tenant(tenant_id)
        .select_related("user", "tenant")
        .filter(token_hash=hash_token(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if link is None or link.kind not in _KINDS or not link.user.is_active:
        return None
    return link


def target_of(link: ActionLink) -> Any:
    """The link's target row, read in the link's tenant (None once deleted)."""
    model = apps.get_model(link.target_model)
    return model._default_manager.for_tenant(link.tenant_id).filter(pk=link.target_id).first()


@transaction.atomic
def use(link: ActionLink, data: dict[str, str]) -> str | None:
    """Mark the link used and do its work, together; None when it was used meanwhile."""
    claimed = (
        ActionLink.objects.for_tenant(link.tenant_id)
        .filter(pk=link.pk, used_at__isnull=True, expires_at__gt=timezone.now())
        .update(used_at=timezone.now())
    )
    if not claimed:
        return None
    target = target_of(link)
    if target is None:
        return None
    kind = _KINDS[link.kind]
    return kind.perform(link.user, target, {name: data.get(name, "") for name in kind.fields})
