"""Accounts and login against a real database: limiter, cookies, revocation, user admin."""

import sqlite3
import threading
from datetime import timedelta

import bcrypt
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from db.engine import make_engine, read_session, write_session
from db.migrate import upgrade
from db.reference_data import load_reference
from models import AuditLog, LoginAttempt, User, utcnow
from models.enums import Role
from services import auth
from services.config import AuthSettings
from services.errors import PermissionDenied, StaleRecord, ValidationFailed
from services.permissions import Actor
from tests.conftest import PG_URL

pytestmark = pytest.mark.db

SETTINGS = AuthSettings(demo=False, cookie_key="k" * 48, login_window_seconds=900,
                        login_max_failures=5, login_max_failures_per_ip=20)
GOOD = "kopi-madura-enak-2024"


@pytest.fixture
def siti(session, admin_actor):
    user = auth.create_user(session, actor=admin_actor, username="Siti", display_name="Siti",
                            role="staff", password=GOOD, kabupaten_code="35.29")
    session.commit()
    return user


def token_for(username: str, *, issued_at=None, key=SETTINGS.cookie_key, days=1.0) -> str:
    issued = (issued_at or utcnow()).timestamp()
    return jwt.encode({"username": username, "exp_date": issued + days * 86400}, key,
                      algorithm="HS256")


def test_create_user_lowercases_hashes_and_audits(session, siti):
    assert siti.username == "siti"
    assert siti.password_hash.startswith("$2") and GOOD not in siti.password_hash
    entry = session.exec(select(AuditLog).where(AuditLog.action == "create",
                                                AuditLog.table_name == "user")).one()
    assert entry.username == "admin" and "password_hash" not in entry.after


def test_create_user_refuses_duplicates_weak_passwords_and_bad_scope(session, siti, admin_actor):
    with pytest.raises(ValidationFailed) as err:
        auth.create_user(session, actor=admin_actor, username="siti", display_name="x",
                         role="head", password="short", kabupaten_code="35.29")
    assert err.value.errors["username"] == ["err.username_taken"]
    assert "pw.too_short" in err.value.errors["password"]
    assert err.value.errors["kabupaten_code"] == ["err.scope_staff_only"]
    assert len(session.exec(select(User)).all()) == 1


def test_only_admins_manage_users(session, siti):
    staff = auth.actor_of(siti)
    with pytest.raises(PermissionDenied):
        auth.create_user(session, actor=staff, username="budi", display_name="Budi",
                         role="admin", password=GOOD)
    with pytest.raises(PermissionDenied):
        auth.reset_password(session, actor=staff, user_id=siti.id, new_password=GOOD + "x")
    assert auth.get_user(session, "budi") is None


def test_login_ok_records_attempt_and_audit(session, siti):
    result = auth.check_login(session, username=" SITI ", password=GOOD, ip="10.0.0.1",
                              settings=SETTINGS)
    session.commit()
    assert result.ok and result.user.username == "siti"
    attempt = session.exec(select(LoginAttempt)).one()
    assert (attempt.username, attempt.ip, attempt.ok) == ("siti", "10.0.0.1", True)
    assert session.exec(select(AuditLog).where(AuditLog.action == "login")).one()


def test_wrong_password_and_unknown_user_both_fail_plainly(session, siti):
    assert auth.check_login(session, username="siti", password="nope", ip="1.1.1.1",
                            settings=SETTINGS).reason == "bad_credentials"
    assert auth.check_login(session, username="ghost", password="nope", ip="1.1.1.1",
                            settings=SETTINGS).reason == "bad_credentials"


def test_unknown_and_known_usernames_cost_one_bcrypt_check_each(session, siti, monkeypatch):
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: calls.append(h) or real(pw, h))
    auth.check_login(session, username="ghost", password="x" * 12, ip="i", settings=SETTINGS)
    auth.check_login(session, username="siti", password="x" * 12, ip="i", settings=SETTINGS)
    assert len(calls) == 2
    # Both hashes have the same cost factor, so both answers take the same time.
    assert calls[0][:7] == calls[1][:7]


def test_five_failures_lock_the_username_from_that_address_only(session, siti):
    for _ in range(5):
        auth.check_login(session, username="siti", password="bad", ip="6.6.6.6",
                         settings=SETTINGS)
    locked = auth.check_login(session, username="siti", password=GOOD, ip="6.6.6.6",
                              settings=SETTINGS)
    assert (locked.ok, locked.reason) == (False, "locked")
    other = auth.check_login(session, username="siti", password=GOOD, ip="7.7.7.7",
                             settings=SETTINGS)
    assert other.ok


