"""One definition of "dilatih" (trained), used by the overview, the cohort page and the Data IKM
stage filter: a member of a cohort whose training ended, still in the programme then
(DATA_MODEL.md: an IKM with status keluar leaves the funnel from that date)."""

from datetime import UTC, date, datetime

import pytest

from models import Cohort, Ikm
from services import clock
from services.cohorts import cohort_progress
from services.ikm import IkmFilter, list_ikm
from services.overview import funnel_by_kabupaten, totals, trained_count

pytestmark = pytest.mark.db


def counts(session, as_of: date, kabupaten: str | None = None) -> dict:
    """The trained count as each place computes it."""
    funnel = funnel_by_kabupaten(session, as_of=as_of)
    return {
        "service": trained_count(session, as_of=as_of, kabupaten_code=kabupaten),
        "overview": totals(funnel)["trained"] if kabupaten is None
        else next(r["trained"] for r in funnel if r["code"] == kabupaten),
        "cohorts": sum(r["trained"] for r in cohort_progress(session, today=as_of,
                                                             kabupaten_code=kabupaten)),
        "stage_filter": list_ikm(session, filters=IkmFilter(stage="trained",
                                                            kabupaten_code=kabupaten),
                                 page_size=1, as_of=as_of)[1],
    }


@pytest.fixture
def programme(session):
    """Sumenep: a finished cohort (ended 1 March 2024) with two members who stay, one who left
    on 1 June 2024, one marked keluar without a date and one deleted; a running cohort (ends
    1 December 2024) with one member. Bangkalan: a finished cohort with one member."""
    finished = Cohort(name="Selesai", kabupaten_code="35.29", year=2024,
                      start_on=date(2024, 1, 1), end_on=date(2024, 3, 1))
    running = Cohort(name="Berjalan", kabupaten_code="35.29", year=2024,
                     start_on=date(2024, 9, 1), end_on=date(2024, 12, 1))
    bangkalan = Cohort(name="Bangkalan", kabupaten_code="35.26", year=2024,
                       start_on=date(2024, 1, 1), end_on=date(2024, 2, 1))
    dropped = Cohort(name="Dibuang", kabupaten_code="35.29", year=2024,
                     end_on=date(2024, 2, 1), deleted_at=datetime(2024, 5, 1, tzinfo=UTC))
    session.add_all([finished, running, bangkalan, dropped])
    session.flush()

    def ikm(name, cohort, kab="35.29", **kw):
        session.add(Ikm(name=name, kabupaten_code=kab, kecamatan_code=f"{kab}.01",
                        cohort_id=cohort.id, **kw))

    ikm("Tetap 1", finished)
    ikm("Tetap 2", finished)
    ikm("Keluar Juni", finished, status="keluar", status_reason="tutup",
        left_on=date(2024, 6, 1))
    ikm("Keluar Tanpa Tanggal", finished, status="keluar", status_reason="pindah")
    ikm("Terhapus", finished, deleted_at=datetime(2024, 4, 1, tzinfo=UTC))
    ikm("Sedang Dilatih", running)
    ikm("Di Cohort Terhapus", dropped)
    ikm("Bangkalan", bangkalan, kab="35.26")
    session.commit()


@pytest.mark.parametrize(("as_of", "sumenep", "madura"), [
    (date(2024, 2, 15), 0, 1),  # only Bangkalan's cohort has ended
    (date(2024, 3, 1), 3, 4),  # the end date itself counts; the leaver has not left yet
    (date(2024, 6, 1), 2, 3),  # the leaver leaves the funnel on its left_on date
    (date(2024, 12, 1), 3, 4),  # the running cohort ends
])
def test_every_place_counts_trained_the_same(session, programme, as_of, sumenep, madura):
    assert counts(session, as_of, "35.29") == dict.fromkeys(
        ("service", "overview", "cohorts", "stage_filter"), sumenep)
    assert counts(session, as_of) == dict.fromkeys(
        ("service", "overview", "cohorts", "stage_filter"), madura)


def test_the_cohort_page_shows_who_left_apart(session, programme):
    rows = {r["name"]: r for r in cohort_progress(session, today=date(2024, 12, 31))}
    done = rows["Selesai"]
    # members are every live IKM of the cohort; the two leavers are left, not trained
    assert (done["members"], done["trained"], done["left"]) == (4, 2, 2)
    assert (rows["Berjalan"]["members"], rows["Berjalan"]["trained"]) == (1, 1)
    early = {r["name"]: r for r in cohort_progress(session, today=date(2024, 3, 1))}
    # before June the dated leaver is still in: only the undated one has left
    assert (early["Selesai"]["trained"], early["Selesai"]["left"]) == (3, 1)
    assert (early["Berjalan"]["trained"], early["Berjalan"]["finished"]) == (0, False)


def test_the_same_count_on_generated_demo_data(session):
    from db.demo import seed_demo

    today = clock.today()
    seed_demo(session, ikm_per_kabupaten=12, today=today)
    session.commit()
    found = counts(session, today)
    assert len(set(found.values())) == 1, found
    for kab in ("35.26", "35.27", "35.28", "35.29"):
        per = counts(session, today, kab)
        assert len(set(per.values())) == 1, (kab, per)
