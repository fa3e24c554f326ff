"""Every path that would take an IKM out of a cohort whose training ended (lowering "dilatih")
asks first: the IKM's edit form, taking members out on the Angkatan page, and imports (which
refuse and say where to do it). Adding to a cohort asks too (tests/service/test_cohorts.py)."""

from datetime import timedelta

import pytest

from models import Ikm
from models.enums import Role
from services import clock, cohorts
from services import ikm as ikm_svc
from services.errors import ValidationFailed
from services.imports import commit, dry_run
from services.overview import trained_count
from services.permissions import Actor

pytestmark = pytest.mark.db

STAFF = Actor("staf", Role.staff, "35.29")


@pytest.fixture
def setting(session):
    """A finished cohort with a trained IKM, and a running cohort."""
    today = clock.today()
    done = cohorts.create_cohort(session, actor=STAFF, data={
        "name": "Angkatan Selesai", "kabupaten_code": "35.29", "year": today.year - 1,
        "start_on": today - timedelta(days=300), "end_on": today - timedelta(days=200)})
    running = cohorts.create_cohort(session, actor=STAFF, data={
        "name": "Angkatan Berjalan", "kabupaten_code": "35.29", "year": today.year,
        "start_on": today - timedelta(days=20), "end_on": today + timedelta(days=60)})
    ikm = ikm_svc.create_ikm(session, actor=STAFF, data={
        "name": "Keripik Bu Siti", "nib": "3529090000001", "kabupaten_code": "Sumenep",
        "kecamatan_code": "Guluk-Guluk", "cohort_id": done.id})
    session.commit()
    return done, running, ikm


def count_trained(session) -> int:
    return trained_count(session, as_of=clock.today())


def test_the_edit_form_asks_before_moving_a_trained_ikm(session, setting):
    done, running, ikm = setting
    before = count_trained(session)
    with pytest.raises(ValidationFailed) as err:
        ikm_svc.update_ikm(session, actor=STAFF, ikm_id=ikm.id, expected_version=ikm.version,
                           changes={"cohort_id": running.id})
    assert err.value.params["details"]["cohort_id"][0] == "v.trained_move"
    assert err.value.params["details"]["cohort_id"][1]["cohort"] == "Angkatan Selesai"
    session.rollback()
    assert session.get(Ikm, ikm.id).cohort_id == done.id and count_trained(session) == before
    ikm_svc.update_ikm(session, actor=STAFF, ikm_id=ikm.id, expected_version=ikm.version,
                       changes={"cohort_id": running.id}, move_trained=True)
    session.commit()
    assert session.get(Ikm, ikm.id).cohort_id == running.id
    assert count_trained(session) == before - 1


def test_other_edits_of_a_trained_ikm_need_no_confirmation(session, setting):
    _done, _running, ikm = setting
    ikm_svc.update_ikm(session, actor=STAFF, ikm_id=ikm.id, expected_version=ikm.version,
                       changes={"owner_name": "Siti"})
    session.commit()
    assert session.get(Ikm, ikm.id).owner_name == "Siti"


def test_taking_members_out_of_a_finished_cohort_asks_first(session, setting):
    done, running, ikm = setting
    with pytest.raises(cohorts.MoveNeedsConfirmation) as err:
        cohorts.remove_members(session, actor=STAFF, cohort_id=done.id, ikm_ids=[ikm.id])
    assert [k["id"] for k in err.value.ikm] == [ikm.id]
    session.rollback()
    assert session.get(Ikm, ikm.id).cohort_id == done.id
    assert cohorts.remove_members(session, actor=STAFF, cohort_id=done.id, ikm_ids=[ikm.id],
                                  confirm_trained=True) == 1
    session.commit()
    assert session.get(Ikm, ikm.id).cohort_id is None


def test_taking_members_out_of_a_running_cohort_needs_no_confirmation(session, setting):
    _done, running, _ikm = setting
    other = ikm_svc.create_ikm(session, actor=STAFF, data={
        "name": "Petis", "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk",
        "cohort_id": running.id})
    session.commit()
    assert cohorts.remove_members(session, actor=STAFF, cohort_id=running.id,
                                  ikm_ids=[other.id]) == 1


@pytest.mark.parametrize("cell", ["Angkatan Berjalan", "#KOSONG"])
def test_an_import_never_moves_a_trained_ikm(session, setting, cell):
    done, _running, ikm = setting
    data = ("NIB;Nama usaha;Kabupaten;Kecamatan;Angkatan\r\n"
            f"3529090000001;Keripik Bu Siti;Sumenep;Guluk-Guluk;{cell}\r\n").encode()
    report = dry_run(session, actor=STAFF, filename="pindah.csv", data=data)
    assert [e.key for e in report.errors] == ["imp.moves_trained"]
    with pytest.raises(Exception):  # noqa: B017  (refused as a whole: a row was rejected)
        commit(session, actor=STAFF, filename="pindah.csv", data=data)
    session.rollback()
    assert session.get(Ikm, ikm.id).cohort_id == done.id


def test_an_import_that_keeps_the_cohort_is_fine(session, setting):
    done, _running, ikm = setting
    data = (b"NIB;Nama usaha;Kabupaten;Kecamatan;Angkatan;Nama pemilik\r\n"
            b"3529090000001;Keripik Bu Siti;Sumenep;Guluk-Guluk;Angkatan Selesai;Siti\r\n")
    report = commit(session, actor=STAFF, filename="tetap.csv", data=data)
    assert (report.errors, report.updated) == ([], 1)
    session.expire_all()
    stored = session.get(Ikm, ikm.id)
    assert (stored.owner_name, stored.cohort_id) == ("Siti", done.id)