def test_lock_lifts_after_the_window(session, siti):
    for _ in range(5):
        auth.check_login(session, username="siti", password="bad", ip="6.6.6.6",
                         settings=SETTINGS)
    for attempt in session.exec(select(LoginAttempt)).all():
        attempt.at = utcnow() - timedelta(seconds=SETTINGS.login_window_seconds + 1)
        session.add(attempt)
    session.flush()
    assert auth.check_login(session, username="siti", password=GOOD, ip="6.6.6.6",
                            settings=SETTINGS).ok


def test_many_failures_from_one_address_lock_usernames_never_used_there(session, siti):
    for i in range(20):
        auth.check_login(session, username=f"guess{i}", password="bad", ip="9.9.9.9",
                         settings=SETTINGS)
    assert auth.check_login(session, username="siti", password=GOOD, ip="9.9.9.9",
                            settings=SETTINGS).reason == "locked"


def test_inactive_user_cannot_log_in(session, siti, admin_actor):
    auth.update_user(session, actor=admin_actor, user_id=siti.id, expected_version=siti.version,
                     display_name="Siti", role="staff", kabupaten_code="35.29", email=None,
                     active=False)
    assert not auth.check_login(session, username="siti", password=GOOD, ip="i",
                                settings=SETTINGS).ok


@pytest.mark.parametrize("token", [
    "not-a-jwt",
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VybmFtZSI6InNpdGkiLCJleHBfZGF0ZSI6OTk5OTk5OTk5OX0.",
    "a.b.c",
    "",
])
def test_malformed_cookies_mean_no_cookie(session, siti, token):
    assert auth.token_username(session, token=token, settings=SETTINGS) is None


def test_valid_cookie_names_its_user(session, siti):
    assert auth.token_username(session, token=token_for("siti"), settings=SETTINGS) == "siti"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_cookie_with_another_key_is_refused(session, siti):
    forged = token_for("siti", key="some_key")
    assert auth.token_username(session, token=forged, settings=SETTINGS) is None


def test_expired_cookie_is_refused(session, siti):
    old = token_for("siti", issued_at=utcnow() - timedelta(days=2))
    assert auth.token_username(session, token=old, settings=SETTINGS) is None


def test_logout_revokes_copied_cookie_but_not_a_later_login(session, siti):
    copied = token_for("siti", issued_at=utcnow() - timedelta(minutes=5))
    auth.revoke_sessions(session, username="siti")
    assert auth.token_username(session, token=copied, settings=SETTINGS) is None
    later = token_for("siti", issued_at=utcnow() + timedelta(seconds=1))
    assert auth.token_username(session, token=later, settings=SETTINGS) == "siti"


def test_role_change_and_deactivation_end_live_sessions(session, siti, admin_actor):
    started = utcnow()
    assert auth.session_user(session, username="siti", authenticated_at=started)
    assert auth.session_user(session, username="siti", authenticated_at=started) is not None
    auth.update_user(session, actor=admin_actor, user_id=siti.id, expected_version=siti.version,
                     display_name="Siti", role="viewer", kabupaten_code=None, email=None,
                     active=True)
    assert auth.session_user(session, username="siti", authenticated_at=started) is None


def test_name_only_change_keeps_sessions(session, siti, admin_actor):
    started = utcnow()
    assert auth.session_user(session, username="siti", authenticated_at=started)
    auth.update_user(session, actor=admin_actor, user_id=siti.id, expected_version=siti.version,
                     display_name="Siti Aminah", role="staff", kabupaten_code="35.29",
                     email=None, active=True)
    assert auth.session_user(session, username="siti", authenticated_at=started) is not None


def test_stale_user_edit_is_refused_and_nothing_changes(session, siti, admin_actor):
    with pytest.raises(StaleRecord):
        auth.update_user(session, actor=admin_actor, user_id=siti.id,
                         expected_version=siti.version - 1, display_name="Other",
                         role="staff", kabupaten_code="35.29", email=None, active=True)
    session.refresh(siti)
    assert siti.display_name == "Siti"


