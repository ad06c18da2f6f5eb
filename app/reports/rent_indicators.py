"""Programme indicators on rent accounts and eviction prevention: arrears at entry, exit and
period end, repayment plans, procedure stages, glissed leases, and the arrears trend."""

from __future__ import annotations

from sqlalchemy import and_, case, func, select

from app.housing.models import (
    Occupancy,
    ProcedureStage,
    ProcedureStageKind,
    RentAccountSnapshot,
    RepaymentPlan,
    RepaymentPlanStatus,
)
from app.reports.figures import (
    JUDICIAL_STAGES,
    ChartSeries,
    Figure,
    Period,
    Section,
    Statements,
    _percent,
    _supported_ids,
)
from app.reports.sql import sum_if
from app.sql import month_floor
from app.support.models import ExitReason


def _picked_snapshot(people, condition, *, latest: bool):
    """Id of the first (or latest) snapshot of the household of the current ``people`` row
    matching ``condition(snapshots, people)``: a correlated ``ORDER BY … LIMIT 1`` on the
    household's leases (index on ``occupancy.household_id``, then ``(occupancy_id, month)``).

    A ``ROW_NUMBER()`` window over the scope's snapshots joined to ``people`` made PostgreSQL
    estimate one row per side and re-run the window in a nested loop for each exited
    household (53 s on the national data); this is a few index probes per household."""
    snapshot = RentAccountSnapshot.__table__
    order = (
        (snapshot.c.month.desc(), snapshot.c.occupancy_id.desc(), snapshot.c.id.desc())
        if latest
        else (snapshot.c.month.asc(), snapshot.c.occupancy_id.asc(), snapshot.c.id.asc())
    )
    return (
        select(snapshot.c.id)
        .join(Occupancy, Occupancy.id == snapshot.c.occupancy_id)
        .where(Occupancy.household_id == people.c.household_id, condition(snapshot, people))
        .order_by(*order)
        .limit(1)
        .correlate(people)
        .scalar_subquery()
    )


