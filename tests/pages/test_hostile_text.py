"""User text is shown as text: names full of Markdown, LaTeX, HTML and Streamlit's own syntax
(an IKM, its owner, cohort, product, certificate, coaching action, users' display names, an
uploaded file's name) are entered through the services, then every page is opened for every
role, with the IKM's detail view, the cohort chosen and the messages after saves. Wherever a
page hands Markdown to Streamlit (text, captions, headings, alerts, toasts, labels, help), no
payload appears unescaped; the browser test (tests/e2e/test_markdown_escape.py) shows how an
escaped name renders."""

import re

import pandas as pd
import pytest
from sqlmodel import select
from streamlit.testing.v1.element_tree import Block, Expander, Status, Tab

from db import write_session
from db.engine import get_engine
from models import CertificationType, User
from models.enums import CertScope, Role
from services import auth, clock, cohorts, exporter, ikm, records
from services.permissions import Actor, pages_for
from services.reference import category_options
from services.regions import load_regions
from tests.pages.conftest import DEMO_USERS, make_app
from ui.format import md

SUMENEP = "35.29"
ADMIN = Actor("admin", Role.admin)
PAYLOADS = ("**tebal**", "$x^2$", "[tautan](http://evil.example)", "<b>b</b>", ":red[merah]",
            ":material/warning:", ":smile:", "# judul", "- daftar", "> kutipan", "1. satu",
            "~~coret~~", "`kode`", "www.evil.example", "-> panah", "&amp;")
NAME = "# judul **tebal** $x^2$ [tautan](http://evil.example) <b>b</b> :red[merah] :smile: Ujix"
OWNER = "- daftar :material/warning: ~~coret~~ `kode` www.evil.example -> panah &amp;"
COHORT = "> kutipan **tebal** $x^2$ :red[merah] Angkatan Ujix"
PRODUCT = "1. satu **tebal** <b>b</b> :smile:"
NUMBER = "$x^2$ **tebal** `kode`"
COACHING = "[tautan](http://evil.example) **tebal** ~~coret~~"
PERSON = "**tebal** $x^2$ :red[merah] <b>b</b> :material/warning:"
FILE = "# judul **tebal** $x^2$ :red[merah] :smile: <b>.csv"  # a file name has no "/"
NEW_NAME = "**tebal** $x^2$ <b>b</b> Ujiy"
# Markdown that Streamlit renders: markdown, captions, headings, alerts and toasts by value;
# every element and block by its label and help text.
MARKDOWN_VALUES = {"markdown", "caption", "title", "header", "subheader", "success", "info",
                   "warning", "error", "toast"}


@pytest.fixture
def hostile(demo_db) -> dict:
    """The hostile records, made through the services on the private demo database."""
    with write_session(get_engine()) as s:
        kecamatan, kecamatan_name = next(iter(load_regions(s).kecamatan_of(SUMENEP).items()))
        cohort = cohorts.create_cohort(s, actor=ADMIN, data={
            "name": COHORT, "kabupaten_code": SUMENEP, "year": clock.today().year,
            "notes": COACHING})
        made = ikm.create_ikm(s, actor=ADMIN, data={
            "name": NAME, "owner_name": OWNER, "kabupaten_code": SUMENEP,
            "kecamatan_code": kecamatan, "nib": "3529000000777", "cohort_id": cohort.id,
            "address": COACHING})
        records.create_product(s, actor=ADMIN, ikm_id=made.id, data={
            "name": PRODUCT, "category_code": next(iter(category_options(s))), "brand": NUMBER})
        enterprise = s.exec(select(CertificationType.code)
                            .where(CertificationType.scope == CertScope.enterprise)).first()
        records.create_certification(s, actor=ADMIN, ikm_id=made.id, data={
            "cert_type_code": enterprise, "number": NUMBER, "status": records.CERT_STATUSES[0],
            "note": COACHING})
        records.create_coaching(s, actor=ADMIN, ikm_id=made.id, data={
            "text": COACHING, "owner": PERSON})
        for user in s.exec(select(User)).all():
            auth.update_user(s, actor=ADMIN, user_id=user.id, expected_version=user.version,
                             display_name=PERSON, role=user.role,
                             kabupaten_code=user.kabupaten_code, email=user.email,
                             active=user.active)
        return {"ikm": made.id, "cohort": cohort.id, "kecamatan": kecamatan_name}