def test_admin_cannot_lock_themselves_out(session, admin_actor):
    me = auth.create_user(session, actor=None, username="admin", display_name="Admin",
                          role="admin", password=GOOD)
    with pytest.raises(ValidationFailed) as err:
        auth.update_user(session, actor=admin_actor, user_id=me.id, expected_version=me.version,
                         display_name="Admin", role="viewer", kabupaten_code=None, email=None,
                         active=True)
    assert err.value.errors["role"] == ["err.self_lockout"]


def test_password_change_checks_current_and_policy_and_revokes(session, siti):
    actor = auth.actor_of(siti)
    old_hash = siti.password_hash
    with pytest.raises(ValidationFailed):
        auth.change_own_password(session, actor=actor, current="wrong", new=GOOD + "!")
    with pytest.raises(ValidationFailed) as err:
        auth.change_own_password(session, actor=actor, current=GOOD, new="password123456")
    assert err.value.errors["password"] == ["pw.common"]
    session.refresh(siti)
    assert siti.password_hash == old_hash
    started = utcnow()
    assert auth.session_user(session, username="siti", authenticated_at=started)
    auth.change_own_password(session, actor=actor, current=GOOD, new="garam-sumenep-asin-99")
    assert auth.session_user(session, username="siti", authenticated_at=started) is None
    assert auth.check_login(session, username="siti", password="garam-sumenep-asin-99",
                            ip="i", settings=SETTINGS).ok


def test_reset_password_by_admin_revokes(session, siti, admin_actor):
    started = utcnow()
    assert auth.session_user(session, username="siti", authenticated_at=started)
    auth.reset_password(session, actor=admin_actor, user_id=siti.id,
                        new_password="batik-tulis-pamekasan")
    assert auth.session_user(session, username="siti", authenticated_at=started) is None


def test_demo_accounts_one_per_role_created_once(session):
    assert auth.ensure_demo_accounts(session) == 5
    assert auth.ensure_demo_accounts(session) == 0
    users = {u.username: u for u in auth.list_users(session)}
    assert {u.role for u in users.values()} == {r.value for r in Role}
    assert users["staf"].kabupaten_code == "35.29"
    assert auth.check_login(session, username="kepala", password=auth.DEMO_PASSWORD, ip="i",
                            settings=SETTINGS).ok


def test_credentials_dict_lists_active_users_with_stored_hashes(session, siti):
    creds = auth.credentials(session)
    assert creds["usernames"]["siti"]["password"] == siti.password_hash
    assert creds["usernames"]["siti"]["roles"] == ["staff"]


def test_scoped_actor_is_refused_other_regency():
    from services.permissions import require

    actor = Actor(username="staf", role=Role.staff, kabupaten_code="35.29")
    require(actor, "programme.write", "35.29")
    with pytest.raises(PermissionDenied) as err:
        require(actor, "programme.write", "35.26")
    assert err.value.key == "err.out_of_scope"


def test_attempts_refused_while_locked_do_not_extend_the_lock(session, siti):
    for _ in range(5):
        auth.check_login(session, username="siti", password="bad", ip="6.6.6.6",
                         settings=SETTINGS)
    old = utcnow() - timedelta(seconds=SETTINGS.login_window_seconds + 1)
    for attempt in session.exec(select(LoginAttempt)).all():
        attempt.at = old
        session.add(attempt)
    session.flush()
    # Hammering during the lock is refused but recorded as "locked", not as a failure...
    for attempt in session.exec(select(LoginAttempt)).all():
        attempt.at = utcnow() - timedelta(seconds=60)
        session.add(attempt)
    for _ in range(10):
        assert auth.check_login(session, username="siti", password=GOOD, ip="6.6.6.6",
                                settings=SETTINGS).reason == "locked"
    reasons = [a.reason for a in session.exec(select(LoginAttempt)).all()]
    assert reasons.count("locked") == 10 and reasons.count("bad_credentials") == 5
    # ... so once the five real failures are older than the window, the user gets in.
    for attempt in session.exec(select(LoginAttempt)
                                .where(LoginAttempt.reason == "bad_credentials")).all():
        attempt.at = old
        session.add(attempt)
    session.flush()
    assert auth.check_login(session, username="siti", password=GOOD, ip="6.6.6.6",
                            settings=SETTINGS).ok


def test_cookie_login_is_audited(session, siti):
    auth.record_cookie_login(session, username="siti", ip="10.1.1.1")
    entry = session.exec(select(AuditLog).where(AuditLog.action == "login")).one()
    assert entry.after == {"ip": "10.1.1.1", "via": "cookie"}
    assert auth.get_user(session, "siti").last_login_at is not None


