"""Accounts and login: password policy, bcrypt, the login limiter, cookie checks, user admin.

Fills the gaps of streamlit-authenticator listed in SECURITY.md; nothing here imports streamlit.
"""

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import bcrypt
import jwt
from sqlmodel import Session, func, select

from models import LoginAttempt, User, utcnow
from models.enums import Role
from services import audit
from services.config import AuthSettings
from services.errors import PermissionDenied, ServiceError, StaleRecord, ValidationFailed
from services.permissions import Actor, require

log = logging.getLogger(__name__)

MIN_PASSWORD = 12
MAX_PASSWORD = 128
BCRYPT_ROUNDS = int(os.environ.get("IKM_BCRYPT_ROUNDS", "12"))
DEMO_PASSWORD = "madura-demo-2024"
# username, display name, role, kabupaten scope: one demo account per role (staf: Sumenep).
DEMO_ACCOUNTS = [
    ("admin", "Admin Demo", Role.admin, None),
    ("kepala", "Kepala Bidang (demo)", Role.head, None),
    ("staf", "Staf Sumenep (demo)", Role.staff, "35.29"),
    ("penilai", "Penilai (demo)", Role.assessor, None),
    ("tamu", "Tamu (demo)", Role.viewer, None),
]


@cache
def common_passwords() -> frozenset[str]:
    """A small list of passwords people pick first, lower-cased."""
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def password_problems(password: str, username: str | None = None) -> list[str]:
    """The i18n keys of every rule the password breaks (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append("pw.too_short")
    if len(password) > MAX_PASSWORD:
        problems.append("pw.too_long")
    lowered = password.strip().lower()
    if lowered in common_passwords() or (username and username.lower() in lowered) \
            or len(set(lowered)) <= 2:
        problems.append("pw.common")
    return problems


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes (bcrypt 5 refuses more); our policy allows 128 characters.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str) -> str:
    """A bcrypt hash of the password."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether the password matches the stored hash (False for a malformed hash)."""
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except (ValueError, TypeError):
        return False


@cache
def _dummy_hash() -> str:
    # Checked for unknown users so that they fail as slowly as known ones (no enumeration).
    return hash_password("dummy password for timing equalisation")


def actor_of(user: User) -> Actor:
    """The Actor a user acts as."""
    return Actor(username=user.username, role=Role(user.role), kabupaten_code=user.kabupaten_code)


def get_user(session: Session, username: str) -> User | None:
    """The user with this username (case-insensitive), active or not."""
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def list_users(session: Session) -> list[User]:
    """Every user, by username."""
    return list(session.exec(select(User).order_by(User.username)).all())


def credentials(session: Session) -> dict:
    """The credentials dict for streamlit-authenticator, from active users' stored hashes."""
    users = session.exec(select(User).where(User.active)).all()
    return {"usernames": {
        u.username: {"name": u.display_name, "email": u.email or "", "password": u.password_hash,
                     "roles": [u.role]} for u in users}}


# --- login limiter and check -------------------------------------------------------------------

@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok, bad_credentials, locked
    user: User | None = None


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def login_locked(session: Session, *, username: str, ip: str, settings: AuthSettings,
                 now: datetime | None = None) -> bool:
    """Whether recent failures for this username from this address (or from the address) lock it.

    Only wrong passwords count: attempts refused while locked do not extend the lock, so it
    lifts one window after the last real failure.
    """
    since = (now or utcnow()) - timedelta(seconds=settings.login_window_seconds)
    failed = (select(func.count()).select_from(LoginAttempt)
              .where(LoginAttempt.at >= since, LoginAttempt.reason == "bad_credentials"))
    per_user = session.exec(failed.where(LoginAttempt.username == username,
                                         LoginAttempt.ip == ip)).one()
    if per_user >= settings.login_max_failures:
        return True
    return session.exec(failed.where(LoginAttempt.ip == ip)).one() \
        >= settings.login_max_failures_per_ip


