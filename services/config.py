"""Run mode and authentication settings, resolved from secrets and environment (no streamlit)."""

import logging
import math
import os
import secrets as pysecrets
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from services.proxies import IPNetwork, parse_networks

log = logging.getLogger(__name__)

MIN_KEY_BYTES = 32
MIN_KEY_BITS = 128  # estimated from the key's text, see key_problem()
MIN_KEY_BITS_PER_CHAR = 3.0
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
# Keys that appear in examples (the library's, its docs', ours): never acceptable in production.
KNOWN_EXAMPLE_KEYS = {
    "some_key", "some_signature_key", "abcdef", "random_signature_key", "changeme", "secret",
    "GANTI_DENGAN_KUNCI_ACAK_MINIMAL_32_BYTE_JANGAN_PAKAI_INI",
}
LOOPBACK_PROXIES = ("127.0.0.1", "::1")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(RuntimeError):
    """The app must not start with this configuration; the message says what to fix.

    `str()` is the English text (the command line prints it); `bilingual()` is what the app
    shows: Bahasa Indonesia first, then English.
    """

    def __init__(self, en: str, id_text: str | None = None):
        super().__init__(en)
        self.en = en
        self.id_text = id_text or en

    def bilingual(self) -> str:
        return self.en if self.id_text == self.en else f"{self.id_text}\n\n{self.en}"


@dataclass(frozen=True)
class AuthSettings:
    demo: bool
    cookie_key: str
    cookie_name: str = "ikm_madura_auth"
    cookie_expiry_days: float = 1.0
    login_window_seconds: int = 900
    login_max_failures: int = 5  # per username and address
    login_max_failures_per_ip: int = 20  # per address, for usernames never used from it
    login_max_failures_per_user: int = 10  # per username, from addresses it never used
    login_known_days: int = 30  # a successful login makes (username, address) known this long
    # Reverse proxies whose X-Forwarded-For is read (services.proxies); empty: the socket's peer.
    trusted_proxies: tuple[IPNetwork, ...] = ()


def _demo_cookie_key(data_dir: Path) -> str:
    """The demo cookie key: random, generated once and kept in the data folder."""
    path = data_dir / "demo_cookie_key"
    if not path.exists():
        path.write_text(pysecrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _flag(value, name: str) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}.",
                      f"{name} harus true atau false, bukan {value!r}.")


def key_bits(key: str) -> tuple[float, float]:
    """Estimated randomness of a key's text: (bits per character, bits in total).

    The empirical Shannon entropy of its characters, with the Miller–Madow correction for
    short samples. An upper bound for keys people type; random keys come close to it.
    """
    if not key:
        return 0.0, 0.0
    n = len(key)
    counts = Counter(key)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    per_char += (len(counts) - 1) / (2 * n * math.log(2))
    return per_char, per_char * n


def _repeated_share(key: str, size: int = 4) -> float:
    # Share of the key's characters inside a 4-character piece that occurs more than once.
    grams = Counter(key[i:i + size] for i in range(len(key) - size + 1))
    covered: set[int] = set()
    for i in range(len(key) - size + 1):
        if grams[key[i:i + size]] > 1:
            covered.update(range(i, i + size))
    return len(covered) / len(key) if key else 1.0


def _sequential_share(key: str) -> float:
    # Share of neighbouring characters that step by one (abcd, 6789, zyx).
    pairs = list(zip(key, key[1:], strict=False))
    return sum(abs(ord(a) - ord(b)) == 1 for a, b in pairs) / len(pairs) if pairs else 1.0


def key_problem(key: str) -> ConfigError | None:
    """Why a production cookie key is unacceptable, or None when it is fine.

    Refused: example values, fewer than 32 bytes, and text that is visibly not random: under
    3 bits per character or 128 bits in total (estimated), half of it repeated pieces
    ("some_key" × 4), or half of it steps of one ("abcdef…"). Random keys of 32 bytes or more
    (token_urlsafe, token_hex, base64 of os.urandom) always pass.
    """
    how = (f"Generate one with `{GENERATE}` and put it in [auth] cookie_key "
           "(or IKM_COOKIE_KEY).")
    how_id = (f"Buat dengan `{GENERATE}` lalu isikan ke [auth] cookie_key "
              "(atau IKM_COOKIE_KEY).")
    if key in KNOWN_EXAMPLE_KEYS or "GANTI" in key.upper():
        return ConfigError(f"The cookie key is an example value. {how}",
                           f"Kunci cookie masih nilai contoh. {how_id}")
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        return ConfigError(f"The cookie key is shorter than {MIN_KEY_BYTES} bytes. {how}",
                           f"Kunci cookie lebih pendek dari {MIN_KEY_BYTES} byte. {how_id}")
    per_char, total = key_bits(key)
    if per_char < MIN_KEY_BITS_PER_CHAR or total < MIN_KEY_BITS \
            or _repeated_share(key) >= 0.5 or _sequential_share(key) > 0.5:
        return ConfigError(
            f"The cookie key is not random enough (about {total:.0f} bits estimated; repeated "
            f"or sequential characters). {how}",
            f"Kunci cookie kurang acak (sekitar {total:.0f} bit; karakter berulang atau "
            f"berurutan). {how_id}")
    return None