# --- the limiter against the attacks of issue 12 ------------------------------------------------

def fail(session, username: str, ip: str, times: int = 1) -> list[str]:
    """Wrong passwords; the answers (reasons) in order."""
    return [auth.check_login(session, username=username, password="salah-sekali-123",
                             ip=ip, settings=SETTINGS).reason for _ in range(times)]


def log_in(session, username: str, ip: str, password: str = GOOD) -> auth.LoginResult:
    return auth.check_login(session, username=username, password=password, ip=ip,
                            settings=SETTINGS)


def test_a_flooded_office_address_keeps_its_own_users_working(session, siti, admin_actor):
    # Everyone in the office shares one NAT address. Siti logged in from it last week.
    office = "203.0.113.10"
    assert log_in(session, "siti", office).ok
    colleague = auth.create_user(session, actor=admin_actor, username="budi",
                                 display_name="Budi", role="viewer", password=GOOD)
    assert colleague.id
    # Someone behind the same NAT tries 21 made-up usernames.
    answers = [fail(session, f"tebak{i}", office)[0] for i in range(21)]
    assert answers[:20] == ["bad_credentials"] * 20 and answers[20] == "locked"
    # Siti, who logged in from the office before, still gets in ...
    assert log_in(session, "siti", office).ok
    # ... while usernames never used from there are refused alike, known or not: no way to
    # tell a real account from a made-up one.
    assert log_in(session, "budi", office).reason == "locked"
    assert log_in(session, "hantu", office).reason == "locked"
    # Elsewhere nothing changed.
    assert log_in(session, "budi", "198.51.100.20").ok


def test_a_username_flooded_from_many_addresses_is_locked_for_new_addresses(session, siti):
    home = "198.51.100.5"
    assert log_in(session, "siti", home).ok
    # Ten wrong passwords for siti, each from another address (a botnet, or a spoofed header).
    answers = [fail(session, "siti", f"192.0.2.{i}")[0] for i in range(1, 11)]
    assert answers == ["bad_credentials"] * 10
    # From yet another address even the right password is refused ...
    new = log_in(session, "siti", "192.0.2.200")
    assert (new.ok, new.reason, new.lock.rule) == (False, "locked", "username")
    # ... but Siti at home, where she logged in before, is not locked out by the attacker.
    assert log_in(session, "siti", home).ok
    recorded = session.exec(select(LoginAttempt).where(LoginAttempt.username == "siti")).all()
    assert len(recorded) == 13  # every attempt is recorded


def test_known_address_still_locks_after_five_wrong_passwords_from_it(session, siti):
    assert log_in(session, "siti", "10.0.0.5").ok
    assert fail(session, "siti", "10.0.0.5", 6) == ["bad_credentials"] * 5 + ["locked"]
    assert log_in(session, "siti", "10.0.0.5").reason == "locked"


def test_an_address_is_known_for_thirty_days(session, siti):
    office = "203.0.113.10"
    assert log_in(session, "siti", office).ok
    ok = session.exec(select(LoginAttempt).where(LoginAttempt.ok)).one()
    ok.at = utcnow() - timedelta(days=SETTINGS.login_known_days + 1)
    session.add(ok)
    for i in range(20):
        fail(session, f"tebak{i}", office)
    assert log_in(session, "siti", office).reason == "locked"


def test_a_remembered_cookie_login_makes_the_address_known(session, siti):
    auth.record_cookie_login(session, username="siti", ip="203.0.113.10")
    for i in range(20):
        fail(session, f"tebak{i}", "203.0.113.10")
    assert log_in(session, "tamu", "203.0.113.10").reason == "locked"
    assert log_in(session, "siti", "203.0.113.10").ok


def _failures_at(session, username: str, ip: str, minutes_ago: list[float], now) -> None:
    for minutes in minutes_ago:
        session.add(LoginAttempt(username=username, ip=ip, ok=False, reason="bad_credentials",
                                 at=now - timedelta(minutes=minutes)))
    session.flush()


