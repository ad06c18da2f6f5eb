"""Programme indicators on rent accounts and eviction prevention: arrears at entry, exit and
period end, repayment plans, procedure stages, glissed leases, and the arrears trend."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from app.db import db
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
    _exits_in,
    _percent,
    _spans,
    _supported,
    _supported_ids,
)
from app.reports.sql import literal_date, sum_if
from app.sql import month_floor, month_key
from app.support.models import ExitReason


def _household_snapshots(scope):
    """Every rent-account snapshot with its household."""
    return (
        select(
            Occupancy.household_id,
            RentAccountSnapshot.month,
            RentAccountSnapshot.balance_cents,
            RentAccountSnapshot.amount_due_cents,
            RentAccountSnapshot.occupancy_id,
        )
        .join(Occupancy, Occupancy.id == RentAccountSnapshot.occupancy_id)
        .where(Occupancy.household_id.in_(scope))
    )


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


def _arrears(scope, period: Period) -> Section:
    spans = _spans(scope)
    exits, in_period = _exits_in(scope, period)
    exited = (
        select(exits.c.household_id, exits.c.exit_on, spans.c.entry_on)
        .join(spans, spans.c.household_id == exits.c.household_id)
        .where(in_period)
        .subquery()
    )
    # One pass over the exited households: the ids of both snapshots, then the two rows.
    picked = select(
        exited.c.household_id,
        _picked_snapshot(
            exited,
            lambda s, p: and_(s.c.month >= month_floor(p.c.entry_on), s.c.month <= p.c.exit_on),
            latest=False,
        ).label("entry_id"),
        _picked_snapshot(exited, lambda s, p: s.c.month <= p.c.exit_on, latest=True).label(
            "exit_id"
        ),
    ).subquery()
    at_entry = RentAccountSnapshot.__table__.alias("at_entry")
    at_exit = RentAccountSnapshot.__table__.alias("at_exit")
    entry_or_exit = (
        select(
            func.count().label("known"),
            sum_if(at_entry.c.balance_cents > 0).label("entry_in_arrears"),
            sum_if(at_entry.c.balance_cents > 0, at_entry.c.balance_cents).label("entry_cents"),
            sum_if(at_exit.c.balance_cents > 0).label("exit_in_arrears"),
            sum_if(at_exit.c.balance_cents > 0, at_exit.c.balance_cents).label("exit_cents"),
        )
        .select_from(picked)
        .join(at_entry, at_entry.c.id == picked.c.entry_id)
        .join(at_exit, at_exit.c.id == picked.c.exit_id)
    )
    supported = select(spans.c.household_id).where(_supported(spans, period)).subquery()
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
    end_row = db.session.execute(
        select(
            func.count().label("known"),
            sum_if(at_end.c.balance_cents > 0).label("in_arrears"),
            sum_if(at_end.c.balance_cents > 3 * at_end.c.amount_due_cents).label("over_3"),
            sum_if(at_end.c.balance_cents > 0, at_end.c.balance_cents).label("cents"),
        )
        .select_from(end_picked)
        .join(at_end, at_end.c.id == end_picked.c.snapshot_id)
    ).one()
    row = db.session.execute(entry_or_exit).one()
    known, end_known = int(row.known), int(end_row.known)
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
                int(row.entry_in_arrears),
                is_breakdown=True,
            ),
            Figure(
                "arrears_exit_count",
                "… en impayé à la sortie",
                int(row.exit_in_arrears),
                is_breakdown=True,
            ),
            Figure(
                "arrears_entry_cents",
                "Dette totale à l'entrée",
                int(row.entry_cents),
                "cents",
                base=known,
            ),
            Figure(
                "arrears_exit_cents",
                "Dette totale à la sortie",
                int(row.exit_cents),
                "cents",
                base=known,
            ),
            Figure(
                "arrears_end_known",
                "Ménages accompagnés dont le compte est connu (fin de période)",
                end_known,
            ),
            Figure("arrears_end_count", "… en impayé", int(end_row.in_arrears), is_breakdown=True),
            Figure(
                "arrears_over_3_count",
                "… avec plus de 3 mois d'impayé",
                int(end_row.over_3),
                is_breakdown=True,
            ),
            Figure(
                "arrears_over_3_share",
                "Part des ménages avec plus de 3 mois d'impayé",
                _percent(int(end_row.over_3), end_known),
                "percent",
                base=end_known,
            ),
        ],
        "Entrée : compte du mois d'entrée (ou le premier connu ensuite). Sortie : dernier compte "
        "connu du mois de sortie ou avant. Fin de période : dernier compte connu à cette date. "
        "Plus de 3 mois : dette supérieure à 3 fois le loyer et les charges du mois.",
    )


def _plans_and_procedures(scope, period: Period) -> Section:
    supported = _supported_ids(scope, period)
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
        .where(Occupancy.household_id.in_(supported))
    ).subquery()
    stages = (
        select(Occupancy.household_id, ProcedureStage.stage, ProcedureStage.occurred_on)
        .join(Occupancy, Occupancy.id == ProcedureStage.occupancy_id)
        .where(Occupancy.household_id.in_(supported))
        .subquery()
    )
    first_judicial = (
        select(stages.c.household_id, func.min(stages.c.occurred_on).label("first_on"))
        .where(stages.c.stage.in_(JUDICIAL_STAGES))
        .group_by(stages.c.household_id)
        .subquery()
    )
    stage_in_period = and_(stages.c.occurred_on >= period.start, stages.c.occurred_on <= period.end)

    def households_with(stage: ProcedureStageKind):
        return (
            select(func.count(func.distinct(stages.c.household_id)))
            .where(stage_in_period, stages.c.stage == stage.value)
            .scalar_subquery()
        )

    exits, exit_in_period = _exits_in(scope, period)
    glissed = (
        select(func.count())
        .where(
            Occupancy.household_id.in_(scope),
            Occupancy.glissed_on >= period.start,
            Occupancy.glissed_on <= period.end,
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            plans.c.signed,
            plans.c.running,
            plans.c.kept,
            plans.c.broken,
            select(func.count())
            .where(
                first_judicial.c.first_on >= period.start, first_judicial.c.first_on <= period.end
            )
            .scalar_subquery()
            .label("started"),
            households_with(ProcedureStageKind.PROTOCOLE_COHESION).label("suspended"),
            households_with(ProcedureStageKind.CLOTURE).label("closed"),
            households_with(ProcedureStageKind.CONCOURS_FORCE_PUBLIQUE).label("police"),
            select(func.count())
            .select_from(exits)
            .where(exit_in_period, exits.c.reason == ExitReason.EXPULSION.value)
            .scalar_subquery()
            .label("evicted"),
            glissed.label("glissed"),
        )
    ).one()
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
                int(row.evicted),
                is_breakdown=True,
            ),
            Figure("leases_glissed", "Baux glissés", int(row.glissed), is_breakdown=True),
        ],
        "Procédure engagée : première étape judiciaire (commandement de payer ou après) dans la "
        "période. Ménages accompagnés dans la période seulement.",
    )


def _arrears_trend(scope, period: Period) -> ChartSeries:
    supported = _supported_ids(scope, period)
    snapshots = _household_snapshots(scope).where(Occupancy.household_id.in_(supported)).subquery()
    key = month_key(snapshots.c.month)
    rows = db.session.execute(
        select(
            key,
            sum_if(snapshots.c.balance_cents > 0).label("households"),
            sum_if(snapshots.c.balance_cents > 0, snapshots.c.balance_cents).label("cents"),
        )
        .where(
            snapshots.c.month >= month_floor(literal_date(period.start)),
            snapshots.c.month <= period.end,
        )
        .group_by(key)
    ).all()
    by_month = {r[0]: (int(r.households), int(r.cents)) for r in rows}
    return ChartSeries(
        "impayes",
        "Évolution des impayés (comptes de fin de mois)",
        ("Ménages en impayé", "Dette totale"),
        [(k, by_month.get(k, (0, 0))) for k in period.months()],
        ("count", "cents"),
    )
