"""What the household file shows from other domains: tabs, header badges, header values and
timeline events, registered at application start by the domains that own the data.

The household domain sits below housing, support, partners, interventions, reminders,
reports… (docs/development.md, "Layering"): it imports none of them. Each of them has a
``file.py`` with ``register(registry)``, called once by ``create_app`` (``FILE_CONTRIBUTIONS``
in ``app/__init__.py``), e.g. in ``app/partners/file.py``::

    def register(registry):
        registry.add_tab(40, "partners.household", "Partenaires")
        registry.add_timeline_branches(
            50, "partners", timeline.partner_branches, timeline.partner_events
        )

``order`` numbers fix where an entry goes whatever the import order (ties by name). The
timeline's records of every domain are read in one query (``app.households.timeline``: each
domain gives the branches this viewer may read, then turns its rows into events); header
providers issue a fixed number of queries (never one per event) and return only what the
viewer may see; records several of them need come through ``loaded_once``, and what the
timeline read that the header needs through ``remember`` / ``loaded_earlier``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from flask import current_app, has_app_context, request, url_for

from app.permissions import Permission, has_permission

EXTENSION = "household_file"


@dataclass(frozen=True)
class TimelineEvent:
    """One dated entry of the household's path, already filtered for its viewer.

    ``kind`` picks the colour and icon (path, social, housing, partner, review, reminder,
    alert); ``icon`` names an inline SVG of templates/_macros/ui.html (``icon()``: "home",
    "phone", "check"…; never an emoji, which may show as an empty box); ``detail`` is the
    expandable text, ``None`` when there is nothing more to show. ``record`` names the record
    the event shows (``("intervention", id)``, ``("occupancy", id)``): the documents linked
    to it are then listed under the event (``attachments``: ``(title, url)`` pairs, filled by
    ``household_timeline`` from the ``timeline_documents`` service).
    """

    on: date
    kind: str
    title: str
    summary: str = ""
    detail: str | None = None
    author: str | None = None
    at: datetime | None = None
    icon: str = "dot"
    link: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    record: tuple[str, int] | None = None
    attachments: tuple[tuple[str, str], ...] = ()

    @property
    def sort_key(self):
        return (self.on, self.at.timestamp() if self.at else 0)


# ``(household, viewer) -> [Branch, …]``: the records to read, for this viewer (see
# ``app.households.timeline``); ``(household, viewer, rows) -> events``: what they show,
# ``rows`` being ``{branch kind: [row, …]}`` for every branch of every domain.
BranchesSource = Callable[[Any, object], Iterable[Any]]
EventsBuilder = Callable[[Any, object, dict], Iterable[TimelineEvent]]
# ``(household, viewer) -> [(label, tone), …]``; tone: neutral, info, success, warning, danger.
BadgeSource = Callable[[Any, object], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class TabEntry:
    """A tab of the file: shown once ``endpoint`` (taking ``household_id``) is registered and
    the viewer holds ``permission`` (``None``: everyone who sees the file)."""

    order: int
    endpoint: str
    label: str
    permission: Permission | None = None


@dataclass
class FileRegistry:
    """The contributions of every domain, one registry per application."""

    tabs: tuple[TabEntry, ...] = ()
    badges: tuple[tuple[int, str, BadgeSource], ...] = ()
    timeline_branches: tuple[tuple[int, str, BranchesSource, EventsBuilder], ...] = ()
    header_branches: tuple[tuple[int, str, BranchesSource, Callable], ...] = ()
    header_values: dict[str, Callable[[Any, object], Any]] = field(default_factory=dict)
    services: dict[str, Callable] = field(default_factory=dict)

    def add_tab(self, order: int, endpoint: str, label: str, permission=None) -> None:
        entry = TabEntry(order, endpoint, label, permission)
        self.tabs = tuple(sorted((*self.tabs, entry), key=lambda t: (t.order, t.endpoint)))

    def add_badge(self, order: int, name: str, source: BadgeSource) -> None:
        self.badges = tuple(sorted((*self.badges, (order, name, source)), key=_by_order))

    def add_timeline_branches(
        self, order: int, name: str, branches: BranchesSource, events: EventsBuilder
    ) -> None:
        """A domain's records on the timeline, read with every other domain's in the page's
        one query (``app.households.timeline``): ``branches(household, viewer)`` gives the
        ``Branch`` es this viewer may read, ``events(household, viewer, rows)`` the events."""
        entries = (*self.timeline_branches, (order, name, branches, events))
        self.timeline_branches = tuple(sorted(entries, key=_by_order))

    def add_header_branches(
        self, order: int, name: str, branches: BranchesSource, keep: Callable
    ) -> None:
        """What a domain's header badges need, on the pages without the timeline (whose query
        reads it there): ``branches(household, viewer)`` read with the other domains' in one
        query, then ``keep(household, viewer, rows)`` keeps it for the badges (``remember``)."""
        entries = (*self.header_branches, (order, name, branches, keep))
        self.header_branches = tuple(sorted(entries, key=_by_order))

    def add_header_value(self, name: str, source: Callable[[Any, object], Any]) -> None:
        """A value of the header card, e.g. ``occupancy`` (the lease shown under
        "Logement"): ``header.values[name]``, ``None`` when no domain provides it."""
        if name in self.header_values:
            raise ValueError(f"header value {name!r} registered twice")
        self.header_values[name] = source

    def provide(self, name: str, service: Callable) -> None:
        """A function of an upper domain the household pages call when it is there (see
        ``provided``): ``intensity_choices`` (support's configured levels, for the diagnostic),
        ``due_for_anonymisation`` (retention's rule, for the list's filter and flag),
        ``resolve_contact_reminders`` (reminders, called when a visit is recorded),
        ``intervention_saved`` (reminders: a visit's next action as a reminder),
        ``resolve_insurance_reminders`` (reminders, called when an insurance certificate with
        its validity end is uploaded to the documents), ``timeline_documents`` (documents:
        the documents the viewer sees linked to the timeline's records, in one query),
        ``visit_documents`` (documents: the visit form's "join a document" part),
        ``intensity_name_branch`` (support: the levels' names as a timeline branch, for the
        diagnostic's recommended intensity),
        ``insurance_on_file`` (documents: the landlord dashboard's current insurance
        certificates, in one query for the page)."""
        if name in self.services:
            raise ValueError(f"service {name!r} provided twice")
        self.services[name] = service


def provided(name: str) -> Callable | None:
    """The function an upper domain provided under ``name``, or ``None`` (no application, or
    that domain is not installed): the household pages then go without it."""
    if not has_app_context() or EXTENSION not in current_app.extensions:
        return None
    return registry().services.get(name)


def _by_order(entry):
    return entry[:2]


def registry() -> FileRegistry:
    """The current application's registry (built by ``create_app``)."""
    return current_app.extensions[EXTENSION]


# --- loads shared by the pieces of one file page -------------------------------------------

T = TypeVar("T")
_page_loads: ContextVar[dict | None] = ContextVar("household_file_page_loads", default=None)


@contextmanager
def file_page_loads() -> Iterator[None]:
    """While one page of the household file is built (timeline and header), records that
    several providers need — the household's leases, their procedure stages — are loaded
    once and shared: see ``loaded_once``. Outside this block every call loads afresh, so a
    page that changes data and reads it again never sees an old copy."""
    token = _page_loads.set({})
    try:
        yield
    finally:
        _page_loads.reset(token)


def loaded_once(key: tuple, load: Callable[[], T]) -> T:
    """``load()``, or its result from earlier in the same ``file_page_loads`` block. ``key``
    names everything the result depends on (the household, and the viewer when the load is
    scoped to them)."""
    memo = _page_loads.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def remember(key: tuple, value) -> None:
    """Keep ``value`` under ``key`` for the rest of this page (``loaded_earlier``), e.g. what
    a timeline builder read that the header needs too; nothing outside a page block."""
    memo = _page_loads.get()
    if memo is not None:
        memo[key] = value


def loaded_earlier(key: tuple):
    """What ``loaded_once`` loaded under ``key`` earlier on this page, or ``None``: for a
    reader that needs only a figure out of those records and otherwise asks SQL for it."""
    memo = _page_loads.get()
    return memo.get(key) if memo is not None else None


# --- what the file shows -------------------------------------------------------------------


def household_timeline(household, viewer) -> list[TimelineEvent]:
    """Every source's events for this viewer, newest first (sources in their order for
    events of the same moment). The domains' branches are read in one query."""
    sources = registry().timeline_branches
    rows = _rows_of(sources, household, viewer)
    remember(_timeline_read(household, viewer), True)  # the header's badges need no more
    events = [event for _, _, _, build in sources for event in build(household, viewer, rows)]
    events = _with_attachments(household, viewer, events)
    return sorted(events, key=lambda e: e.sort_key, reverse=True)


def _rows_of(sources, household, viewer) -> dict:
    """The rows of every source's branches for this viewer, in one query."""
    from app.households.timeline import timeline_rows

    return timeline_rows(b for _, _, branches, _ in sources for b in branches(household, viewer))


def _timeline_read(household, viewer) -> tuple:
    return ("timeline_read", household.id, viewer.id)


def _read_for_the_header(household, viewer) -> None:
    """On a page without the timeline, what the header's badges need, in one query."""
    if loaded_earlier(_timeline_read(household, viewer)):
        return
    sources = registry().header_branches
    rows = _rows_of(sources, household, viewer)
    for _, _, _, keep in sources:
        keep(household, viewer, rows)


def _with_attachments(household, viewer, events: list[TimelineEvent]) -> list[TimelineEvent]:
    """The events with the documents linked to their records, read once for the whole page
    (``timeline_documents``: ``{record: [(title, url), …]}``, the viewer's visible ones)."""
    attached = provided("timeline_documents")
    records = {event.record for event in events if event.record is not None}
    if attached is None or not records:
        return events
    found = attached(household, viewer, records)
    return [
        replace(event, attachments=tuple(found[event.record])) if event.record in found else event
        for event in events
    ]


@dataclass(frozen=True)
class FileTab:
    label: str
    url: str
    is_current: bool


@dataclass(frozen=True)
class FileHeader:
    household: Any
    values: dict[str, Any]
    alerts: list[tuple[str, str]]
    tabs: list[FileTab]

    @property
    def occupancy(self):
        """The lease the viewer may see (housing's ``occupancy`` header value)."""
        return self.values.get("occupancy")


def file_tabs(household, viewer) -> list[FileTab]:
    current = request.endpoint if request else None
    tabs = []
    for tab in registry().tabs:
        if tab.endpoint not in current_app.view_functions:
            continue
        if tab.permission is not None and not has_permission(viewer, tab.permission):
            continue
        tabs.append(
            FileTab(
                tab.label,
                url_for(tab.endpoint, household_id=household.id),
                is_current=current == tab.endpoint,
            )
        )
    return tabs


def header_alerts(household, viewer) -> list[tuple[str, str]]:
    return [alert for _, _, source in registry().badges for alert in source(household, viewer)]


def file_header(household, viewer) -> FileHeader:
    """Everything ``households/_file_layout.html`` shows above the tabs. Its providers share
    the records several of them read (the leases, their stages: ``loaded_once``), also on
    the pages that did not open a ``file_page_loads`` block: the header is built once the
    page's own writes are done."""
    current = registry()
    shared = file_page_loads() if _page_loads.get() is None else nullcontext()
    with shared:
        _read_for_the_header(household, viewer)
        return FileHeader(
            household=household,
            values={
                name: source(household, viewer) for name, source in current.header_values.items()
            },
            alerts=header_alerts(household, viewer),
            tabs=file_tabs(household, viewer),
        )