def test_the_lock_says_when_it_lifts(session, siti):
    now = utcnow()
    window = timedelta(seconds=SETTINGS.login_window_seconds)
    # Five failures, the oldest 14 minutes ago: the lock lifts when that one leaves the window.
    _failures_at(session, "siti", "6.6.6.6", [14, 10, 8, 3, 1], now)
    lock = auth.login_lock(session, username="siti", ip="6.6.6.6", settings=SETTINGS, now=now)
    assert (lock.rule, lock.until) == ("pair", auth._as_utc(now - timedelta(minutes=14)) + window)
    assert lock.minutes_left(now) == 1
    # Two more failures: now the fifth newest (12 minutes ago) must leave first.
    _failures_at(session, "siti", "6.6.6.6", [13, 12], now)
    lock = auth.login_lock(session, username="siti", ip="6.6.6.6", settings=SETTINGS, now=now)
    assert lock.minutes_left(now) == 3
    # One minute later than the lift time nothing is locked any more.
    assert auth.login_lock(session, username="siti", ip="6.6.6.6", settings=SETTINGS,
                           now=lock.until + timedelta(seconds=1)) is None


def test_the_refusal_carries_the_lift_time(session, siti):
    fail(session, "siti", "6.6.6.6", 5)
    refused = log_in(session, "siti", "6.6.6.6")
    assert refused.reason == "locked" and refused.lock is not None
    assert 14 <= refused.lock.minutes_left() <= 15


