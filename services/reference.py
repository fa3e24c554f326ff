"""Read-only lookups of reference data for selects and labels."""

from sqlmodel import Session, select

from models import Kabupaten


def kabupaten_options(session: Session) -> dict[str, str]:
    """Regency code -> name, in code order."""
    return dict(session.exec(select(Kabupaten.code, Kabupaten.name).order_by(Kabupaten.code)).all())


def category_options(session: Session) -> dict[str, str]:
    """Product category code -> Indonesian name, by name."""
    from models import ProductCategory

    return dict(session.exec(select(ProductCategory.code, ProductCategory.name_id)
                             .order_by(ProductCategory.name_id)).all())


def cohort_options(session: Session, kabupaten_code: str | None = None) -> dict[int, str]:
    """Live cohort id -> name (optionally of one regency), newest first."""
    from models import Cohort

    query = select(Cohort.id, Cohort.name).where(Cohort.deleted_at.is_(None))
    if kabupaten_code:
        query = query.where(Cohort.kabupaten_code == kabupaten_code)
    return dict(session.exec(query.order_by(Cohort.year.desc(), Cohort.name)).all())


def cert_type_options(session: Session) -> dict[str, str]:
    """Certificate type code -> name."""
    from models import CertificationType

    return dict(session.exec(select(CertificationType.code, CertificationType.name)
                             .order_by(CertificationType.code)).all())


def retailer_options(session: Session) -> dict[int, str]:
    """Retailer id -> name, by name."""
    from models import Retailer

    return dict(session.exec(select(Retailer.id, Retailer.name).order_by(Retailer.name)).all())
