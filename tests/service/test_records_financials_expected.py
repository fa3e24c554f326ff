"""A year of figures edited from the detail view: without a version column, the amounts the
user opened stand in for one, so a change made meanwhile is refused and nothing is overwritten."""

import pytest
from sqlalchemy import func, select

from models import AuditLog, Ikm, IkmFinancials
from models.enums import Role
from services import records
from services.errors import StaleRecord
from services.permissions import Actor

pytestmark = pytest.mark.db

ADMIN = Actor("admin", Role.admin)
OTHER = Actor("kepala", Role.admin)
YEAR = 2024


@pytest.fixture
def ikm(session):
    row = Ikm(name="UD Barokah", kabupaten_code="35.26", kecamatan_code="35.26.01")
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def opened(session, ikm):
    """The year as the user's form showed it."""
    row = records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id,
                                    data={"year": YEAR, "capital_rp": 100, "revenue_rp": 500})
    session.commit()
    return {"capital_rp": row.capital_rp, "revenue_rp": row.revenue_rp,
            "export_revenue_rp": row.export_revenue_rp}


def amounts(session, ikm) -> tuple | None:
    row = session.execute(select(IkmFinancials).where(IkmFinancials.ikm_id == ikm.id,
                                                      IkmFinancials.year == YEAR)).scalar()
    return None if row is None else (row.capital_rp, row.revenue_rp, row.export_revenue_rp)


def audit_rows(session) -> int:
    return session.execute(select(func.count()).select_from(AuditLog)
                           .where(AuditLog.table_name == "ikmfinancials")).scalar_one()


def test_an_edit_on_the_amounts_it_opened_is_saved(session, ikm, opened):
    records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id, expected=opened,
                              data={"year": YEAR, **opened, "revenue_rp": "750"})
    assert amounts(session, ikm) == (100, 750, None)


def test_an_edit_after_someone_elses_change_is_refused_and_keeps_theirs(session, ikm, opened):
    records.upsert_financials(session, actor=OTHER, ikm_id=ikm.id,
                              data={"year": YEAR, "capital_rp": 100, "revenue_rp": 900})
    session.commit()
    logged = audit_rows(session)
    with pytest.raises(StaleRecord):
        records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id, expected=opened,
                                  data={"year": YEAR, **opened, "revenue_rp": 750})
    session.rollback()
    assert amounts(session, ikm) == (100, 900, None)
    assert audit_rows(session) == logged


def test_an_edit_of_a_year_deleted_meanwhile_is_refused_not_recreated(session, ikm, opened):
    records.delete_financials(session, actor=OTHER, ikm_id=ikm.id, year=YEAR)
    session.commit()
    with pytest.raises(StaleRecord):
        records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id, expected=opened,
                                  data={"year": YEAR, **opened})
    session.rollback()
    assert amounts(session, ikm) is None


def test_a_delete_after_someone_elses_change_is_refused(session, ikm, opened):
    records.upsert_financials(session, actor=OTHER, ikm_id=ikm.id,
                              data={"year": YEAR, "capital_rp": 101, "revenue_rp": 500})
    session.commit()
    with pytest.raises(StaleRecord):
        records.delete_financials(session, actor=ADMIN, ikm_id=ikm.id, year=YEAR,
                                  expected=opened)
    session.rollback()
    assert amounts(session, ikm) == (101, 500, None)
    records.delete_financials(session, actor=ADMIN, ikm_id=ikm.id, year=YEAR,
                              expected={"capital_rp": 101, "revenue_rp": 500})
    assert amounts(session, ikm) is None


def test_without_expected_the_upsert_keeps_its_old_meaning(session, ikm, opened):
    records.upsert_financials(session, actor=OTHER, ikm_id=ikm.id,
                              data={"year": YEAR, "revenue_rp": 1})
    records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id,
                              data={"year": YEAR, "revenue_rp": 2})
    assert amounts(session, ikm) == (None, 2, None)
