"""The trash: soft-deleted IKM, products and cohorts, and their restore (admins only, audited)."""

from sqlalchemy import select
from sqlmodel import Session

from models import Cohort, Ikm, Product, utcnow
from services import audit
from services.errors import ServiceError, ValidationFailed
from services.permissions import Actor, require
from services.writes import as_id, flush

KINDS = ("ikm", "product", "cohort")


def trash(session: Session, *, limit: int = 1000) -> list[dict]:
    """Everything in the trash, newest deletion first: kind, id, name, deleted_at, updated_by
    (who deleted it), plus the regency and, for products, the IKM's name."""
    ikm = session.execute(
        select(Ikm.id, Ikm.name, Ikm.deleted_at, Ikm.updated_by, Ikm.kabupaten_code)
        .where(Ikm.deleted_at.is_not(None)).order_by(Ikm.deleted_at.desc()).limit(limit))
    products = session.execute(
        select(Product.id, Product.name, Product.deleted_at, Product.updated_by,
               Ikm.kabupaten_code, Ikm.name.label("ikm_name"), Ikm.id.label("ikm_id"))
        .join(Ikm, Ikm.id == Product.ikm_id)
        .where(Product.deleted_at.is_not(None)).order_by(Product.deleted_at.desc()).limit(limit))
    cohorts = session.execute(
        select(Cohort.id, Cohort.name, Cohort.deleted_at, Cohort.updated_by, Cohort.kabupaten_code)
        .where(Cohort.deleted_at.is_not(None)).order_by(Cohort.deleted_at.desc()).limit(limit))
    rows = [{"kind": "ikm", **r._mapping} for r in ikm]
    rows += [{"kind": "product", **r._mapping} for r in products]
    rows += [{"kind": "cohort", **r._mapping} for r in cohorts]
    rows.sort(key=lambda r: (r["deleted_at"], r["kind"], r["id"]), reverse=True)
    return rows[:limit]


def _check_ikm(session: Session, row: Ikm) -> None:
    if row.nib and session.execute(select(Ikm.id).where(
            Ikm.nib == row.nib, Ikm.id != row.id, Ikm.deleted_at.is_(None))).first():
        raise ValidationFailed("err.validation", errors={"nib": ["v.nib_taken"]})
    if row.cohort_id is not None:
        cohort = session.get(Cohort, row.cohort_id)
        if cohort is None or cohort.deleted_at is not None:
            raise ValidationFailed("err.validation", errors={"cohort_id": ["trash.cohort_deleted"]})


def _check_product(session: Session, row: Product) -> None:
    parent = session.get(Ikm, row.ikm_id)
    if parent is None or parent.deleted_at is not None:
        raise ValidationFailed("err.validation", errors={"ikm_id": ["trash.parent_deleted"]})
    names = session.execute(select(Product.name).where(
        Product.ikm_id == row.ikm_id, Product.id != row.id,
        Product.deleted_at.is_(None))).scalars()
    if row.name.casefold() in {n.casefold() for n in names}:
        raise ValidationFailed("err.validation", errors={"name": ["rec.product_exists"]})


def _check_cohort(session: Session, row: Cohort) -> None:
    names = session.execute(select(Cohort.name).where(
        Cohort.kabupaten_code == row.kabupaten_code, Cohort.id != row.id,
        Cohort.deleted_at.is_(None))).scalars()
    if row.name.casefold() in {n.casefold() for n in names}:
        raise ValidationFailed("err.validation", errors={"name": ["coh.name_exists"]})


def restore(session: Session, *, actor: Actor, kind: str, row_id: int):
    """Bring a record back from the trash (admins only); refused when it would clash with a live
    record (an IKM whose NIB is taken, a product whose name its IKM now uses, a cohort name) or
    when what it belongs to is itself in the trash. Audited; returns the row."""
    require(actor, "trash.restore")
    models = {"ikm": Ikm, "product": Product, "cohort": Cohort}
    if kind not in models:
        raise ServiceError("trash.unknown_kind")
    row = session.get(models[kind], as_id(row_id))
    if row is None or row.deleted_at is None:
        raise ServiceError("err.not_found")
    if kind == "ikm":
        require(actor, "trash.restore", row.kabupaten_code)
        _check_ikm(session, row)
    elif kind == "product":
        _check_product(session, row)
        require(actor, "trash.restore", session.get(Ikm, row.ikm_id).kabupaten_code)
    else:
        require(actor, "trash.restore", row.kabupaten_code)
        _check_cohort(session, row)
    deleted_at = row.deleted_at
    row.deleted_at, row.updated_at, row.updated_by = None, utcnow(), actor.username
    session.add(row)
    flush(session)
    audit.record(session, username=actor.username, action="restore",
                 table=models[kind].__tablename__, row_id=row.id,
                 before={"deleted_at": deleted_at}, after={"deleted_at": None})
    return row