def check_login(session: Session, *, username: str, password: str, ip: str,
                settings: AuthSettings) -> LoginResult:
    """Check a login attempt, record it, and answer ok, bad_credentials or locked."""
    username = (username or "").strip().lower()[:64]
    ip = (ip or "unknown")[:64]
    if login_locked(session, username=username, ip=ip, settings=settings):
        verify_password(password, _dummy_hash())  # same cost as any other answer
        session.add(LoginAttempt(username=username, ip=ip, ok=False, reason="locked"))
        log.warning("login locked: user=%s ip=%s", username, ip)
        return LoginResult(False, "locked")
    user = get_user(session, username)
    if user is None or not user.active:
        verify_password(password, _dummy_hash())
        ok = False
    else:
        ok = verify_password(password, user.password_hash)
    session.add(LoginAttempt(username=username, ip=ip, ok=ok,
                             reason="ok" if ok else "bad_credentials"))
    if not ok:
        log.info("login failed: user=%s ip=%s", username, ip)
        return LoginResult(False, "bad_credentials")
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session, username=username, action="login", table="user", row_id=user.id,
                 after={"ip": ip}, data_changed=False)
    return LoginResult(True, "ok", user)


# --- remembered sessions -----------------------------------------------------------------------

def record_cookie_login(session: Session, *, username: str, ip: str) -> None:
    """Audit a login by remembered cookie (the form's logins are audited by check_login)."""
    user = get_user(session, username)
    if user is not None:
        user.last_login_at = utcnow()
        session.add(user)
        audit.record(session, username=user.username, action="login", table="user",
                     row_id=user.id, after={"ip": ip[:64], "via": "cookie"},
                     data_changed=False)


def token_username(session: Session, *, token: str | None, settings: AuthSettings,
                   now: datetime | None = None) -> str | None:
    """The username of a valid, unrevoked remember-me cookie, or None for anything else.

    Malformed, forged (wrong key), expired and revoked tokens all answer None, never raise.
    """
    if not token:
        return None
    try:
        payload = jwt.decode(token, settings.cookie_key, algorithms=["HS256"])
        username = str(payload["username"])
        exp = float(payload["exp_date"])
    except Exception:  # noqa: BLE001  (any decoding problem means "no cookie")
        return None
    now_ts = (now or utcnow()).timestamp()
    if exp <= now_ts:
        return None
    issued = exp - settings.cookie_expiry_days * 86400
    user = get_user(session, username)
    if user is None or not user.active:
        return None
    if issued < _as_utc(user.sessions_valid_after).timestamp():
        return None
    return user.username


def session_user(session: Session, *, username: str, authenticated_at: datetime) -> User | None:
    """The user of a live session if it is still valid (active, not revoked since it began)."""
    user = get_user(session, username)
    if user is None or not user.active:
        return None
    if _as_utc(authenticated_at) < _as_utc(user.sessions_valid_after):
        return None
    return user


def revoke_sessions(session: Session, *, username: str, reason: str = "logout") -> datetime:
    """End every remembered and live session of a user from now on; return the cut-off time."""
    user = get_user(session, username)
    now = utcnow()
    if user is not None:
        user.sessions_valid_after = now
        session.add(user)
        audit.record(session, username=username, action=reason, table="user", row_id=user.id,
                     data_changed=False)
    return now


# --- account and user administration -----------------------------------------------------------

def _check_password(password: str, username: str | None) -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed("err.validation", errors={"password": problems})


def change_own_password(session: Session, *, actor: Actor, current: str, new: str) -> datetime:
    """Change the actor's password after checking the current one; other sessions are revoked."""
    require(actor, "account.own_password")
    user = get_user(session, actor.username)
    if user is None or not verify_password(current, user.password_hash):
        raise ValidationFailed("err.validation", errors={"current": ["pw.wrong_current"]})
    _check_password(new, user.username)
    user.password_hash = hash_password(new)
    session.add(user)
    audit.record(session, username=actor.username, action="password", table="user",
                 row_id=user.id)
    return revoke_sessions(session, username=user.username, reason="revoke")


def _validate_user_fields(session: Session, *, role: str, kabupaten_code: str | None,
                          display_name: str) -> dict:
    from models import Kabupaten

    errors: dict[str, list[str]] = {}
    if role not in set(Role):
        errors["role"] = ["err.unknown_role"]
    if kabupaten_code and session.get(Kabupaten, kabupaten_code) is None:
        errors["kabupaten_code"] = ["err.unknown_kabupaten"]
    if kabupaten_code and role != Role.staff:
        errors.setdefault("kabupaten_code", []).append("err.scope_staff_only")
    if not display_name.strip():
        errors["display_name"] = ["err.required"]
    return errors


