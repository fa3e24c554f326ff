"""Every page × every role: allowed pages render, forbidden ones are unreachable."""

import pytest

from services.permissions import PAGES
from tests.pages.conftest import DEMO_USERS

MATRIX = [(user, spec) for user in DEMO_USERS for spec in PAGES]


@pytest.mark.parametrize(("username", "spec"), MATRIX,
                         ids=[f"{u}-{s.key}" for u, s in MATRIX])
def test_page_access_follows_the_role_declaration(app_as, username, spec):
    at = app_as(username)
    assert not at.exception
    if DEMO_USERS[username] in spec.roles:
        at.switch_page(spec.path).run()
        assert not at.exception, at.exception
        assert at.title, "an allowed page renders its title"
    else:
        with pytest.raises(ValueError):
            at.switch_page(spec.path).run()


def test_not_logged_in_shows_only_the_login_form_and_demo_accounts(app_as):
    at = app_as(None)
    assert not at.exception
    labels = [w.label for w in at.text_input]
    assert labels == ["Nama pengguna", "Kata sandi"]
    demo_table = at.dataframe[0].value
    assert list(demo_table.iloc[:, 0]) == list(DEMO_USERS)
    with pytest.raises(ValueError):  # logged out, only the login page is registered
        at.switch_page("app_pages/admin.py").run()


def test_overview_counts_480_ikm_in_four_regencies(app_as):
    at = app_as("tamu")
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["IKM terdaftar"] == "480"
    table = at.dataframe[0].value
    assert list(table["Kabupaten"]) == ["Bangkalan", "Sampang", "Pamekasan", "Sumenep", "Madura"]
    assert list(table["Terdaftar"]) == [120, 120, 120, 120, 480]
    assert list(table["Target"]) == [120, 120, 120, 120, 480]


def test_english_switch_translates_the_page_and_is_remembered(app_as):
    at = app_as("kepala")
    assert at.title[0].value == "Ringkasan program"
    at.button_group(key="lang_switch").set_value("en").run()
    assert at.title[0].value == "Programme overview"
    assert {m.label for m in at.metric} >= {"IKM registered", "Exporting"}
    again = app_as("kepala")  # a new session of the same user starts in English
    assert again.title[0].value == "Programme overview"
