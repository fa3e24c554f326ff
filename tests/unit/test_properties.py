"""Property tests: hostile input to the password policy and the cookie check never raises."""

import string
from datetime import timedelta

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import utcnow
from services import auth
from services.config import AuthSettings

SETTINGS = AuthSettings(demo=True, cookie_key="q" * 48)


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=70)))
def test_password_policy_answers_every_string(password, username):
    problems = auth.password_problems(password, username)
    assert set(problems) <= {"pw.too_short", "pw.too_long", "pw.outer_spaces", "pw.demo",
                             "pw.common"}
    if 12 <= len(password) <= 128 and not problems:
        assert password.lower() not in auth.common_passwords()


@pytest.mark.db
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=400),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.=", max_size=400),
    st.builds(lambda h, p: f"{h}.{p}.", st.text(max_size=40), st.text(max_size=80)),
    st.builds(lambda payload: jwt.encode(payload, "q" * 48, algorithm="HS256"),
              st.dictionaries(st.sampled_from(["username", "exp_date", "x"]),
                              st.one_of(st.none(), st.integers(), st.floats(allow_nan=True),
                                        st.text(max_size=20)), max_size=3)),
))
def test_cookie_check_never_raises_and_only_accepts_real_users(session, token):
    assert auth.token_username(session, token=token, settings=SETTINGS) is None


@pytest.mark.db
def test_cookie_check_accepts_exactly_a_fresh_token_for_an_active_user(session):
    auth.ensure_demo_accounts(session)
    issued = utcnow() + timedelta(seconds=1)
    good = jwt.encode({"username": "tamu", "exp_date": issued.timestamp() + 86400}, "q" * 48,
                      algorithm="HS256")
    assert auth.token_username(session, token=good, settings=SETTINGS) == "tamu"
