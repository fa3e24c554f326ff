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


def _stage_conditions(as_of: date) -> dict:
    """Conditions on Ikm proving each stage was reached by `as_of`.

    Each is `ikm.id IN (uncorrelated subquery)`: the database builds every set once instead of
    probing per IKM, which keeps the count flat as the programme grows.
    """
    def ikm_with(*joins_and_filters, joins=()):
        query = select(Product.ikm_id).where(Product.deleted_at.is_(None))
        for model, on in joins:
            query = query.join(model, on)
        return Ikm.id.in_(query.where(*joins_and_filters))

    return {
        "trained": Ikm.cohort_id.in_(select(Cohort.id).where(Cohort.end_on <= as_of,
                                                             Cohort.deleted_at.is_(None))),
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
    in_funnel = or_(Ikm.status != "keluar", Ikm.left_on.is_(None), Ikm.left_on > as_of)
    counts = [func.count(Ikm.id).label("registered")] + [
        func.coalesce(func.sum(case((and_(in_funnel, cond), 1), else_=0)), 0).label(name)
        for name, cond in _stage_conditions(as_of).items()]
    per_kab = (select(Ikm.kabupaten_code, *counts)
               .where(Ikm.deleted_at.is_(None))
               .group_by(Ikm.kabupaten_code).subquery())
    query = (select(Kabupaten.code, Kabupaten.name, Kabupaten.target_ikm,
                    *[func.coalesce(per_kab.c[c], 0).label(c) for c in STAGE_COLUMNS])
             .outerjoin(per_kab, per_kab.c.kabupaten_code == Kabupaten.code)
             .order_by(Kabupaten.code))
    return [dict(row._mapping) for row in session.execute(query)]


def totals(rows: list[dict]) -> dict:
    """The programme-wide sums of `funnel_by_kabupaten` rows (target included)."""
    keys = ("target_ikm", *STAGE_COLUMNS)
    return {k: sum(int(r[k]) for r in rows) for k in keys}
