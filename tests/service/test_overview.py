"""The pipeline counts per regency, derived from dated facts in SQL."""

from datetime import UTC, date, datetime

import pytest

from models import (
    Assessment,
    Cohort,
    ExportRecord,
    Ikm,
    Product,
    RetailListing,
    ShortlistDecision,
    ShortlistMeeting,
)
from services.overview import funnel_by_kabupaten, totals

pytestmark = pytest.mark.db


@pytest.fixture
def programme(session):
    """Three Sumenep IKM at different stages, one Bangkalan IKM that left, one deleted."""
    cohort = Cohort(name="Angkatan 1 Sumenep", kabupaten_code="35.29", year=2024,
                    start_on=date(2024, 2, 1), end_on=date(2024, 3, 1))
    running = Cohort(name="Angkatan 2 Sumenep", kabupaten_code="35.29", year=2024,
                     start_on=date(2024, 9, 1), end_on=date(2024, 12, 1))
    session.add_all([cohort, running])
    session.flush()

    def ikm(name, kab, kec, cohort_id=None, **kw):
        row = Ikm(name=name, kabupaten_code=kab, kecamatan_code=kec, cohort_id=cohort_id, **kw)
        session.add(row)
        session.flush()
        return row

    star = ikm("Kerupuk Star", "35.29", "35.29.01", cohort.id)
    mid = ikm("Petis Mid", "35.29", "35.29.01", cohort.id)
    ikm("Batik New", "35.29", "35.29.02", running.id)
    ikm("Garam Gone", "35.26", "35.26.01", cohort.id, status="keluar", left_on=date(2024, 6, 1))
    ikm("Deleted", "35.29", "35.29.01", cohort.id, deleted_at=datetime(2024, 5, 1, tzinfo=UTC))
    p_star = Product(ikm_id=star.id, name="Kerupuk ikan", category_code="kerupuk",
                     packaging_upgraded_on=date(2024, 4, 1))
    p_mid = Product(ikm_id=mid.id, name="Petis udang", category_code="petis",
                    packaging_upgraded_on=date(2024, 5, 1))
    session.add_all([p_star, p_mid])
    session.flush()
    session.add_all([
        RetailListing(product_id=p_star.id, retailer_id=1, listed_on=date(2024, 5, 1)),
        RetailListing(product_id=p_mid.id, retailer_id=2, listed_on=date(2024, 6, 1),
                      delisted_on=date(2024, 8, 1), status="delisting"),
        Assessment(product_id=p_star.id, rubric_version=1, assessor="penilai",
                   assessed_on=date(2024, 7, 1)),
    ])
    meeting = ShortlistMeeting(title="Rapat", held_on=date(2024, 8, 15), rubric_version=1,
                               status="closed")
    session.add(meeting)
    session.flush()
    session.add_all([
        ShortlistDecision(meeting_id=meeting.id, product_id=p_star.id, decision="shortlist"),
        ExportRecord(product_id=p_star.id, shipped_on=date(2024, 10, 1), country="MY"),
    ])
    session.commit()


def by_code(rows):
    return {r["code"]: r for r in rows}


def test_stages_at_the_end_of_2024(session, programme):
    rows = by_code(funnel_by_kabupaten(session, as_of=date(2024, 12, 31)))
    sumenep = rows["35.29"]
    assert sumenep["target_ikm"] == 120
    assert sumenep["registered"] == 3  # the deleted one does not count
    assert sumenep["trained"] == 3  # both cohorts ended
    assert (sumenep["upgraded"], sumenep["in_retail"]) == (2, 1)  # Mid was delisted in August
    assert (sumenep["assessed"], sumenep["shortlisted"], sumenep["exporting"]) == (1, 1, 1)
    bangkalan = rows["35.26"]
    assert (bangkalan["registered"], bangkalan["trained"]) == (1, 0)  # left in June
    assert rows["35.27"]["registered"] == 0  # regencies without IKM still show


def test_cut_off_dates_move_the_funnel(session, programme):
    early = by_code(funnel_by_kabupaten(session, as_of=date(2024, 7, 15)))["35.29"]
    assert (early["trained"], early["in_retail"], early["shortlisted"], early["exporting"]) == \
        (2, 2, 0, 0)
    before_leaving = by_code(funnel_by_kabupaten(session, as_of=date(2024, 4, 1)))["35.26"]
    assert before_leaving["trained"] == 1


def test_totals_sum_the_regencies(session, programme):
    rows = funnel_by_kabupaten(session, as_of=date(2024, 12, 31))
    total = totals(rows)
    assert total["target_ikm"] == 480
    assert total["registered"] == 4 and total["exporting"] == 1