def test_a_cap_reached_while_the_password_was_checked_answers_locked(session, siti):
    # Step 1 saw no lock; attempts running side by side reached the cap before step 3.
    check = auth.begin_login(session, username="siti", ip="6.6.6.6", settings=SETTINGS)
    assert check.lock is None
    _failures_at(session, "siti", "6.6.6.6", [1] * 5, utcnow())
    ok = auth.verify_login(check, GOOD)
    assert ok  # the right password ...
    result = auth.finish_login(session, check, ok=ok, settings=SETTINGS)
    assert result.reason == "locked"  # ... is refused like a wrong one: the answer tells nothing
    assert session.exec(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first().reason \
        == "locked"


def test_an_account_changed_while_the_password_was_checked_is_not_logged_in(session, siti,
                                                                          admin_actor):
    check = auth.begin_login(session, username="siti", ip="6.6.6.6", settings=SETTINGS)
    ok = auth.verify_login(check, GOOD)
    auth.reset_password(session, actor=admin_actor, user_id=siti.id,
                        new_password="garam-sumenep-asin-99")
    result = auth.finish_login(session, check, ok=ok, settings=SETTINGS)
    assert (result.ok, result.reason) == (False, "bad_credentials")


def test_failed_logins_are_listed_for_the_admin(session, siti):
    log_in(session, "siti", "10.0.0.1")
    fail(session, "ghost", "10.0.0.2")
    fail(session, "siti", "6.6.6.6", 6)
    rows = auth.failed_logins(session)
    assert [r["reason"] for r in rows] == ["locked"] + ["bad_credentials"] * 6
    assert (rows[-1]["username"], rows[-1]["ip"]) == ("ghost", "10.0.0.2")
    assert all(r["at"] is not None for r in rows)


# --- bcrypt runs outside any write transaction -------------------------------------------------

@pytest.fixture
def shared_engine(tmp_path, engine):
    """An engine other connections can reach at the same time: a SQLite file (the in-memory
    test database has a single connection), or the PostgreSQL test database."""
    if PG_URL:
        yield engine
        return
    eng = make_engine(f"sqlite:///{tmp_path / 'auth.db'}")
    upgrade(eng)
    with Session(eng) as s:
        load_reference(s)
        s.commit()
    yield eng
    eng.dispose()


@pytest.mark.parametrize("locked", [False, True], ids=["checking", "already-locked"])
def test_no_connection_and_no_write_lock_is_held_while_bcrypt_runs(shared_engine, monkeypatch,
                                                                   locked):
    with write_session(shared_engine) as s:
        auth.create_user(s, actor=None, username="siti", display_name="Siti", role="staff",
                         password=GOOD)
        if locked:
            _failures_at(s, "siti", "6.6.6.6", [1] * 5, utcnow())
    started, release = threading.Event(), threading.Event()
    real_checkpw = bcrypt.checkpw

    def held_checkpw(password, hashed):
        started.set()
        assert release.wait(20), "the test never released bcrypt"
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", held_checkpw)
    outcome: dict = {}

    def attempt():
        outcome["result"] = auth.attempt_login(
            read=lambda: read_session(shared_engine), write=lambda: write_session(shared_engine),
            username="siti", password="salah-sekali-123", ip="6.6.6.6", settings=SETTINGS)

    worker = threading.Thread(target=attempt)
    worker.start()
    try:
        assert started.wait(20), "bcrypt was never called"
        # While bcrypt runs, the login holds no connection of the pool ...
        assert shared_engine.pool.checkedout() == 0
        # ... and another writer gets the database's write lock at once (SQLite: without
        # waiting at all) and commits.
        if shared_engine.dialect.name == "sqlite":
            other = sqlite3.connect(shared_engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE user SET display_name = 'Siti A.' WHERE username = 'siti'")
                other.execute("COMMIT")
            finally:
                other.close()
        else:
            with write_session(shared_engine) as s:
                auth.get_user(s, "siti").display_name = "Siti A."
    finally:
        release.set()
        worker.join(20)
    assert outcome["result"].reason == ("locked" if locked else "bad_credentials")
    with read_session(shared_engine) as s:
        assert auth.get_user(s, "siti").display_name == "Siti A."
        reasons = [a.reason for a in s.exec(select(LoginAttempt)).all()]
    assert reasons[-1] == outcome["result"].reason  # the attempt was recorded afterwards


# --- remembered cookies of every shape ---------------------------------------------------------

@pytest.fixture
def siti_long_ago(session, siti):
    """Siti, whose sessions were last revoked two days ago (any fresh token is valid)."""
    siti.sessions_valid_after = utcnow() - timedelta(days=2)
    session.add(siti)
    session.commit()
    return siti


def signed(payload) -> str:
    return jwt.encode(payload, SETTINGS.cookie_key, algorithm="HS256")


@pytest.mark.parametrize("payload", [
    {"username": "SITI", "exp_date": "FRESH"},
    {"username": " siti", "exp_date": "FRESH"},
    {"username": ["siti"], "exp_date": "FRESH"},
    {"username": {"name": "siti"}, "exp_date": "FRESH"},
    {"username": None, "exp_date": "FRESH"},
    {"username": "siti", "exp_date": "9999999999"},
    {"username": "siti", "exp_date": "besok"},
    {"username": "siti", "exp_date": "NaN"},
    {"username": "siti", "exp_date": float("nan")},
    {"username": "siti", "exp_date": float("inf")},
    {"username": "siti", "exp_date": 10 ** 400},
    {"username": "siti", "exp_date": 9_999_999_999},  # far beyond a day from now
    {"username": "siti", "exp_date": True},
    {"username": "siti", "exp_date": [1]},
    {"username": "siti"},
    {"exp_date": "FRESH"},
    {},
    {"username": "siti", "exp_date": "FRESH", "role": "admin"},
], ids=lambda p: repr(p)[:60])
def test_validly_signed_odd_cookies_mean_no_cookie(session, siti_long_ago, payload):
    fresh = utcnow().timestamp() + 3600
    payload = {k: fresh if v == "FRESH" else v for k, v in payload.items()}
    assert auth.token_username(session, token=signed(payload), settings=SETTINGS) is None
    # The same cookie in the library's own shape is accepted (the control).
    assert auth.token_username(session, token=signed({"username": "siti", "exp_date": fresh}),
                               settings=SETTINGS) == "siti"


values = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 20),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.sampled_from(["siti", "SITI", "siti ", "ghost", "NaN", "1e999"]),
                   st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                          st.integers(),
                                                                          max_size=2))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["username", "exp_date", "exp", "extra"]), values,
                       max_size=4),
       st.floats(min_value=-2 * 86400, max_value=2 * 86400))
def test_only_the_library_shape_of_cookie_names_a_user(session, siti_long_ago, payload, ahead):
    now = utcnow()
    if "exp_date" in payload and isinstance(payload["exp_date"], float) and ahead:
        payload = {**payload, "exp_date": now.timestamp() + ahead}
    answer = auth.token_username(session, token=signed(payload), settings=SETTINGS, now=now)
    exp = payload.get("exp_date")
    valid = (set(payload) == {"username", "exp_date"} and payload["username"] == "siti"
             and type(exp) in (int, float) and exp == exp
             and now.timestamp() < exp <= now.timestamp() + 86400 + auth.COOKIE_CLOCK_SLACK)
    assert answer == ("siti" if valid else None)


# --- demo leftovers and the demo password ------------------------------------------------------

