"""Accounts and login against a real database: limiter, cookies, revocation, user admin."""

from datetime import timedelta

import bcrypt
import jwt
import pytest
from sqlmodel import select

from models import AuditLog, LoginAttempt, User, utcnow
from models.enums import Role
from services import auth
from services.config import AuthSettings
from services.errors import PermissionDenied, StaleRecord, ValidationFailed
from services.permissions import Actor

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


def test_many_failures_from_one_address_lock_every_username_there(session, siti):
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