def prevention_parts(scope, supported, period: Period) -> list:
    """The rent and prevention figures of the households supported in the period
    (``supported``: a common table expression of their ids) and of the scope's leases: their
    rent accounts at the end of the period, repayment plans, procedure stages, glissed
    leases — one-row aggregates, to be joined side by side (``side_by_side``)."""
    households = select(supported.c.household_id)

    end_picked = (
        select(
            _picked_snapshot(supported, lambda s, p: s.c.month <= period.end, latest=True).label(
                "snapshot_id"
            )
        )
        .select_from(supported)
        .subquery()
    )
    at_end = RentAccountSnapshot.__table__.alias("at_end")
    accounts = (
        select(
            func.count().label("end_known"),
            sum_if(at_end.c.balance_cents > 0).label("end_in_arrears"),
            sum_if(at_end.c.balance_cents > 3 * at_end.c.amount_due_cents).label("end_over_3"),
            sum_if(at_end.c.balance_cents > 0, at_end.c.balance_cents).label("end_cents"),
        )
        .select_from(end_picked)
        .join(at_end, at_end.c.id == end_picked.c.snapshot_id)
        .subquery()
    )

    in_period = and_(RepaymentPlan.start_on >= period.start, RepaymentPlan.start_on <= period.end)
    plans = (
        select(
            sum_if(in_period).label("signed"),
            sum_if(
                and_(
                    RepaymentPlan.start_on <= period.end,
                    RepaymentPlan.status == RepaymentPlanStatus.EN_COURS,
                )
            ).label("running"),
            sum_if(
                and_(
                    in_period,
                    RepaymentPlan.status.in_(
                        [RepaymentPlanStatus.RESPECTE, RepaymentPlanStatus.SOLDE]
                    ),
                )
            ).label("kept"),
            sum_if(and_(in_period, RepaymentPlan.status == RepaymentPlanStatus.ROMPU)).label(
                "broken"
            ),
        )
        .join(Occupancy, Occupancy.id == RepaymentPlan.occupancy_id)
        .where(Occupancy.household_id.in_(households))
        .subquery()
    )

    # One row per household with procedure stages: its first judicial stage, and whether it
    # reached each counted stage in the period.
    stage_in_period = and_(
        ProcedureStage.occurred_on >= period.start, ProcedureStage.occurred_on <= period.end
    )

    def reached(stage: ProcedureStageKind):
        return func.max(
            case((and_(stage_in_period, ProcedureStage.stage == stage.value), 1), else_=0)
        )

    per_household = (
        select(
            func.min(
                case((ProcedureStage.stage.in_(JUDICIAL_STAGES), ProcedureStage.occurred_on))
            ).label("first_judicial_on"),
            reached(ProcedureStageKind.PROTOCOLE_COHESION).label("suspended"),
            reached(ProcedureStageKind.CLOTURE).label("closed"),
            reached(ProcedureStageKind.CONCOURS_FORCE_PUBLIQUE).label("police"),
        )
        .join(Occupancy, Occupancy.id == ProcedureStage.occupancy_id)
        .where(Occupancy.household_id.in_(households))
        .group_by(Occupancy.household_id)
        .subquery()
    )
    first_on = per_household.c.first_judicial_on
    procedures = select(
        sum_if(and_(first_on >= period.start, first_on <= period.end)).label("started"),
        func.coalesce(func.sum(per_household.c.suspended), 0).label("suspended"),
        func.coalesce(func.sum(per_household.c.closed), 0).label("closed"),
        func.coalesce(func.sum(per_household.c.police), 0).label("police"),
    ).subquery()

    glissed = (
        select(func.count().label("glissed"))
        .where(
            Occupancy.household_id.in_(scope),
            Occupancy.glissed_on >= period.start,
            Occupancy.glissed_on <= period.end,
        )
        .subquery()
    )

    return [accounts, plans, procedures, glissed]


def _arrears(exits, prevention) -> Section:
    """Arrears of the households that left in the period (``exits``: their rent accounts at
    entry and exit, both known) and of those supported at its end (``prevention_parts``)."""
    known_exits = [
        e for e in exits if e.entry_balance_cents is not None and e.exit_balance_cents is not None
    ]
    entry_debts = [e.entry_balance_cents for e in known_exits if e.entry_balance_cents > 0]
    exit_debts = [e.exit_balance_cents for e in known_exits if e.exit_balance_cents > 0]
    known, end_known = len(known_exits), int(prevention.end_known)
    over_3 = int(prevention.end_over_3)
    return Section(
        "impayes",
        "Impayés de loyer",
        [
            Figure(
                "arrears_exited_known",
                "Ménages sortis dont le compte est connu à l'entrée et à la sortie",
                known,
            ),
            Figure(
                "arrears_entry_count",
                "… en impayé à l'entrée",
                len(entry_debts),
                is_breakdown=True,
            ),
            Figure(
                "arrears_exit_count",
                "… en impayé à la sortie",
                len(exit_debts),
                is_breakdown=True,
            ),
            Figure(
                "arrears_entry_cents",
                "Dette totale à l'entrée",
                sum(entry_debts),
                "cents",
                base=known,
            ),
            Figure(
                "arrears_exit_cents",
                "Dette totale à la sortie",
                sum(exit_debts),
                "cents",
                base=known,
            ),
            Figure(
                "arrears_end_known",
                "Ménages accompagnés dont le compte est connu (fin de période)",
                end_known,
            ),
            Figure(
                "arrears_end_count",
                "… en impayé",
                int(prevention.end_in_arrears),
                is_breakdown=True,
            ),
            Figure(
                "arrears_over_3_count",
                "… avec plus de 3 mois d'impayé",
                over_3,
                is_breakdown=True,
            ),
            Figure(
                "arrears_over_3_share",
                "Part des ménages avec plus de 3 mois d'impayé",
                _percent(over_3, end_known),
                "percent",
                base=end_known,
            ),
        ],
        "Entrée : compte du mois d'entrée (ou le premier connu ensuite). Sortie : dernier compte "
        "connu du mois de sortie ou avant. Fin de période : dernier compte connu à cette date. "
        "Plus de 3 mois : dette supérieure à 3 fois le loyer et les charges du mois.",
    )