def test_the_demo_password_is_refused_everywhere(session, siti, admin_actor):
    with pytest.raises(ValidationFailed) as err:
        auth.create_user(session, actor=admin_actor, username="budi", display_name="Budi",
                         role="viewer", password=auth.DEMO_PASSWORD)
    assert err.value.errors["password"] == ["pw.demo"]
    with pytest.raises(ValidationFailed):
        auth.create_user(session, actor=None, username="budi", display_name="Budi",
                         role="admin", password=auth.DEMO_PASSWORD)
    with pytest.raises(ValidationFailed) as err:
        auth.reset_password(session, actor=admin_actor, user_id=siti.id,
                            new_password=auth.DEMO_PASSWORD)
    assert err.value.errors["password"] == ["pw.demo"]
    with pytest.raises(ValidationFailed) as err:
        auth.change_own_password(session, actor=auth.actor_of(siti), current=GOOD,
                                 new=auth.DEMO_PASSWORD)
    assert err.value.errors["password"] == ["pw.demo"]
    assert auth.check_login(session, username="siti", password=GOOD, ip="i",
                            settings=SETTINGS).ok


def test_passwords_with_outer_spaces_are_refused_when_set(session, siti, admin_actor):
    # Before: accepted, and then the user could never log in (the form strips them).
    with pytest.raises(ValidationFailed) as err:
        auth.create_user(session, actor=admin_actor, username="budi", display_name="Budi",
                         role="viewer", password="  kerupuk-lorjuk-gurih ")
    assert err.value.errors["password"] == ["pw.outer_spaces"]
    with pytest.raises(ValidationFailed) as err:
        auth.change_own_password(session, actor=auth.actor_of(siti), current=GOOD,
                                 new="garam-sumenep-asin-99 ")
    assert err.value.errors["password"] == ["pw.outer_spaces"]
    with pytest.raises(ValidationFailed):
        auth.reset_password(session, actor=admin_actor, user_id=siti.id,
                            new_password=" garam-sumenep-asin-99")


def test_password1234_and_friends_are_refused(session, siti, admin_actor):
    for weak in ("Password1234!", "P@ssw0rd2024", "Sunshine12345!"):
        with pytest.raises(ValidationFailed) as err:
            auth.reset_password(session, actor=admin_actor, user_id=siti.id, new_password=weak)
        assert err.value.errors["password"] == ["pw.common"], weak


def test_demo_leftovers_are_found_and_disabled_with_an_audit_row(session, siti, admin_actor):
    auth.ensure_demo_accounts(session)
    # A production account someone gave the demo password directly in the database.
    siti.password_hash = auth.hash_password(auth.DEMO_PASSWORD)
    session.add(siti)
    session.flush()
    expected = sorted(["admin", "kepala", "staf", "penilai", "tamu", "siti"])
    assert auth.demo_leftovers(session) == expected
    started = utcnow()
    assert auth.disable_demo_accounts(session, actor=None) == expected
    session.commit()
    assert auth.demo_leftovers(session) == []
    assert all(not u.active for u in auth.list_users(session))
    assert auth.session_user(session, username="kepala", authenticated_at=started) is None
    entries = session.exec(select(AuditLog).where(AuditLog.username == "cli",
                                                  AuditLog.action == "update")).all()
    assert len(entries) == 6 and all(e.after["active"] is False for e in entries)
    assert not auth.check_login(session, username="admin", password=auth.DEMO_PASSWORD, ip="i",
                                settings=SETTINGS).ok


def test_only_admins_disable_demo_accounts(session, siti):
    auth.ensure_demo_accounts(session)
    with pytest.raises(PermissionDenied):
        auth.disable_demo_accounts(session, actor=auth.actor_of(siti))
    assert "admin" in auth.demo_leftovers(session)


@pytest.mark.parametrize(("name", "key"), [("Siti\x00", "v.control_chars"),
                                           ("Siti\u202eadmin", "v.bidi_chars")])
def test_account_names_follow_the_text_rule_of_every_form(session, admin_actor, name, key):
    with pytest.raises(ValidationFailed) as err:
        auth.create_user(session, actor=admin_actor, username="budi", display_name=name,
                         role="staff", password=GOOD)
    assert err.value.errors["display_name"] == [key]
    assert session.exec(select(User)).all() == []
    user = auth.create_user(session, actor=admin_actor, username="budi",
                            display_name="Budi\u200b  Santoso", email=" budi@example.id ",
                            role="staff", password=GOOD)
    assert (user.display_name, user.email) == ("Budi Santoso", "budi@example.id")
