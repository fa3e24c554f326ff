"""Run mode and cookie-key rules (SECURITY.md #1): demo is an explicit choice, weak keys are
refused with a message that says how to make a good one, proxies are trusted only by name."""

import base64
import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.config import GENERATE, ConfigError, key_problem, resolve_settings

# A real key, made with the command the README gives (secrets.token_urlsafe(48)).
STRONG = "-yViAKyr4xx8go_HbYDLBURV4SJ7jn0STrBQGkfv_jogM_PUND-7ybDneJeBzQZx"


def production(key, **auth):
    return {"demo": False, "auth": {"cookie_key": key, **auth}}


# --- demo is an explicit choice ----------------------------------------------------------------

def test_no_secrets_at_all_means_demo_with_a_random_key_kept_in_the_data_folder(tmp_path):
    first = resolve_settings(None, tmp_path, environ={})
    second = resolve_settings(None, tmp_path, environ={})
    assert first.demo and len(first.cookie_key) >= 32
    assert first.cookie_key == second.cookie_key
    assert (tmp_path / "demo_cookie_key").exists()
    (tmp_path / "elsewhere").mkdir()
    assert resolve_settings(None, tmp_path / "elsewhere", environ={}).cookie_key \
        != first.cookie_key


@pytest.mark.parametrize("secrets", [
    {},  # an empty secrets file
    {"auth": {"cookie_key": STRONG}},  # a key, but no word about the mode
    {"database": {"url": "postgresql+psycopg://ikm@db/ikm"}},
])
def test_a_secrets_file_that_does_not_say_demo_true_or_false_is_refused(tmp_path, secrets):
    with pytest.raises(ConfigError) as err:
        resolve_settings(secrets, tmp_path, environ={})
    assert "demo = false" in str(err.value) and "demo = true" in str(err.value)
    assert "demo = false" in err.value.bilingual() and "tambahkan" in err.value.bilingual()
    assert not (tmp_path / "demo_cookie_key").exists()


def test_a_cookie_key_in_the_environment_alone_does_not_mean_demo(tmp_path):
    with pytest.raises(ConfigError):
        resolve_settings(None, tmp_path, environ={"IKM_COOKIE_KEY": STRONG})
    assert not resolve_settings(None, tmp_path, environ={"IKM_COOKIE_KEY": STRONG,
                                                         "IKM_DEMO": "false"}).demo


@pytest.mark.parametrize(("value", "demo"), [(True, True), ("true", True), ("1", True),
                                             (False, False), ("false", False), ("off", False)])
def test_demo_flag_values(tmp_path, value, demo):
    assert resolve_settings({"demo": value, "auth": {"cookie_key": STRONG}}, tmp_path,
                            environ={}).demo is demo


def test_a_demo_flag_that_is_neither_true_nor_false_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="true or false"):
        resolve_settings({"demo": "perhaps"}, tmp_path, environ={})


def test_the_environment_may_choose_demo_over_a_file(tmp_path):
    assert resolve_settings({}, tmp_path, environ={"IKM_DEMO": "1"}).demo


# --- production keys ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", [None, "short-key", "some_key",
                                 "GANTI_DENGAN_KUNCI_ACAK_MINIMAL_32_BYTE_JANGAN_PAKAI_INI"])
def test_production_refuses_missing_short_or_example_keys(tmp_path, key):
    secrets = {"demo": False, "auth": {} if key is None else {"cookie_key": key}}
    with pytest.raises(ConfigError) as err:
        resolve_settings(secrets, tmp_path, environ={})
    assert GENERATE in str(err.value)
    assert not (tmp_path / "demo_cookie_key").exists()


@pytest.mark.parametrize("key", [
    "a" * 32,
    "some_key" * 4,
    "Zx" * 24,
    "p" * 20 + "Q" * 20,
    "abcdefghij" * 4,
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "0123456789abcdef" * 4,
    "kunci-rahasia-ikm-madura-2024-kunci-rahasia",
    "secretsecretsecret-1234567890-secretsecret",
])
def test_production_refuses_keys_of_low_entropy_and_says_how_to_make_one(tmp_path, key):
    with pytest.raises(ConfigError) as err:
        resolve_settings(production(key), tmp_path, environ={})
    assert "not random enough" in str(err.value) and GENERATE in str(err.value)
    assert "kurang acak" in err.value.bilingual()


def _random_key(seed: int, kind: str, size: int) -> str:
    data = random.Random(seed).randbytes(size)
    if kind == "hex":
        return data.hex()
    if kind == "base64":
        return base64.b64encode(data).decode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")  # secrets.token_urlsafe


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**63), st.sampled_from(["hex", "base64", "urlsafe"]),
       st.integers(min_value=32, max_value=64))
def test_every_random_key_of_32_bytes_or_more_is_accepted(seed, kind, size):
    key = _random_key(seed, kind, size)
    assert key_problem(key) is None, key


def test_production_accepts_a_strong_key_and_caps_expiry_at_one_day(tmp_path):
    settings_ = resolve_settings(production(STRONG, cookie_expiry_days=30), tmp_path, environ={})
    assert not settings_.demo and settings_.cookie_key == STRONG
    assert settings_.cookie_expiry_days == 1.0


def test_config_errors_are_bilingual():
    err = key_problem("short")
    assert err.bilingual().startswith("Kunci cookie lebih pendek")
    assert "The cookie key is shorter than 32 bytes" in err.bilingual()


# --- trusted proxies ---------------------------------------------------------------------------

def test_no_proxy_is_trusted_unless_named(tmp_path):
    assert resolve_settings(None, tmp_path, environ={}).trusted_proxies == ()


def test_trusted_proxies_from_secrets_and_environment(tmp_path):
    named = resolve_settings({"demo": True, "auth": {"trusted_proxies": ["127.0.0.1",
                                                                         "10.0.0.0/8"]}},
                             tmp_path, environ={})
    assert named.trusted_proxies == (ipaddress.ip_network("127.0.0.1/32"),
                                     ipaddress.ip_network("10.0.0.0/8"))
    env = resolve_settings(None, tmp_path, environ={"IKM_TRUSTED_PROXIES": "::1, 192.0.2.7"})
    assert env.trusted_proxies == (ipaddress.ip_network("::1/128"),
                                   ipaddress.ip_network("192.0.2.7/32"))


def test_the_old_trust_proxy_headers_switch_means_a_proxy_on_this_host(tmp_path):
    legacy = resolve_settings({"demo": True, "auth": {"trust_proxy_headers": True}}, tmp_path,
                              environ={})
    assert legacy.trusted_proxies == (ipaddress.ip_network("127.0.0.1/32"),
                                      ipaddress.ip_network("::1/128"))


def test_a_trusted_proxy_that_is_not_an_address_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="proxy.example"):
        resolve_settings({"demo": True, "auth": {"trusted_proxies": ["proxy.example"]}},
                         tmp_path, environ={})
