"""Accounts and login: password policy, bcrypt, the login limiter, cookie checks, user admin.

Fills the gaps of streamlit-authenticator listed in SECURITY.md; nothing here imports streamlit.
"""

import base64
import hashlib
import logging
import math
import os
import string
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import bcrypt
import jwt
from sqlmodel import Session, select

from models import LoginAttempt, User, utcnow
from models.enums import Role
from services import audit
from services.config import AuthSettings
from services.errors import PermissionDenied, ServiceError, StaleRecord, ValidationFailed
from services.permissions import Actor, require
from services.validation import Invalid, clean_text

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


PASSWORD_LISTS = ("common_passwords.txt", "breached_passwords.txt")
# Leet-speak read back as letters; "1" is tried both as i and as l.
_LEET_I = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                         "9": "g", "@": "a", "$": "s", "!": "i", "+": "t"})
_LEET_L = str.maketrans({"1": "l"})
_TAIL = frozenset(string.digits + string.punctuation + string.whitespace)
_DEMO_FORMS = frozenset({DEMO_PASSWORD, "madura-demo", "maduredemo", "maduredemo2024",
                         "madurademo", "madurademo2024"})


@cache
def common_passwords() -> frozenset[str]:
    """Passwords from breaches and local favourites, lower-cased (see breached_passwords.md)."""
    words: set[str] = set()
    for name in PASSWORD_LISTS:
        for line in Path(__file__).with_name(name).read_text(encoding="utf-8").splitlines():
            word = line.strip().lower()
            if word and not word.startswith("#"):
                words.add(word)
    return frozenset(words)


def password_variants(password: str) -> set[str]:
    """The forms a listed password hides behind: lower case, trailing digits, punctuation or
    spaces taken off one at a time ("Password1234!" -> "password"), leet-speak read back."""
    lowered = password.lower()
    forms: set[str] = set()
    end = len(lowered)
    while end > 0:
        body = lowered[:end]
        leet = body.translate(_LEET_I)
        forms.update((body, leet, body.translate(_LEET_L).translate(_LEET_I)))
        if body[-1] not in _TAIL:
            break
        end -= 1
    return forms


