"""Programme headline figures: the pipeline per regency, counted in SQL from dated facts."""

from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from models import (
    Assessment,
    Cohort,
    ExportRecord,
    Ikm,
    Kabupaten,
    Product,
    RetailListing,
    ShortlistDecision,
    ShortlistMeeting,
)
from services import clock

STAGE_COLUMNS = ("registered", "trained", "upgraded", "in_retail", "assessed", "shortlisted",
                 "exporting")


def in_funnel(as_of: date):
    """Condition on Ikm: still in the funnel on `as_of`. An IKM with status keluar leaves it
    from its left_on date (DATA_MODEL.md); one marked keluar without a date has left at every
    cut-off (when is unknown, that it left is not)."""
    return or_(Ikm.status != "keluar", and_(Ikm.left_on.is_not(None), Ikm.left_on > as_of))


def finished_cohorts(as_of: date):
    """The ids of live cohorts whose training ended by `as_of` (cohort.end_on), as a subquery."""
    return select(Cohort.id).where(Cohort.end_on <= as_of, Cohort.deleted_at.is_(None))


def finished_cohort_of(session: Session, cohort_id: int | None, as_of: date) -> dict | None:
    """The cohort (id, name, end_on) if its training ended by `as_of`: its members are counted
    as trained, and moving one out of it (or taking it away) lowers "dilatih". None otherwise."""
    if cohort_id is None:
        return None
    row = session.execute(select(Cohort.id, Cohort.name, Cohort.end_on).where(
        Cohort.id == cohort_id, Cohort.id.in_(finished_cohorts(as_of)))).first()
    return dict(row._mapping) if row else None


def trained(as_of: date):
    """Condition on Ikm: "dilatih" on `as_of`, the programme's one definition, used by the
    overview, the cohort page and the Data IKM stage filter alike: a member of a cohort whose
    training ended by then, still in the funnel then (a leaver is not counted)."""
    return and_(in_funnel(as_of), Ikm.cohort_id.in_(finished_cohorts(as_of)))


def stage_conditions(as_of: date) -> dict:
    """Conditions on Ikm proving each stage was reached by `as_of` by an IKM still in the
    funnel then (a leaver drops out of every stage from the day it left).

    Each fact is `ikm.id IN (uncorrelated subquery)`: the database builds every set once
    instead of probing per IKM, which keeps the count flat as the programme grows.
    """
    funnel = in_funnel(as_of)

    def ikm_with(*joins_and_filters, joins=()):
        query = select(Product.ikm_id).where(Product.deleted_at.is_(None))
        for model, on in joins:
            query = query.join(model, on)
        return and_(funnel, Ikm.id.in_(query.where(*joins_and_filters)))

    return {
        "trained": trained(as_of),
        "upgraded": ikm_with(Product.packaging_upgraded_on <= as_of),
        "in_retail": ikm_with(
            RetailListing.listed_on <= as_of,
            or_(RetailListing.delisted_on.is_(None), RetailListing.delisted_on > as_of),
            joins=[(RetailListing, RetailListing.product_id == Product.id)]),
        "assessed": ikm_with(Assessment.assessed_on <= as_of,
                             joins=[(Assessment, Assessment.product_id == Product.id)]),
        "shortlisted": ikm_with(
            ShortlistDecision.decision == "shortlist", ShortlistMeeting.status == "closed",
            ShortlistMeeting.held_on <= as_of,
            joins=[(ShortlistDecision, ShortlistDecision.product_id == Product.id),
                   (ShortlistMeeting, ShortlistMeeting.id == ShortlistDecision.meeting_id)]),
        "exporting": ikm_with(ExportRecord.shipped_on <= as_of,
                              joins=[(ExportRecord, ExportRecord.product_id == Product.id)]),
    }


def funnel_by_kabupaten(session: Session, *, as_of: date | None = None) -> list[dict]:
    """One row per regency: its target and how many IKM reached each stage by `as_of`."""
    as_of = as_of or clock.today()
    counts = [func.count(Ikm.id).label("registered")] + [
        func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)
        for name, cond in stage_conditions(as_of).items()]
    per_kab = (select(Ikm.kabupaten_code, *counts)
               .where(Ikm.deleted_at.is_(None))
               .group_by(Ikm.kabupaten_code).subquery())
    query = (select(Kabupaten.code, Kabupaten.name, Kabupaten.target_ikm,
                    *[func.coalesce(per_kab.c[c], 0).label(c) for c in STAGE_COLUMNS])
             .outerjoin(per_kab, per_kab.c.kabupaten_code == Kabupaten.code)
             .order_by(Kabupaten.code))
    return [dict(row._mapping) for row in session.execute(query)]


def trained_count(session: Session, *, as_of: date | None = None,
                  kabupaten_code: str | None = None) -> int:
    """How many live IKM are "dilatih" (see `trained`) on `as_of`, in one regency or all."""
    as_of = as_of or clock.today()
    query = select(func.count(Ikm.id)).where(Ikm.deleted_at.is_(None), trained(as_of))
    if kabupaten_code:
        query = query.where(Ikm.kabupaten_code == kabupaten_code)
    return session.execute(query).scalar_one()


def totals(rows: list[dict]) -> dict:
    """The programme-wide sums of `funnel_by_kabupaten` rows (target included)."""
    keys = ("target_ikm", *STAGE_COLUMNS)
    return {k: sum(int(r[k]) for r in rows) for k in keys}


def quarter_before(day: date) -> date:
    """The same day one quarter (three months) earlier; the month's last day when that month is
    shorter (31 May -> 28 or 29 February)."""
    import calendar

    year, month = (day.year, day.month - 3) if day.month > 3 else (day.year - 1, day.month + 9)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