def _plans_and_procedures(exits, prevention) -> Section:
    """Repayment plans, procedure stages and glissed leases (``prevention_parts``), and the
    exits for eviction among the households that left in the period (``exits``)."""
    row = prevention
    evicted = sum(1 for e in exits if e.reason == ExitReason.EXPULSION.value)
    return Section(
        "prevention",
        "Plans d'apurement, procédures d'expulsion, glissements de bail",
        [
            Figure(
                "plans_signed",
                "Plans d'apurement signés dans la période",
                int(row.signed),
                is_breakdown=True,
            ),
            Figure(
                "plans_kept",
                "… dont respectés ou soldés (à ce jour)",
                int(row.kept),
                is_breakdown=True,
            ),
            Figure(
                "plans_broken",
                "… dont non respectés (à ce jour)",
                int(row.broken),
                is_breakdown=True,
            ),
            Figure(
                "plans_running",
                "Plans en cours (statut actuel, signés avant la fin de période)",
                int(row.running),
                is_breakdown=True,
            ),
            Figure(
                "procedures_started",
                "Procédures d'expulsion engagées",
                int(row.started),
                is_breakdown=True,
            ),
            Figure(
                "procedures_suspended",
                "Procédures suspendues par un protocole de cohésion sociale",
                int(row.suspended),
                is_breakdown=True,
            ),
            Figure(
                "procedures_closed",
                "Procédures closes (dette soldée ou abandon)",
                int(row.closed),
                is_breakdown=True,
            ),
            Figure(
                "procedures_police",
                "Concours de la force publique demandés",
                int(row.police),
                is_breakdown=True,
            ),
            Figure(
                "procedures_completed",
                "Expulsions (sorties pour expulsion)",
                evicted,
                is_breakdown=True,
            ),
            Figure("leases_glissed", "Baux glissés", int(row.glissed), is_breakdown=True),
        ],
        "Procédure engagée : première étape judiciaire (commandement de payer ou après) dans la "
        "période. Ménages accompagnés dans la période seulement.",
    )


def _arrears_trend_statement(scope, period: Period):
    """The rent accounts of the households supported in the period, summed by account month
    (grouped by the date itself: its ``YYYY-MM`` key is written in Python, on a dozen rows
    rather than on each account)."""
    supported = _supported_ids(scope, period)
    snapshot = RentAccountSnapshot.__table__
    return (
        select(
            snapshot.c.month,
            sum_if(snapshot.c.balance_cents > 0).label("households"),
            sum_if(snapshot.c.balance_cents > 0, snapshot.c.balance_cents).label("cents"),
        )
        .join(Occupancy, Occupancy.id == snapshot.c.occupancy_id)
        .where(
            Occupancy.household_id.in_(supported),
            snapshot.c.month >= month_floor(period.start),
            snapshot.c.month <= period.end,
        )
        .group_by(snapshot.c.month)
    )


def _arrears_trend(q: Statements) -> ChartSeries:
    by_month: dict[str, tuple[int, int]] = {}
    for month, households, cents in q.execute("arrears_trend", _arrears_trend_statement):
        key = f"{month:%Y-%m}"
        before = by_month.get(key, (0, 0))
        by_month[key] = (before[0] + int(households), before[1] + int(cents))
    return ChartSeries(
        "impayes",
        "Évolution des impayés (comptes de fin de mois)",
        ("Ménages en impayé", "Dette totale"),
        [(k, by_month.get(k, (0, 0))) for k in q.period.months()],
        ("count", "cents"),
    )
