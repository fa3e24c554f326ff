"""Read-only lookups of reference data for selects and labels."""

from sqlmodel import Session, select

from models import Kabupaten


def kabupaten_options(session: Session) -> dict[str, str]:
    """Regency code -> name, in code order."""
    return dict(session.exec(select(Kabupaten.code, Kabupaten.name).order_by(Kabupaten.code)).all())
