"""The admin's overview pages and what feature apps put on them (docs/admin.md).

``tenants`` owns the pages (the tenant start page and the agency page, ``tenants.admin``) but
knows no feature app: each app registers what it shows, in its ``AppConfig.ready``:

- a **panel** for the tenant start page: ``register_panel(name, order=..., provider=f)`` where
  ``f(*, tenant, now)`` returns a ``Panel`` (a title, a template of the app and its context)
  or None to show nothing. Panels appear by ``order``, then name.
- **open items** (alerts, incidents ...): ``register_items(name, provider=f)`` where
  ``f(*, tenants, now)`` returns the open ``Item``s of those tenants (a sequence of ``Tenant``
  rows, all of which the viewer may see). The tenant start page lists its tenant's items, the
  agency page those of every tenant of the agency the viewer may see; both sort them by
  severity (highest first), then age (oldest first).
- **columns** of the agency page's tenant table: ``register_columns(name, order=...,
  provider=f)`` where ``f(*, tenants, now)`` returns ``Column``s (a title and a cell per
  tenant id each), read for all the tenants at once.

A provider reads through its app's selectors, pinning the tenant (``for_tenant``) and walking an
index; the pages' query counts are pinned in tests. Providers run in the request's database
scope (the admin's, ``tenants.admin_mixins.admin_scope``) and must not widen it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tenants.models import Tenant

# Severity levels of open items, lowest first: an item's ``severity`` is an index into this
# tuple. They are the names (and colours) of the mention risk bands (docs/scoring.md).
SEVERITY_LEVELS = ("low", "elevated", "high", "critical")


def severity_level(severity: str) -> int:
    """The level (an index of ``SEVERITY_LEVELS``) of an incident or alert severity: SEV1 is
    critical ... SEV4 low; blank (not decided) is low."""
    return {"sev1": 3, "sev2": 2, "sev3": 1}.get(severity, 0)


@dataclass(frozen=True, kw_only=True)
class Panel:
    """A block of the tenant start page: ``template`` is rendered with ``context`` (plus
    ``tenant`` and ``now``); ``css`` names static files the block needs; a ``wide`` panel takes
    the page's whole width."""

    title: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    css: tuple[str, ...] = ()
    wide: bool = False


@dataclass(frozen=True, kw_only=True)
class Item:
    """An open thing someone must act on, e.g. an alert or an incident.

    ``severity`` indexes ``SEVERITY_LEVELS`` (0 low ... 3 critical); ``severity_label`` is how the
    item's app names it (e.g. "SEV1"); ``opened_at`` is when it opened (its age); ``url`` leads to
    it (the admin's change page, usually)."""

    tenant_id: int
    kind: str
    title: str
    severity: int
    severity_label: str
    opened_at: datetime
    url: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.severity < len(SEVERITY_LEVELS):
            raise ValueError(f"severity {self.severity}: 0 to {len(SEVERITY_LEVELS) - 1}")

    @property
    def level(self) -> str:
        """The severity's name (the CSS class of its colour)."""
        return SEVERITY_LEVELS[self.severity]


@dataclass(frozen=True, kw_only=True)
class Column:
    """A column of the agency page's tenant table: ``cells`` by tenant id (missing: empty);
    ``css`` by tenant id, a class for the cell (e.g. a severity level's)."""

    title: str
    cells: Mapping[int, Any]
    css: Mapping[int, str] = field(default_factory=dict)


class PanelProvider(Protocol):
    def __call__(self, *, tenant: Tenant, now: datetime) -> Panel | None: ...


class ItemProvider(Protocol):
    def __call__(self, *, tenants: Sequence[Tenant], now: datetime) -> Iterable[Item]: ...


class ColumnProvider(Protocol):
    def __call__(self, *, tenants: Sequence[Tenant], now: datetime) -> Sequence[Column]: ...


@dataclass(frozen=True)
class _Registered:
    order: int
    name: str
    provider: Callable[..., Any]


_panels: dict[str, _Registered] = {}
_items: dict[str, _Registered] = {}
_columns: dict[str, _Registered] = {}


def register_panel(name: str, *, order: int, provider: PanelProvider) -> None:
    """Add (or replace) the start page's panel ``name``."""
    _panels[name] = _Registered(order, name, provider)


def register_items(name: str, *, provider: ItemProvider, order: int = 0) -> None:
    """Add (or replace) the source of open items ``name`` (e.g. ``"alerts"``)."""
    _items[name] = _Registered(order, name, provider)


def register_columns(name: str, *, order: int, provider: ColumnProvider) -> None:
    """Add (or replace) the agency page's tenant columns ``name``."""
    _columns[name] = _Registered(order, name, provider)


def unregister(name: str) -> None:
    """Remove a panel, item source or column (tests)."""
    _panels.pop(name, None)
    _items.pop(name, None)
    _columns.pop(name, None)


def item_sources() -> list[str]:
    """The names of the registered item sources."""
    return [entry.name for entry in sorted(_items.values(), key=_position)]


def tenant_panels(*, tenant: Tenant, now: datetime) -> list[Panel]:
    """The start page's panels for ``tenant``, in order."""
    found = []
    for entry in sorted(_panels.values(), key=_position):
        panel = entry.provider(tenant=tenant, now=now)
        if panel is not None:
            found.append(panel)
    return found


def tenant_columns(*, tenants: Sequence[Tenant], now: datetime) -> list[Column]:
    """The agency page's tenant columns, in order (none without tenants)."""
    if not tenants:
        return []
    found: list[Column] = []
    for entry in sorted(_columns.values(), key=_position):
        found.extend(entry.provider(tenants=tenants, now=now))
    return found


def open_items(*, tenants: Sequence[Tenant], now: datetime) -> list[Item]:
    """Every source's open items of ``tenants``: most severe first, then oldest first."""
    if not tenants:
        return []
    allowed = {tenant.pk for tenant in tenants}
    found: list[Item] = []
    for entry in sorted(_items.values(), key=_position):
        found.extend(
            item for item in entry.provider(tenants=tenants, now=now) if item.tenant_id in allowed
        )
    found.sort(key=lambda item: (-item.severity, item.opened_at, item.kind, item.title))
    return found


def _position(entry: _Registered) -> tuple[int, str]:
    return entry.order, entry.name