def markdown_sources(at) -> list[str]:
    """Every string the app handed to Streamlit as Markdown in this run."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, Block):
            if isinstance(node, Expander | Tab | Status):
                found.append(node.label)
            for child in node.children.values():
                walk(child)
            return
        if node.type in MARKDOWN_VALUES:
            found.append(node.value)
        fields = node.proto.DESCRIPTOR.fields_by_name
        found.extend(getattr(node.proto, name) for name in ("label", "help") if name in fields)

    walk(at._tree)
    return [text for text in found if text]


def unescaped(text: str) -> list[str]:
    """The payloads that stand in a Markdown text without a backslash before them."""
    return [p for p in PAYLOADS if re.search(r"(?<!\\)" + re.escape(p), text)]


def assert_no_markup(at) -> list[str]:
    """No payload in any Markdown of the run unless backslash-escaped; returns the sources."""
    assert not at.exception, at.exception
    sources = markdown_sources(at)
    for text in sources:
        assert not unescaped(text), text
    return sources


def joined(at) -> str:
    return "\n".join(assert_no_markup(at))


def open_page(username: str, path: str):
    at = make_app(username)
    at.run()
    at.switch_page(path).run()
    return at


def show_detail(at, ikm_id: int):
    """Data IKM: search for the hostile IKM, open its detail view."""
    at.session_state["ikm_tab_id"] = "list"
    at.run()
    at.text_input(key="ikm_search").input("Ujix").run()
    at.session_state["ikm_tab_id"] = "detail"
    at.run()
    at.selectbox(key="ikm_detail_pick").set_value(ikm_id).run()
    return at


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_page_shows_hostile_names_as_text_for_every_role(hostile, username):
    for spec in pages_for(DEMO_USERS[username]):
        at = open_page(username, spec.path)
        text = joined(at)
        assert md(PERSON) in text  # the sidebar names the user
        if spec.key == "data_ikm":
            text = joined(show_detail(at, hostile["ikm"]))
            assert md(NAME) in [h.value for h in at.subheader]  # the detail heading
            assert md(OWNER) in text and md(COHORT) in text
        if spec.key == "cohorts":
            at.selectbox(key="coh_m_pick").set_value(hostile["cohort"]).run()
            assert_no_markup(at)
            if [s for s in at.selectbox if s.key == "coh_e_pick"]:
                at.selectbox(key="coh_e_pick").set_value(hostile["cohort"]).run()
                assert_no_markup(at)


def test_save_messages_and_warnings_show_names_as_text(hostile):
    at = show_detail(open_page("staf", "app_pages/data_ikm.py"), hostile["ikm"])
    # a new IKM with the NIB of the hostile one: the duplicate warning names it
    at.session_state["ikm_tab_id"] = "add"
    at.run()
    form = f"ikm_new_{at.session_state['form_tokens']['ikm_new']}"  # keys carry its token
    at.text_input(key=f"{form}_name").input(NEW_NAME)
    at.selectbox(key=f"{form}_kecamatan_code").select_index(1)
    at.text_input(key=f"{form}_nib").input("3529000000777")
    at.button(key=f"{form}_save").click().run()
    assert any(md(NAME) in w.value for w in at.warning)
    assert_no_markup(at)
    # saved anyway (another NIB): the success message names it
    at.text_input(key=f"{form}_nib").input("3529000000778")
    at.checkbox(key=f"{form}_confirm").check()
    at.button(key=f"{form}_save").click().run()
    assert any(md(NEW_NAME) in s.value for s in at.success), [s.value for s in at.success]
    assert_no_markup(at)
    # the hostile IKM moved to the trash from its detail view: the message names it
    show_detail(at, hostile["ikm"])
    edit_form = at.session_state[f"det_ikm_{hostile['ikm']}"]["form"]
    at.checkbox(key=f"{edit_form}_del_ok").check().run()
    at.button(key=f"det_del_{hostile['ikm']}").click().run()
    assert any(md(NAME) in s.value for s in at.success), [s.value for s in at.success]
    assert_no_markup(at)


def test_cohort_save_message_shows_its_name_as_text(hostile):
    at = open_page("staf", "app_pages/cohorts.py")
    at.selectbox(key="coh_e_pick").set_value(hostile["cohort"]).run()
    form = f"coh_e_{hostile['cohort']}_"
    partners = next(t for t in at.text_input
                    if t.key.startswith(form) and t.key.endswith("_partners"))
    partners.input("BPWS, GIZ <i>x</i>")
    at.button[[b.label for b in at.button].index("Simpan perubahan")].click().run()
    assert any(md(COHORT) in s.value for s in at.success), [s.value for s in at.success]
    assert_no_markup(at)


def test_an_uploaded_file_is_named_as_text(hostile):
    row = {header: None for header in exporter.IKM_LAYOUT.headers}
    values = {"nib": "3529000000779", "name": NEW_NAME, "kabupaten_code": "Sumenep",
              "kecamatan_code": hostile["kecamatan"]}
    for column, header in zip(exporter.IKM_LAYOUT.columns, exporter.IKM_LAYOUT.headers,
                              strict=True):
        row[header] = values.get(column.name)
    data = exporter.to_csv(pd.DataFrame([row], dtype=object))
    at = open_page("staf", "app_pages/import_export.py")
    at.file_uploader[0].set_value((FILE, data, "text/csv")).run()
    assert md(FILE) in joined(at)
    at.button(key="imp_commit").click().run()
    assert any(md(FILE) in s.value for s in at.success), [s.value for s in at.success]
    assert_no_markup(at)


def test_the_check_finds_every_payload_unescaped_and_none_escaped():
    raw = f"IKM «{NAME}» {OWNER} {COHORT} {PRODUCT} {COACHING} {PERSON}"
    assert unescaped(raw) == list(PAYLOADS)
    assert unescaped(md(raw)) == []