def password_problems(password: str, username: str | None = None) -> list[str]:
    """The i18n keys of every rule the password breaks (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append("pw.too_short")
    if len(password) > MAX_PASSWORD:
        problems.append("pw.too_long")
    if password != password.strip():
        problems.append("pw.outer_spaces")  # the login form strips them: no way back in
    forms = password_variants(password.strip()[:MAX_PASSWORD + 1])
    lowered = password.strip().lower()
    name = (username or "").strip().lower()
    if forms & _DEMO_FORMS:
        problems.append("pw.demo")
    elif forms & common_passwords() or (name and name in lowered) or len(set(lowered)) <= 2:
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
#
# A login is decided in three steps so that bcrypt (0.25 s at cost 12) never runs inside a write
# transaction, which on SQLite holds the database's only write lock (BEGIN IMMEDIATE):
#   1. begin_login, in a read session: the lock state and the hash to check against;
#   2. verify_login, with no session at all: bcrypt;
#   3. finish_login, in a short write: the lock state again (concurrent attempts may have
#      reached the cap meanwhile), the attempt row, and for a success the audit row.
# attempt_login runs the three with the sessions it is handed.

FAILED = "bad_credentials"
LOGIN_CHECKS = int(os.environ.get("IKM_LOGIN_CHECKS") or max(1, (os.cpu_count() or 2) // 2))
_LOGIN_CHECK_SLOTS = threading.BoundedSemaphore(LOGIN_CHECKS)
SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Lock:
    rule: str  # pair (username + address), address, username
    until: datetime  # when enough failures have left the window (if no new ones come)

    def minutes_left(self, now: datetime | None = None) -> int:
        """Whole minutes until the lock lifts, rounded up (at least 1)."""
        seconds = (self.until - (now or utcnow())).total_seconds()
        return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok, bad_credentials, locked
    user: User | None = None
    lock: Lock | None = None


@dataclass(frozen=True)
class LoginCheck:
    # What the read step found: everything the hash check and the record step need.
    username: str
    ip: str
    password_hash: str  # the user's, or the dummy hash (unknown, inactive or locked)
    user_id: int | None
    lock: Lock | None


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _lift_time(session: Session, conditions: list, threshold: int, now: datetime,
               window: timedelta) -> datetime | None:
    # The failures hold a lock while `threshold` of them are inside the window: it lifts when
    # the threshold-th newest leaves it. None when fewer than `threshold` are inside now.
    at = session.exec(
        select(LoginAttempt.at).where(LoginAttempt.reason == FAILED,
                                      LoginAttempt.at >= now - window, *conditions)
        .order_by(LoginAttempt.at.desc()).offset(max(threshold, 1) - 1).limit(1)).first()
    return None if at is None else _as_utc(at) + window


def known_address(session: Session, *, username: str, ip: str, settings: AuthSettings,
                  now: datetime | None = None) -> bool:
    """Whether the user logged in successfully from this address within login_known_days."""
    since = (now or utcnow()) - timedelta(days=settings.login_known_days)
    return session.exec(select(LoginAttempt.id).where(
        LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.ok,
        LoginAttempt.at >= since).limit(1)).first() is not None


def login_lock(session: Session, *, username: str, ip: str, settings: AuthSettings,
               now: datetime | None = None) -> Lock | None:
    """The lock on this username from this address, or None. Three rules (README, "Security"):

    - pair: login_max_failures wrong passwords for this username from this address;
    - address: login_max_failures_per_ip from this address, for every username that has not
      logged in successfully from it in login_known_days (the office's own users keep working
      behind a flooded NAT; known and unknown usernames of strangers answer alike);
    - username: login_max_failures_per_user for this username from anywhere, from addresses
      it has not logged in from in login_known_days.

    Only wrong passwords count: attempts refused while locked do not extend a lock.
    """
    now = now or utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    locks = []
    pair = _lift_time(session, [LoginAttempt.username == username, LoginAttempt.ip == ip],
                      settings.login_max_failures, now, window)
    if pair is not None:
        locks.append(Lock("pair", pair))
    address = _lift_time(session, [LoginAttempt.ip == ip], settings.login_max_failures_per_ip,
                         now, window)
    per_user = _lift_time(session, [LoginAttempt.username == username],
                          settings.login_max_failures_per_user, now, window)
    if (address or per_user) and not known_address(session, username=username, ip=ip,
                                                   settings=settings, now=now):
        locks += [Lock(rule, until) for rule, until in (("address", address),
                                                        ("username", per_user)) if until]
    return max(locks, key=lambda lock: lock.until) if locks else None


def login_locked(session: Session, *, username: str, ip: str, settings: AuthSettings,
                 now: datetime | None = None) -> bool:
    """Whether a login of this username from this address is refused as locked now."""
    return login_lock(session, username=username, ip=ip, settings=settings, now=now) is not None


def _clean(username: str | None, ip: str | None) -> tuple[str, str]:
    return (username or "").strip().lower()[:64], (ip or "unknown")[:64]


def begin_login(session: Session, *, username: str, ip: str, settings: AuthSettings,
                now: datetime | None = None) -> LoginCheck:
    """Step 1 (read only): the lock state and the hash the password is checked against."""
    username, ip = _clean(username, ip)
    lock = login_lock(session, username=username, ip=ip, settings=settings, now=now)
    user = get_user(session, username)
    if lock is None and user is not None and user.active:
        return LoginCheck(username, ip, user.password_hash, user.id, None)
    return LoginCheck(username, ip, _dummy_hash(), None, lock)


def verify_login(check: LoginCheck, password: str) -> bool:
    """Step 2 (no database): one bcrypt check, whatever the case, so every answer costs the
    same (unknown, inactive and locked usernames are checked against a dummy hash).

    At most LOGIN_CHECKS checks run at once in this process (half the cores): a flood of
    wrong passwords queues here instead of taking every core from the people at work.
    """
    with _LOGIN_CHECK_SLOTS:
        matches = verify_password(password or "", check.password_hash)
    return matches and check.user_id is not None and check.lock is None


def finish_login(session: Session, check: LoginCheck, *, ok: bool, settings: AuthSettings,
                 now: datetime | None = None) -> LoginResult:
    """Step 3 (a short write): record the attempt; for a success also last_login_at and an
    audit row. The lock is asked again here: attempts running side by side may have reached
    a cap since step 1, and then the answer is "locked" whether the password was right or not
    (so that it tells nothing)."""
    lock = check.lock or login_lock(session, username=check.username, ip=check.ip,
                                    settings=settings, now=now)
    if lock is not None:
        session.add(LoginAttempt(username=check.username, ip=check.ip, ok=False,
                                 reason="locked"))
        log.warning("login locked (%s): user=%s ip=%s", lock.rule, check.username, check.ip)
        return LoginResult(False, "locked", lock=lock)
    user = session.get(User, check.user_id) if ok and check.user_id is not None else None
    if user is None or not user.active or user.password_hash != check.password_hash:
        # A wrong password, or the account changed between the steps (deactivated, reset).
        session.add(LoginAttempt(username=check.username, ip=check.ip, ok=False, reason=FAILED))
        log.info("login failed: user=%s ip=%s", check.username, check.ip)
        return LoginResult(False, FAILED)
    session.add(LoginAttempt(username=check.username, ip=check.ip, ok=True, reason="ok"))
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session, username=user.username, action="login", table="user", row_id=user.id,
                 after={"ip": check.ip}, data_changed=False)
    return LoginResult(True, "ok", user)


def attempt_login(*, read: SessionFactory, write: SessionFactory, username: str,
                  password: str, ip: str, settings: AuthSettings) -> LoginResult:
    """Check a login attempt and record it: the read, bcrypt outside any transaction, then
    the short write (each factory opens a session; `write` commits on leaving)."""
    with read() as session:
        check = begin_login(session, username=username, ip=ip, settings=settings)
    ok = verify_login(check, password)
    with write() as session:
        return finish_login(session, check, ok=ok, settings=settings)


def check_login(session: Session, *, username: str, password: str, ip: str,
                settings: AuthSettings) -> LoginResult:
    """attempt_login within one session the caller commits (tests, scripts)."""
    return attempt_login(read=lambda: nullcontext(session), write=lambda: nullcontext(session),
                         username=username, password=password, ip=ip, settings=settings)


def failed_logins(session: Session, *, limit: int = 200) -> list[dict]:
    """The newest failed and refused login attempts, newest first (for the Admin page)."""
    rows = session.exec(select(LoginAttempt).where(LoginAttempt.ok == False)  # noqa: E712
                        .order_by(LoginAttempt.id.desc()).limit(limit)).all()
    return [{"at": r.at, "username": r.username, "ip": r.ip, "reason": r.reason or FAILED}
            for r in rows]


# --- remembered sessions -----------------------------------------------------------------------

def record_cookie_login(session: Session, *, username: str, ip: str) -> None:
    """Audit a login by remembered cookie (the form's logins are audited by finish_login); it
    counts as a successful login from that address for the limiter."""
    user = get_user(session, username)
    if user is not None:
        user.last_login_at = utcnow()
        session.add(user)
        session.add(LoginAttempt(username=user.username, ip=ip[:64], ok=True, reason="cookie"))
        audit.record(session, username=user.username, action="login", table="user",
                     row_id=user.id, after={"ip": ip[:64], "via": "cookie"},
                     data_changed=False)


COOKIE_FIELDS = frozenset({"username", "exp_date"})
COOKIE_CLOCK_SLACK = 300  # seconds a token's exp_date may exceed now + expiry (clock steps)


def token_username(session: Session, *, token: str | None, settings: AuthSettings,
                   now: datetime | None = None) -> str | None:
    """The username of a valid, unrevoked remember-me cookie, or None for anything else.

    Only the library's own shape passes: exactly {username, exp_date}, the username a string
    equal to a stored (lower-case) username, exp_date a finite number (not a bool) in the
    future and no further ahead than the cookie's lifetime. Malformed, forged (wrong key),
    expired, revoked and oddly shaped tokens all answer None, never raise: the library would
    trip over some of them ("ADMIN", a text exp_date) further on.
    """
    if not token or not isinstance(token, str):
        return None
    try:
        payload = jwt.decode(token, settings.cookie_key, algorithms=["HS256"])
    except Exception:  # noqa: BLE001  (any decoding problem means "no cookie")
        return None
    if not isinstance(payload, dict) or set(payload) != COOKIE_FIELDS:
        return None
    username, exp = payload["username"], payload["exp_date"]
    if type(username) is not str or not username or username != username.strip().lower():
        return None
    if type(exp) not in (int, float) or (type(exp) is float and not math.isfinite(exp)):
        return None
    now_ts = (now or utcnow()).timestamp()
    lifetime = settings.cookie_expiry_days * 86400
    if not now_ts < exp <= now_ts + lifetime + COOKIE_CLOCK_SLACK:
        return None
    user = get_user(session, username)
    if user is None or user.username != username or not user.active:
        return None
    if exp - lifetime < _as_utc(user.sessions_valid_after).timestamp():
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
                          display_name, email=None) -> tuple[dict, dict]:
    """Problems of an account's fields, and the clean name and e-mail (the text rule of every
    other form: no control or bidi characters, spaces tidied)."""
    from models import Kabupaten

    errors: dict[str, list[str]] = {}
    if role not in set(Role):
        errors["role"] = ["err.unknown_role"]
    if kabupaten_code and session.get(Kabupaten, kabupaten_code) is None:
        errors["kabupaten_code"] = ["err.unknown_kabupaten"]
    if kabupaten_code and role != Role.staff:
        errors.setdefault("kabupaten_code", []).append("err.scope_staff_only")
    clean: dict = {}
    for name, value, max_len in (("display_name", display_name, 120), ("email", email, 254)):
        try:
            clean[name] = clean_text(value, max_len)
        except Invalid as exc:
            errors[name] = [exc.key]
            clean.setdefault("_details", {})[name] = (exc.key, exc.params)
    if not clean.get("display_name") and "display_name" not in errors:
        errors["display_name"] = ["err.required"]
    return errors, clean


def create_user(session: Session, *, actor: Actor | None, username: str, display_name: str,
                role: str, password: str, kabupaten_code: str | None = None,
                email: str | None = None) -> User:
    """Create an account (admins only; `actor=None` is the command line)."""
    if actor is not None:
        require(actor, "user.manage")
    username = (username or "").strip().lower()
    errors, clean = _validate_user_fields(session, role=role,
                                          kabupaten_code=kabupaten_code or None,
                                          display_name=display_name or username, email=email)
    if not username or not username.replace("_", "").replace(".", "").replace("-", "").isalnum() \
            or len(username) > 64:
        errors["username"] = ["err.bad_username"]
    elif get_user(session, username) is not None:
        errors["username"] = ["err.username_taken"]
    problems = password_problems(password, username)
    if problems:
        errors["password"] = problems
    if errors:
        raise ValidationFailed("err.validation", errors=errors,
                               details={**{f: (k[0], {}) for f, k in errors.items()},
                                        **clean.get("_details", {})})
    user = User(username=username, display_name=clean["display_name"],
                email=clean["email"], role=Role(role).value,
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
    errors, clean = _validate_user_fields(session, role=role,
                                          kabupaten_code=kabupaten_code or None,
                                          display_name=display_name, email=email)
    if user.username == actor.username and (role != user.role or not active):
        errors["role"] = ["err.self_lockout"]
    if errors:
        raise ValidationFailed("err.validation", errors=errors,
                               details={**{f: (k[0], {}) for f, k in errors.items()},
                                        **clean.get("_details", {})})
    before = audit.snapshot(user)
    revoke = (role != user.role or (kabupaten_code or None) != user.kabupaten_code
              or active != user.active)
    user.display_name = clean["display_name"]
    user.role = Role(role).value
    user.kabupaten_code = kabupaten_code or None
    user.email = clean["email"]
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


def demo_leftovers(session: Session) -> list[str]:
    """Active accounts a production database must not have: the demo usernames, and any
    account whose password is still the demo password (bcrypt, so this is for start-up)."""
    demo_names = {name for name, *_ in DEMO_ACCOUNTS}
    users = session.exec(select(User).where(User.active)).all()
    found = {u.username for u in users if u.username in demo_names}
    others = [u for u in users if u.username not in demo_names]
    if others:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # bcrypt frees the GIL
            hits = pool.map(lambda u: verify_password(DEMO_PASSWORD, u.password_hash), others)
            found |= {u.username for u, hit in zip(others, hits, strict=True) if hit}
    return sorted(found)


def disable_demo_accounts(session: Session, *, actor: Actor | None) -> list[str]:
    """Deactivate every demo leftover (see demo_leftovers) and end their sessions; audited.
    `actor=None` is the command line. Returns the usernames disabled."""
    if actor is not None:
        require(actor, "user.manage")
    names = demo_leftovers(session)
    now = utcnow()
    for name in names:
        user = get_user(session, name)
        user.active = False
        user.sessions_valid_after = now
        session.add(user)
        session.flush()
        audit.record(session, username=actor.username if actor else "cli", action="update",
                     table="user", row_id=user.id, before={"active": True},
                     after={"active": False, "reason": "demo_account"})
    return names


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
