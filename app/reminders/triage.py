"""The inbox's triage: filters by kind and household, grouping, pages, and the yearly
insurance certificates folded into one line per household.

Everything is read through ``my_reminders`` (addressed to the user, households they see).
Pages are cut in SQL (``PAGE_SIZE``), so an inbox of thousands of reminders stays bounded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, joinedload

from app.db import db
from app.households.models import Household
from app.households.queries import household_for_display
from app.reminders.models import INSURANCE_RULE, OPEN_STATUSES, Reminder
from app.reminders.queries import my_reminders, shown_on
from app.reminders.rules import OTHER_KINDS, RULES

PAGE_SIZE = 50
# At most this many households in the filter's list (the busiest first).
HOUSEHOLD_CHOICES_MAX = 300


def kind_labels() -> dict[str, str]:
    return {rule.code: rule.title for rule in RULES} | dict(OTHER_KINDS)


@dataclass
class Filters:
    kind: str | None = None
    household_id: int | None = None
    by_household: bool = False
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @property
    def is_filtered(self) -> bool:
        return self.kind is not None or self.household_id is not None

    def args(self, **changes) -> dict:
        """The query string of this view, with ``changes`` (for links and pages)."""
        values = {
            "type": self.kind,
            "menage": self.household_id,
            "grouper": "menage" if self.by_household else None,
            "page": self.page if self.page > 1 else None,
        } | changes
        return {key: value for key, value in values.items() if value not in (None, "")}


def _positive_int(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or len(text) > 9:
        return None
    return int(text) or None


def parse_filters(user, args) -> Filters:
    """Read ``type``, ``menage``, ``grouper`` and ``page``; a wrong value is dropped with a
    message in French (never an error page)."""
    filters = Filters(by_household=args.get("grouper") == "menage")
    kind = (args.get("type") or "").strip()
    if kind:
        if kind in kind_labels():
            filters.kind = kind
        else:
            filters.errors.append("Ce type de rappel n'existe pas : tous les types sont montrés.")
    household = (args.get("menage") or "").strip()
    if household:
        household_id = _positive_int(household)
        visible = household_id is not None and db.session.scalar(
            my_reminders(user)
            .where(Reminder.household_id == household_id)
            .with_only_columns(Reminder.id)
            .limit(1)
        )
        if visible:
            filters.household_id = household_id
        else:
            filters.errors.append(
                "Ce ménage n'a pas de rappel pour vous : tous les ménages sont montrés."
            )
    page = (args.get("page") or "").strip()
    if page:
        number = _positive_int(page)
        if number is None:
            filters.errors.append("Numéro de page invalide : la première page est montrée.")
        else:
            filters.page = number
    return filters


def _open(user):
    return my_reminders(user).where(Reminder.status.in_(OPEN_STATUSES))


def _same_insurance_line(other):
    """SQL: ``other`` is an open insurance reminder of the same household and addressee as
    the reminder of the row."""
    return and_(
        other.rule_code == INSURANCE_RULE,
        other.household_id == Reminder.household_id,
        other.status.in_(OPEN_STATUSES),
        other.id != Reminder.id,
        other.recipient_user_id.is_not_distinct_from(Reminder.recipient_user_id),
        other.recipient_role.is_not_distinct_from(Reminder.recipient_role),
        other.recipient_organisation_id.is_not_distinct_from(Reminder.recipient_organisation_id),
    )


def _folded(query):
    """Leave out the insurance reminders that a more recent one of the same household and
    addressee stands for."""
    newer = aliased(Reminder)
    hidden = (
        select(newer.id)
        .where(
            _same_insurance_line(newer),
            (newer.due_on > Reminder.due_on)
            | and_(newer.due_on == Reminder.due_on, newer.id > Reminder.id),
        )
        .exists()
    )
    return query.where((Reminder.rule_code != INSURANCE_RULE) | ~hidden)


def _filtered(user, filters: Filters):
    query = _open(user)
    if filters.kind is not None:
        query = query.where(Reminder.rule_code == filters.kind)
    if filters.household_id is not None:
        query = query.where(Reminder.household_id == filters.household_id)
    return _folded(query)


@dataclass
class Page:
    reminders: list[Reminder]
    total: int
    page: int
    older: dict[int, int]  # insurance line → how many older reminders it stands for
    overdue: int  # due before today, on every page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def inbox_page(user, filters: Filters, today: date) -> Page:
    query = _filtered(user, filters)
    counts = query.with_only_columns(
        func.count(Reminder.id), func.count(case((shown_on < today, 1)))
    ).order_by(None)
    total, overdue = db.session.execute(counts).one()
    pages = max(1, -(-total // PAGE_SIZE))
    filters.page = min(filters.page, pages)
    order = [shown_on, Reminder.id]
    if filters.by_household:
        query = query.outerjoin(Household, Household.id == Reminder.household_id)
        order = [Reminder.household_id.is_(None), Household.reference, *order]
    reminders = db.session.scalars(
        query.order_by(*order)
        .offset((filters.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .options(*household_for_display(joinedload(Reminder.household)))
    ).all()
    return Page(reminders, total, filters.page, _older_counts(reminders), overdue)


def _older_counts(reminders) -> dict[int, int]:
    lines = [r for r in reminders if r.rule_code == INSURANCE_RULE]
    if not lines:
        return {}
    older = aliased(Reminder)
    count = (
        select(func.count(older.id))
        .where(_same_insurance_line(older), older.due_on <= Reminder.due_on)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Reminder.id, count).where(Reminder.id.in_([r.id for r in lines]))
    )
    return {id_: n for id_, n in rows if n}


def older_insurance(reminder: Reminder) -> list[Reminder]:
    """The open insurance reminders of the same household and addressee due before
    ``reminder`` (closed with it: the latest certificate stands for the earlier ones)."""
    if reminder.rule_code != INSURANCE_RULE:
        return []
    return db.session.scalars(
        select(Reminder).where(
            Reminder.rule_code == INSURANCE_RULE,
            Reminder.household_id == reminder.household_id,
            Reminder.status.in_(OPEN_STATUSES),
            Reminder.id != reminder.id,
            Reminder.due_on <= reminder.due_on,
            Reminder.recipient_user_id.is_not_distinct_from(reminder.recipient_user_id),
            Reminder.recipient_role.is_not_distinct_from(reminder.recipient_role),
            Reminder.recipient_organisation_id.is_not_distinct_from(
                reminder.recipient_organisation_id
            ),
        )
    ).all()


def filter_choices(user) -> tuple[list[tuple[str, str, int]], list[tuple[int, str, int]]]:
    """The inbox's two filters, from one read of the kind and household of the user's open
    reminders (insurance counted once per household, as shown): the kinds ``(code, label,
    count)``, most frequent first, and the households ``(id, reference, count)`` by reference
    (``HOUSEHOLD_CHOICES_MAX`` at most). Counted here, not grouped in SQL: to group them,
    SQLite walked an index of every reminder of the country in its order (0.1–0.2 s per
    filter at 100,000 households), where this read takes the user's own reminders by their
    addressee's index (1 ms for a social worker, 20 ms for a large landlord's staff)."""
    rows = db.session.execute(
        _folded(_open(user))
        .with_only_columns(Reminder.rule_code, Reminder.household_id, Household.reference)
        .outerjoin(Household, Household.id == Reminder.household_id)
        .order_by(None)
    ).all()
    labels = kind_labels()
    kinds = sorted(
        ((code, labels.get(code, code), n) for code, n in Counter(r[0] for r in rows).items()),
        key=lambda row: (-row[2], row[1]),
    )
    per_household = Counter((r[1], r[2]) for r in rows if r[1] is not None)
    households = sorted(
        ((household_id, reference, n) for (household_id, reference), n in per_household.items()),
        key=lambda row: row[1],
    )
    return kinds, households[:HOUSEHOLD_CHOICES_MAX]


def group_by_household(reminders) -> list[tuple[str, str, list[Reminder]]]:
    """``(anchor, heading, reminders)`` per household, in the order of ``reminders``."""
    groups: dict[int | None, list[Reminder]] = {}
    for reminder in reminders:
        groups.setdefault(reminder.household_id, []).append(reminder)
    result = []
    for household_id, items in groups.items():
        if household_id is None:
            result.append(("sans-menage", "Sans ménage (avis)", items))
        else:
            household = items[0].household
            heading = f"Ménage {household.reference} · {household.display_name}"
            result.append((f"menage-{household_id}", heading, items))
    return result
