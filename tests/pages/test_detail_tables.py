"""The IKM detail view's tables keep their columns typed (issue 9, fast first paint): dates are
dates and amounts numbers (so sorting a column sorts by date or amount, not by text), an empty
cell is missing and shown as "—" by the table itself, rupiah read the Indonesian way; and
drawing the view never makes Streamlit fall back from Arrow (which it logs with a traceback and
pays for with a second conversion on every draw)."""

import logging
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa
import pytest
import streamlit.dataframe_util  # noqa: F401 - its logger reports Arrow fallbacks
import streamlit.elements.widgets.data_editor  # noqa: F401 - so does the grid's
from sqlmodel import Session, select

from db.engine import get_engine
from models import Certification, Ikm, IkmFinancials, Product
from models.enums import Role
from services.ikm import update_ikm
from services.permissions import Actor
from tests.pages.detail_view import detail_tables, open_detail
from ui.catalogue import CATALOGUE
from ui.record_form import as_text

ID = CATALOGUE["id"]


def rich(listed: list[int]) -> int:
    """A listed IKM with a priced product, an issued certificate with no expiry date (an empty
    date cell) and yearly figures, and a history: an admin has just changed its staff count."""
    with Session(get_engine()) as s:
        priced = set(s.exec(select(Product.ikm_id).where(Product.price_rp.is_not(None),
                                                         Product.deleted_at.is_(None))).all())
        open_ended = set(s.exec(select(Certification.ikm_id).where(
            Certification.issued_on.is_not(None), Certification.expires_on.is_(None))).all())
        figures = set(s.exec(select(IkmFinancials.ikm_id)).all())
        found = [i for i in listed if i in priced and i in open_ended and i in figures]
        assert found, "no listed IKM has a priced product, an open-ended certificate and figures"
        ikm = s.get(Ikm, found[0])
        update_ikm(s, actor=Actor("admin", Role.admin), ikm_id=ikm.id,
                   expected_version=ikm.version, changes={"employees": (ikm.employees or 0) + 1})
        s.commit()
    return found[0]


def display_texts(table) -> pd.DataFrame:
    """The texts the table shows for its cells where the page formats them (a pandas Styler)."""
    styler = table.proto.arrow_data.styler
    return pa.ipc.open_stream(styler.display_values).read_all().to_pandas()


def test_dates_are_dates_and_amounts_numbers_and_empty_cells_empty(demo_db):
    at, ikm_id = open_detail("kepala", rich)
    tables = detail_tables(at)
    products = tables[ID["det.product"]]
    certs = tables[ID["det.cert"]]
    figures = tables[ID["det.year"]]
    history = tables[ID["det.when"]]

    price = products.value[ID["det.price"]]
    assert pd.api.types.is_numeric_dtype(price)
    assert pd.api.types.is_datetime64_any_dtype(products.value[ID["det.upgraded"]])
    for column in (ID["det.issued"], ID["det.expires"]):
        assert pd.api.types.is_datetime64_any_dtype(certs.value[column])
    assert certs.value[ID["det.expires"]].isna().any()  # open-ended: missing, not a dash
    for column in (ID["det.year"], ID["det.capital"], ID["det.revenue"]):
        assert pd.api.types.is_numeric_dtype(figures.value[column])
    assert pd.api.types.is_datetime64_any_dtype(history.value[ID["det.when"]])

    with Session(get_engine()) as s:
        stored = sorted(p for p in s.exec(select(Product.price_rp).where(
            Product.ikm_id == ikm_id, Product.deleted_at.is_(None))).all() if p is not None)
    assert sorted(int(p) for p in price.dropna()) == stored

    for table in tables.values():
        assert table.proto.placeholder == "—"  # what an empty cell shows
        assert not (table.value.astype(object) == "—").any().any()
    # rupiah grouped with dots, as everywhere in the app ("%,d" would write 22,300)
    shown_prices = list(display_texts(products)[ID["det.price"]])
    assert shown_prices == [as_text(int(p), money=True) if pd.notna(p) else "—" for p in price]
    assert all("," not in text for text in shown_prices)


@contextmanager
def streamlit_log():
    """Every record Streamlit's loggers write meanwhile (they do not propagate to the root)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name.startswith("streamlit")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.mark.parametrize("username", ["kepala", "staf"])
def test_drawing_the_detail_view_logs_no_arrow_fallback(demo_db, username):
    with streamlit_log() as records:
        at, _ = open_detail(username, rich)
    assert not at.exception
    assert len(detail_tables(at)) >= 4
    fallbacks = [r for r in records if "Arrow" in r.getMessage() or r.exc_info]
    assert fallbacks == [], [r.getMessage() for r in fallbacks]