def _trusted_proxies(env, auth: dict) -> tuple[IPNetwork, ...]:
    raw = env.get("IKM_TRUSTED_PROXIES")
    if raw is not None:
        entries = [part for part in raw.split(",")]
    else:
        value = auth.get("trusted_proxies")
        if value is None:
            # The old switch meant "a proxy on this host sets X-Forwarded-For".
            legacy = env.get("IKM_TRUST_PROXY_HEADERS", auth.get("trust_proxy_headers", False))
            entries = list(LOOPBACK_PROXIES) if _flag(legacy, "trust_proxy_headers") else []
        elif isinstance(value, str):
            entries = value.split(",")
        elif isinstance(value, list | tuple):
            entries = [str(v) for v in value]
        else:
            entries = ["?"]
    try:
        return parse_networks(entries)
    except ValueError as exc:
        raise ConfigError(f"[auth] trusted_proxies: {exc}.",
                          f"[auth] trusted_proxies: {exc}.") from None


def resolve_settings(secrets: dict | None, data_dir: Path,
                     environ: dict | None = None) -> AuthSettings:
    """Decide demo or production mode and the cookie key; refuse an unsafe production setup.

    `secrets` is None when there is no secrets file at all. Then, and only then (and without
    IKM_COOKIE_KEY), the app runs in demo mode without being told; a secrets file must say
    `demo = true` or `demo = false`.
    """
    env = os.environ if environ is None else environ
    present = secrets is not None
    secrets = secrets or {}
    auth = dict(secrets.get("auth", {}))
    demo_value = env.get("IKM_DEMO", secrets.get("demo"))
    key = env.get("IKM_COOKIE_KEY") or auth.get("cookie_key")
    if demo_value is None:
        if present or env.get("IKM_COOKIE_KEY"):
            raise ConfigError(
                "The secrets file does not say which mode to run: add `demo = false` (production) "
                "or `demo = true` (demo data and demo accounts) at the top of "
                ".streamlit/secrets.toml, or set IKM_DEMO.",
                "Berkas secrets tidak menyebut mode: tambahkan `demo = false` (produksi) atau "
                "`demo = true` (data dan akun demo) di awal .streamlit/secrets.toml, atau atur "
                "IKM_DEMO.")
        demo = True  # nothing configured at all: the README's first command
    else:
        demo = _flag(demo_value, "demo")
    common = {
        "cookie_name": auth.get("cookie_name", "ikm_madura_auth"),
        "cookie_expiry_days": min(float(auth.get("cookie_expiry_days", 1.0)), 1.0),
        "login_window_seconds": int(env.get("IKM_LOGIN_WINDOW_SECONDS",
                                            auth.get("login_window_seconds", 900))),
        "login_max_failures": int(auth.get("login_max_failures", 5)),
        "login_max_failures_per_ip": int(auth.get("login_max_failures_per_ip", 20)),
        "login_max_failures_per_user": int(auth.get("login_max_failures_per_user", 10)),
        "login_known_days": int(auth.get("login_known_days", 30)),
        "trusted_proxies": _trusted_proxies(env, auth),
    }
    if demo:
        return AuthSettings(demo=True, cookie_key=key or _demo_cookie_key(data_dir), **common)
    if not key:
        raise ConfigError(
            "Production mode needs [auth] cookie_key in .streamlit/secrets.toml "
            f"(or IKM_COOKIE_KEY): at least 32 random bytes. Generate one with `{GENERATE}`.",
            "Mode produksi memerlukan [auth] cookie_key di .streamlit/secrets.toml "
            f"(atau IKM_COOKIE_KEY): minimal 32 byte acak. Buat dengan `{GENERATE}`.")
    problem = key_problem(key)
    if problem is not None:
        raise problem
    return AuthSettings(demo=False, cookie_key=key, **common)
