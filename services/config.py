"""Run mode and authentication settings, resolved from secrets and environment (no streamlit)."""

import logging
import os
import secrets as pysecrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MIN_KEY_BYTES = 32
# Keys that appear in examples (the library's, its docs', ours): never acceptable in production.
KNOWN_EXAMPLE_KEYS = {
    "some_key", "some_signature_key", "abcdef", "random_signature_key", "changeme", "secret",
    "GANTI_DENGAN_KUNCI_ACAK_MINIMAL_32_BYTE_JANGAN_PAKAI_INI",
}


class ConfigError(RuntimeError):
    """The app must not start with this configuration; the message says what to fix."""


@dataclass(frozen=True)
class AuthSettings:
    demo: bool
    cookie_key: str
    cookie_name: str = "ikm_madura_auth"
    cookie_expiry_days: float = 1.0
    login_window_seconds: int = 900
    login_max_failures: int = 5
    login_max_failures_per_ip: int = 20
    trust_proxy_headers: bool = False  # behind a reverse proxy that sets X-Forwarded-For


def _demo_cookie_key(data_dir: Path) -> str:
    """The demo cookie key: random, generated once and kept in the data folder."""
    path = data_dir / "demo_cookie_key"
    if not path.exists():
        path.write_text(pysecrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def resolve_settings(secrets: dict, data_dir: Path, environ: dict | None = None) -> AuthSettings:
    """Decide demo or production mode and the cookie key; refuse an unsafe production setup."""
    env = os.environ if environ is None else environ
    auth = dict(secrets.get("auth", {}))
    demo_value = env.get("IKM_DEMO", secrets.get("demo"))
    key = env.get("IKM_COOKIE_KEY") or auth.get("cookie_key")
    if demo_value is None:
        demo = not key  # nothing configured: demo mode
    else:
        demo = str(demo_value).strip().lower() in ("1", "true", "yes", "on")
    common = {
        "cookie_name": auth.get("cookie_name", "ikm_madura_auth"),
        "cookie_expiry_days": min(float(auth.get("cookie_expiry_days", 1.0)), 1.0),
        "login_window_seconds": int(env.get("IKM_LOGIN_WINDOW_SECONDS",
                                            auth.get("login_window_seconds", 900))),
        "login_max_failures": int(auth.get("login_max_failures", 5)),
        "login_max_failures_per_ip": int(auth.get("login_max_failures_per_ip", 20)),
        "trust_proxy_headers": str(env.get("IKM_TRUST_PROXY_HEADERS",
                                           auth.get("trust_proxy_headers", False))).lower()
        in ("1", "true", "yes", "on"),
    }
    if demo:
        return AuthSettings(demo=True, cookie_key=key or _demo_cookie_key(data_dir), **common)
    if not key:
        raise ConfigError("Production mode needs [auth] cookie_key in .streamlit/secrets.toml "
                          "(or IKM_COOKIE_KEY): at least 32 random bytes.")
    if key in KNOWN_EXAMPLE_KEYS or "GANTI" in key.upper():
        raise ConfigError("The cookie key is an example value; generate one with "
                          "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`.")
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        raise ConfigError(f"The cookie key is shorter than {MIN_KEY_BYTES} bytes.")
    return AuthSettings(demo=False, cookie_key=key, **common)
