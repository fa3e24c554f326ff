"""Run mode and cookie-key rules (SECURITY.md #1)."""

import pytest

from services.config import ConfigError, resolve_settings

STRONG = "Zx" * 24


def test_no_secrets_means_demo_with_a_random_key_kept_in_the_data_folder(tmp_path):
    first = resolve_settings({}, tmp_path, environ={})
    second = resolve_settings({}, tmp_path, environ={})
    assert first.demo and len(first.cookie_key) >= 32
    assert first.cookie_key == second.cookie_key
    assert (tmp_path / "demo_cookie_key").exists()
    other = resolve_settings({}, tmp_path / "elsewhere", environ={}) if (
        (tmp_path / "elsewhere").mkdir() is None) else None
    assert other.cookie_key != first.cookie_key


@pytest.mark.parametrize("key", [None, "short-key", "some_key",
                                 "GANTI_DENGAN_KUNCI_ACAK_MINIMAL_32_BYTE_JANGAN_PAKAI_INI"])
def test_production_refuses_missing_short_or_example_keys(tmp_path, key):
    secrets = {"demo": False, "auth": {} if key is None else {"cookie_key": key}}
    with pytest.raises(ConfigError):
        resolve_settings(secrets, tmp_path, environ={})
    assert not (tmp_path / "demo_cookie_key").exists()


def test_production_accepts_a_strong_key_and_caps_expiry_at_one_day(tmp_path):
    settings = resolve_settings({"demo": False, "auth": {"cookie_key": STRONG,
                                                         "cookie_expiry_days": 30}},
                                tmp_path, environ={})
    assert not settings.demo and settings.cookie_key == STRONG
    assert settings.cookie_expiry_days == 1.0


def test_a_configured_key_without_demo_flag_means_production(tmp_path):
    assert not resolve_settings({"auth": {"cookie_key": STRONG}}, tmp_path, environ={}).demo


def test_proxy_headers_are_trusted_only_when_configured(tmp_path):
    assert not resolve_settings({}, tmp_path, environ={}).trust_proxy_headers
    trusted = resolve_settings({"auth": {"trust_proxy_headers": True}}, tmp_path, environ={})
    assert trusted.trust_proxy_headers