def create_user(session: Session, *, actor: Actor | None, username: str, display_name: str,
                role: str, password: str, kabupaten_code: str | None = None,
                email: str | None = None) -> User:
    """Create an account (admins only; `actor=None` is the command line)."""
    if actor is not None:
        require(actor, "user.manage")
    username = (username or "").strip().lower()
    errors = _validate_user_fields(session, role=role, kabupaten_code=kabupaten_code or None,
                                   display_name=display_name or username)
    if not username or not username.replace("_", "").replace(".", "").replace("-", "").isalnum() \
            or len(username) > 64:
        errors["username"] = ["err.bad_username"]
    elif get_user(session, username) is not None:
        errors["username"] = ["err.username_taken"]
    problems = password_problems(password, username)
    if problems:
        errors["password"] = problems
    if errors:
        raise ValidationFailed("err.validation", errors=errors)
    user = User(username=username, display_name=(display_name or username).strip(),
                email=(email or "").strip() or None, role=Role(role).value,
                kabupaten_code=kabupaten_code or None, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, username=actor.username if actor else "cli", action="create",
                 table="user", row_id=user.id, after=audit.snapshot(user))
    return user


def update_user(session: Session, *, actor: Actor, user_id: int, expected_version: int,
                display_name: str, role: str, kabupaten_code: str | None, email: str | None,
                active: bool) -> User:
    """Change a user's details; a change of role, scope or activity revokes their sessions."""
    require(actor, "user.manage")
    user = session.get(User, user_id)
    if user is None:
        raise ServiceError("err.not_found")
    if user.version != expected_version:
        raise StaleRecord()
    errors = _validate_user_fields(session, role=role, kabupaten_code=kabupaten_code or None,
                                   display_name=display_name)
    if user.username == actor.username and (role != user.role or not active):
        errors["role"] = ["err.self_lockout"]
    if errors:
        raise ValidationFailed("err.validation", errors=errors)
    before = audit.snapshot(user)
    revoke = (role != user.role or (kabupaten_code or None) != user.kabupaten_code
              or active != user.active)
    user.display_name = display_name.strip()
    user.role = Role(role).value
    user.kabupaten_code = kabupaten_code or None
    user.email = (email or "").strip() or None
    user.active = active
    if revoke:
        user.sessions_valid_after = utcnow()
    session.add(user)
    session.flush()
    audit.record(session, username=actor.username, action="update", table="user", row_id=user.id,
                 before=before, after=audit.snapshot(user))
    return user


def reset_password(session: Session, *, actor: Actor, user_id: int, new_password: str) -> User:
    """Set a new password for someone else (admins only) and revoke their sessions."""
    require(actor, "user.manage")
    user = session.get(User, user_id)
    if user is None:
        raise ServiceError("err.not_found")
    _check_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.sessions_valid_after = utcnow()
    session.add(user)
    audit.record(session, username=actor.username, action="password", table="user",
                 row_id=user.id, after={"reset_by": actor.username})
    return user


def ensure_demo_accounts(session: Session) -> int:
    """Create the demo accounts that are missing (demo mode only); return how many were made."""
    made = 0
    for username, name, role, scope in DEMO_ACCOUNTS:
        if get_user(session, username) is None:
            session.add(User(username=username, display_name=name, role=role.value,
                             kabupaten_code=scope, password_hash=hash_password(DEMO_PASSWORD)))
            made += 1
    if made:
        session.flush()
        audit.record(session, username="system", action="create", table="user",
                     after={"demo_accounts": made})
    return made


def set_language(session: Session, *, actor: Actor, language: str) -> None:
    """Remember the actor's language (id or en)."""
    if language not in ("id", "en"):
        raise ValidationFailed("err.validation", errors={"language": ["err.unknown_language"]})
    user = get_user(session, actor.username)
    if user is None:
        raise PermissionDenied("err.forbidden")
    user.language = language
    session.add(user)
    audit.record(session, username=actor.username, action="update", table="user", row_id=user.id,
                 after={"language": language}, data_changed=False)
