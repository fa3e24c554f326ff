"""Records entered from the IKM detail view: every write validated, scoped, audited, versioned;
and the detail aggregate (expiry warnings, size class, history) in a handful of queries."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from models import (
    AuditLog,
    Certification,
    CoachingAction,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Product,
    RetailListing,
)
from models.enums import Role, SizeClass
from services import clock, records
from services.errors import PermissionDenied, ServiceError, StaleRecord, ValidationFailed
from services.permissions import Actor
from ui.catalogue import CATALOGUE

pytestmark = pytest.mark.db

TODAY = clock.today()  # the day the services see (IKM_TODAY in tests)
STAFF_SUMENEP = Actor("staf", Role.staff, "35.29")
STAFF_BANGKALAN = Actor("stafbkl", Role.staff, "35.26")
VIEWER = Actor("tamu", Role.viewer)
ADMIN = Actor("admin", Role.admin)


def make_ikm(session, name="UD Barokah", kab="35.26", kec="35.26.01", **kw) -> Ikm:
    row = Ikm(name=name, kabupaten_code=kab, kecamatan_code=kec, **kw)
    session.add(row)
    session.flush()
    return row


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def audits(session, table=None, row_id=None, action=None) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id)
    if table:
        query = query.where(AuditLog.table_name == table)
    if row_id is not None:
        query = query.where(AuditLog.row_id == str(row_id))
    if action:
        query = query.where(AuditLog.action == action)
    return list(session.execute(query).scalars())


@pytest.fixture
def ikm(session):
    return make_ikm(session)


@pytest.fixture
def other_ikm(session):
    return make_ikm(session, name="CV Lain", kab="35.26", kec="35.26.02")


@pytest.fixture
def product(session, ikm):
    return records.create_product(session, actor=ADMIN, ikm_id=ikm.id, data={
        "name": "Kerupuk Ikan", "category_code": "kerupuk", "price_rp": "Rp 15.000",
        "cost_rp": "9.000", "unit": "g", "net_content": "250"})


@pytest.fixture
def batik(session, ikm):
    return records.create_product(session, actor=ADMIN, ikm_id=ikm.id, data={
        "name": "Batik Gentongan", "category_code": "batik_tulis"})


@pytest.fixture
def foreign_product(session, other_ikm):
    return records.create_product(session, actor=ADMIN, ikm_id=other_ikm.id, data={
        "name": "Petis", "category_code": "petis"})


def refused(session, call, field, key, models):
    """Call a write that must fail on `field` with `key`, and check that nothing was written."""
    before = {m: count(session, m) for m in (*models, AuditLog)}
    with pytest.raises(ValidationFailed) as info:
        call()
    assert info.value.errors.get(field) == [key], info.value.errors
    assert {m: count(session, m) for m in before} == before
    return info.value


# --- products -----------------------------------------------------------------------------------

def test_create_product_happy_path(session, ikm):
    row = records.create_product(session, actor=STAFF_BANGKALAN, ikm_id=ikm.id, data={
        "name": "  Keripik  Tempe ", "category_code": "Olahan pangan: keripik",
        "price_rp": "Rp 12.500", "cost_rp": 8000, "gtin": "8992761002015",
        "hs_code": "2008.99", "capacity_per_month": "1.200"})
    assert (row.name, row.category_code, row.price_rp, row.cost_rp) == \
        ("Keripik Tempe", "keripik", 12_500, 8000)
    assert (row.capacity_per_month, row.hs_code, row.created_by) == (1200, "200899", "stafbkl")
    log = audits(session, "product", row.id)
    assert [a.action for a in log] == ["create"]
    assert log[0].after["name"] == "Keripik Tempe" and log[0].after["ikm_id"] == ikm.id


@pytest.mark.parametrize(("data", "field", "key"), [
    ({"name": ""}, "name", "v.required"),
    ({"name": "x" * 161}, "name", "v.too_long"),
    ({"category_code": "sepatu"}, "category_code", "v.unknown_category"),
    ({"category_code": None}, "category_code", "v.required"),
    ({"price_rp": 10_000, "cost_rp": 12_000}, "cost_rp", "v.cost_above_price"),
    ({"price_rp": 0}, "price_rp", "v.not_positive"),
    ({"price_rp": "-5"}, "price_rp", "v.negative"),
    ({"gtin": "8992761002016"}, "gtin", "v.gtin"),
    ({"hs_code": "19"}, "hs_code", "v.hs_code"),
    ({"capacity_per_month": 0}, "capacity_per_month", "v.too_small"),
    ({"capacity_per_month": 10**30}, "capacity_per_month", "v.too_large"),
    ({"net_content": "9" * 400}, "net_content", "v.too_large"),
    ({"unit": "ton"}, "unit", "v.choice"),
    ({"packaging_upgraded_on": "31/02/2024"}, "packaging_upgraded_on", "v.bad_date"),
    ({"name": "kerupuk IKAN"}, "name", "rec.product_exists"),
])
def test_create_product_rules(session, ikm, product, data, field, key):
    base = {"name": "Produk Baru", "category_code": "kerupuk"}
    refused(session, lambda: records.create_product(
        session, actor=ADMIN, ikm_id=ikm.id, data={**base, **data}), field, key, [Product])


def test_spreadsheet_numbers_inf_refused_nan_empty(session, ikm):
    # pandas reads "inf" as float("inf") (parse_int would overflow) and empty cells as NaN.
    refused(session, lambda: records.create_product(session, actor=ADMIN, ikm_id=ikm.id, data={
        "name": "A", "category_code": "garam", "capacity_per_month": float("inf")}),
        "capacity_per_month", "v.not_number", [Product])
    refused(session, lambda: records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id,
                                                       data={"year": float("-inf")}),
            "year", "v.not_number", [IkmFinancials])
    row = records.create_product(session, actor=ADMIN, ikm_id=ikm.id, data={
        "name": "A", "category_code": "garam", "price_rp": float("nan")})
    assert row.price_rp is None


def test_same_product_name_allowed_in_another_ikm_and_after_delete(session, ikm, other_ikm,
                                                                   product):
    records.create_product(session, actor=ADMIN, ikm_id=other_ikm.id,
                           data={"name": "Kerupuk Ikan", "category_code": "kerupuk"})
    records.delete_product(session, actor=ADMIN, product_id=product.id,
                           expected_version=product.version)
    again = records.create_product(session, actor=ADMIN, ikm_id=ikm.id,
                                   data={"name": "kerupuk ikan", "category_code": "kerupuk"})
    assert again.id != product.id


def test_update_product(session, product):
    version = product.version
    row = records.update_product(session, actor=STAFF_BANGKALAN, product_id=product.id,
                                 expected_version=version,
                                 changes={"price_rp": "20.000", "name": "KERUPUK IKAN"})
    assert (row.price_rp, row.name, row.version) == (20_000, "KERUPUK IKAN", version + 1)
    assert row.updated_by == "stafbkl" and row.updated_at is not None
    log = audits(session, "product", product.id, "update")
    assert log[-1].before == {"price_rp": 15_000, "name": "Kerupuk Ikan"}
    assert log[-1].after == {"price_rp": 20_000, "name": "KERUPUK IKAN"}


def test_update_product_without_changes_writes_nothing(session, product):
    n = len(audits(session))
    row = records.update_product(session, actor=ADMIN, product_id=product.id,
                                 expected_version=product.version, changes={"price_rp": 15000})
    assert row.version == 1 and len(audits(session)) == n


def test_update_product_rules(session, ikm, product, batik):
    refused(session, lambda: records.update_product(
        session, actor=ADMIN, product_id=batik.id, expected_version=batik.version,
        changes={"name": "Kerupuk ikan"}), "name", "rec.product_exists", [Product])
    refused(session, lambda: records.update_product(
        session, actor=ADMIN, product_id=product.id, expected_version=product.version,
        changes={"cost_rp": 99_000}), "cost_rp", "v.cost_above_price", [Product])
    refused(session, lambda: records.update_product(
        session, actor=ADMIN, product_id=product.id, expected_version=product.version,
        changes={"ikm_id": 99}), "ikm_id", "rec.not_editable", [Product])
    session.refresh(product)
    assert (product.name, product.cost_rp, product.ikm_id, product.version) == \
        ("Kerupuk Ikan", 9000, ikm.id, 1)


def test_delete_product_is_soft_and_audited(session, product):
    records.delete_product(session, actor=ADMIN, product_id=product.id, expected_version=1)
    assert product.deleted_at is not None and product.updated_by == "admin"
    assert [a.action for a in audits(session, "product", product.id)] == ["create", "delete"]
    with pytest.raises(ServiceError, match="err.not_found"):
        records.update_product(session, actor=ADMIN, product_id=product.id,
                               expected_version=product.version, changes={"price_rp": 1})


# --- certifications -----------------------------------------------------------------------------

def test_create_certifications(session, ikm, product):
    issued = TODAY - timedelta(days=30)
    spp = records.create_certification(session, actor=STAFF_BANGKALAN, ikm_id=ikm.id, data={
        "cert_type_code": "spp-irt", "product_id": product.id, "status": "Terbit",
        "issued_on": issued.isoformat(), "filed_on": issued - timedelta(days=20),
        "number": "P-IRT 2063526010203-29"})
    assert (spp.cert_type_code, spp.status, spp.product_id) == ("SPP-IRT", "terbit", product.id)
    assert spp.expires_on == records.add_months(issued, 60)  # default from validity_months
    merek = records.create_certification(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "Pendaftaran merek (trademark)", "status": "proses",
        "filed_on": TODAY})
    assert (merek.cert_type_code, merek.product_id, merek.expires_on) == ("MEREK", None, None)
    by_name = records.create_certification(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "HALAL", "product_id": "kerupuk ikan"})
    assert by_name.product_id == product.id and by_name.status == "belum"
    assert [a.action for a in audits(session, "certification")] == ["create"] * 3


@pytest.mark.parametrize(("data", "field", "key"), [
    ({"cert_type_code": "ISO9001"}, "cert_type_code", "rec.unknown_cert_type"),
    ({"cert_type_code": ""}, "cert_type_code", "v.required"),
    ({"cert_type_code": "BPOM_MD", "product_id": None}, "product_id", "rec.cert_needs_product"),
    ({"cert_type_code": "MEREK", "product_id": "PRODUCT"}, "product_id", "rec.cert_no_product"),
    ({"cert_type_code": "GMP", "product_id": "PRODUCT"}, "product_id", "rec.cert_no_product"),
    ({"product_id": "FOREIGN"}, "product_id", "rec.product_not_of_ikm"),
    ({"product_id": 987654}, "product_id", "rec.product_not_of_ikm"),
    ({"product_id": "BATIK"}, "product_id", "rec.cert_not_applicable"),
    ({"status": "valid"}, "status", "v.choice"),
    ({"issued_on": TODAY + timedelta(days=1)}, "issued_on", "v.future_date"),
    ({"filed_on": TODAY + timedelta(days=3)}, "filed_on", "v.future_date"),
    ({"issued_on": "2024-05-01", "expires_on": "2024-04-30"}, "expires_on", "v.date_order"),
    ({"issued_on": "2024-05-01", "expires_on": "2024-05-01"}, "expires_on", "v.date_order"),
    ({"filed_on": "2024-05-01", "issued_on": "2024-04-01"}, "issued_on", "v.date_order"),
    ({"number": "N" * 65}, "number", "v.too_long"),
    ({"status": "proses", "filed_on": None}, "filed_on", "v.required"),
    ({"status": "terbit", "issued_on": None}, "issued_on", "v.required"),
])
def test_certification_rules(session, ikm, product, batik, foreign_product, data, field, key):
    ids = {"PRODUCT": product.id, "FOREIGN": foreign_product.id, "BATIK": batik.id}
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    base = {"cert_type_code": "SPP-IRT", "product_id": product.id, "status": "terbit",
            "issued_on": "2024-05-01"}
    refused(session, lambda: records.create_certification(
        session, actor=ADMIN, ikm_id=ikm.id, data={**base, **data}), field, key, [Certification])


def test_update_and_delete_certification(session, ikm, product):
    cert = records.create_certification(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "HALAL", "product_id": product.id, "status": "proses",
        "filed_on": "2024-01-10"})
    row = records.update_certification(
        session, actor=STAFF_BANGKALAN, certification_id=cert.id, expected_version=1,
        changes={"status": "terbit", "issued_on": "2024-03-01", "number": "ID123"})
    assert (row.status, row.issued_on, row.version) == ("terbit", date(2024, 3, 1), 2)
    last = audits(session, "certification", cert.id, "update")[-1]
    assert last.before == {"status": "proses", "issued_on": None, "number": None}
    assert last.after == {"status": "terbit", "issued_on": "2024-03-01", "number": "ID123"}
    with pytest.raises(StaleRecord):
        records.delete_certification(session, actor=ADMIN, certification_id=cert.id,
                                     expected_version=1)
    records.delete_certification(session, actor=ADMIN, certification_id=cert.id,
                                 expected_version=2)
    assert session.get(Certification, cert.id) is None
    deleted = audits(session, "certification", cert.id, "delete")[0]
    assert deleted.before["ikm_id"] == ikm.id and deleted.before["number"] == "ID123"


# --- retail listings ----------------------------------------------------------------------------

def test_create_and_update_listing(session, ikm, product):
    row = records.create_listing(session, actor=STAFF_BANGKALAN, ikm_id=ikm.id, data={
        "product_id": product.id, "retailer_id": " alfamart ", "listed_on": "01/03/2024",
        "repeat_orders": "3"})
    assert (row.retailer_id, row.status, row.listed_on, row.repeat_orders) == \
        (1, "listing", date(2024, 3, 1), 3)
    row = records.update_listing(session, actor=ADMIN, listing_id=row.id, expected_version=1,
                                 changes={"status": "delisting", "delisted_on": "2024-09-01"})
    assert (row.status, row.delisted_on, row.version) == ("delisting", date(2024, 9, 1), 2)
    # delisted: the same product may be listed at that chain again
    records.create_listing(session, actor=ADMIN, ikm_id=ikm.id, data={
        "product_id": product.id, "retailer_id": 1, "listed_on": "2024-10-01"})
    assert [a.action for a in audits(session, "retaillisting")] == ["create", "update", "create"]


@pytest.mark.parametrize(("data", "field", "key"), [
    ({"retailer_id": "Carrefour"}, "retailer_id", "rec.unknown_retailer"),
    ({"retailer_id": 999}, "retailer_id", "rec.unknown_retailer"),
    ({"retailer_id": None}, "retailer_id", "v.required"),
    ({"product_id": None}, "product_id", "v.required"),
    ({"product_id": "FOREIGN"}, "product_id", "rec.product_not_of_ikm"),
    ({"status": "aktif"}, "status", "v.choice"),
    ({"listed_on": None}, "listed_on", "v.required"),
    ({"listed_on": TODAY + timedelta(days=1)}, "listed_on", "v.future_date"),
    ({"status": "delisting"}, "delisted_on", "v.required"),
    ({"status": "delisting", "delisted_on": "2024-02-01"}, "delisted_on", "v.date_order"),
    ({"delisted_on": "2024-09-01"}, "delisted_on", "rec.delisted_needs_status"),
    ({"repeat_orders": -1}, "repeat_orders", "v.too_small"),
    ({"repeat_orders": "2,5"}, "repeat_orders", "v.not_whole"),
    ({"retailer_id": "Indomaret"}, "retailer_id", "rec.listing_exists"),
])
def test_listing_rules(session, ikm, product, foreign_product, data, field, key):
    records.create_listing(session, actor=ADMIN, ikm_id=ikm.id, data={
        "product_id": product.id, "retailer_id": "Indomaret", "listed_on": "2024-01-01"})
    data = {k: foreign_product.id if v == "FOREIGN" else v for k, v in data.items()}
    base = {"product_id": product.id, "retailer_id": "Alfamidi", "listed_on": "2024-03-01"}
    refused(session, lambda: records.create_listing(
        session, actor=ADMIN, ikm_id=ikm.id, data={**base, **data}), field, key,
        [RetailListing])


# --- exports ------------------------------------------------------------------------------------

def test_create_export(session, ikm, product):
    row = records.create_export(session, actor=STAFF_BANGKALAN, ikm_id=ikm.id, data={
        "product_id": product.id, "shipped_on": "2024-06-01", "country": "Jepang",
        "volume": "1.200", "unit": "KG", "value_usd": "USD 1,500.50", "route": "Aggregator",
        "buyer": "Tokyo Foods"})
    assert (row.country, row.volume, row.unit, row.value_usd, row.route) == \
        ("JP", 1200.0, "kg", 1500.5, "aggregator")
    for typed, code in (("my", "MY"), ("Uni Emirat Arab", "AE"), ("UAE", "AE"),
                        ("Saudi Arabia", "SA"), ("belanda", "NL"), ("Amerika Serikat", "US")):
        assert records.parse_country(typed) == code


@pytest.mark.parametrize(("data", "field", "key"), [
    ({"country": "Narnia"}, "country", "rec.unknown_country"),
    ({"country": "ID"}, "country", "rec.unknown_country"),
    ({"country": None}, "country", "v.required"),
    ({"shipped_on": None}, "shipped_on", "v.required"),
    ({"shipped_on": TODAY + timedelta(days=1)}, "shipped_on", "v.future_date"),
    ({"volume": 0}, "volume", "v.not_positive"),
    ({"volume": "banyak"}, "volume", "v.not_number"),
    ({"value_usd": "-10"}, "value_usd", "v.not_positive"),
    ({"value_usd": float("inf")}, "value_usd", "v.not_number"),
    ({"value_usd": "9" * 400}, "value_usd", "v.too_large"),
    ({"route": "laut"}, "route", "v.choice"),
    ({"buyer": "b" * 121}, "buyer", "v.too_long"),
    ({"product_id": "FOREIGN"}, "product_id", "rec.product_not_of_ikm"),
])
def test_export_rules(session, ikm, product, foreign_product, data, field, key):
    data = {k: foreign_product.id if v == "FOREIGN" else v for k, v in data.items()}
    base = {"product_id": product.id, "shipped_on": "2024-06-01", "country": "MY"}
    refused(session, lambda: records.create_export(
        session, actor=ADMIN, ikm_id=ikm.id, data={**base, **data}), field, key, [ExportRecord])


# --- coaching -----------------------------------------------------------------------------------

def test_coaching_create_update_delete(session, ikm, product):
    row = records.create_coaching(session, actor=STAFF_BANGKALAN, ikm_id=ikm.id, data={
        "text": "Perbaiki label: tambahkan tanggal kedaluwarsa", "owner": "Bu Siti",
        "due_on": TODAY + timedelta(days=30), "product_id": product.id})
    row = records.update_coaching(session, actor=ADMIN, coaching_id=row.id, expected_version=1,
                                  changes={"done_on": TODAY})
    assert row.done_on == TODAY and row.version == 2
    records.delete_coaching(session, actor=ADMIN, coaching_id=row.id, expected_version=2)
    assert count(session, CoachingAction) == 0
    assert [a.action for a in audits(session, "coachingaction")] == ["create", "update", "delete"]


@pytest.mark.parametrize(("data", "field", "key"), [
    ({"text": " "}, "text", "v.required"),
    ({"text": "t" * 401}, "text", "v.too_long"),
    ({"text": "a\x00b"}, "text", "v.control_chars"),
    ({"done_on": TODAY + timedelta(days=1)}, "done_on", "v.future_date"),
    ({"due_on": "besok"}, "due_on", "v.bad_date"),
    ({"owner": "o" * 81}, "owner", "v.too_long"),
    ({"product_id": "FOREIGN"}, "product_id", "rec.product_not_of_ikm"),
])
def test_coaching_rules(session, ikm, foreign_product, data, field, key):
    data = {k: foreign_product.id if v == "FOREIGN" else v for k, v in data.items()}
    refused(session, lambda: records.create_coaching(
        session, actor=ADMIN, ikm_id=ikm.id, data={"text": "Latihan", **data}), field, key,
        [CoachingAction])


# --- financials ---------------------------------------------------------------------------------

def test_financials_upsert(session, ikm):
    first = records.upsert_financials(session, actor=STAFF_BANGKALAN, ikm_id=ikm.id, data={
        "year": TODAY.year - 1, "capital_rp": "Rp 250.000.000", "revenue_rp": "1.200.000.000",
        "export_revenue_rp": "0"})
    assert (first.capital_rp, first.revenue_rp, first.export_revenue_rp) == \
        (250_000_000, 1_200_000_000, 0)
    again = records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id, data={
        "year": str(TODAY.year - 1), "revenue_rp": 1_500_000_000})
    assert again.id == first.id and (again.capital_rp, again.revenue_rp) == (None, 1_500_000_000)
    assert count(session, IkmFinancials) == 1
    log = audits(session, "ikmfinancials", first.id)
    assert [a.action for a in log] == ["create", "update"]
    assert log[1].before == {"capital_rp": 250_000_000, "revenue_rp": 1_200_000_000,
                             "export_revenue_rp": 0}
    records.delete_financials(session, actor=ADMIN, ikm_id=ikm.id, year=TODAY.year - 1)
    assert count(session, IkmFinancials) == 0


@pytest.mark.parametrize(("data", "field", "key"), [
    ({"year": None}, "year", "v.required"),
    ({"year": 1800}, "year", "v.too_small"),
    ({"year": TODAY.year + 1}, "year", "v.too_large"),
    ({"revenue_rp": "-1"}, "revenue_rp", "v.negative"),
    ({"capital_rp": "banyak"}, "capital_rp", "v.not_number"),
    ({"revenue_rp": 100, "export_revenue_rp": 101}, "export_revenue_rp",
     "v.export_above_revenue"),
    ({"revenue_rp": None}, "revenue_rp", "rec.financials_empty"),
])
def test_financials_rules(session, ikm, data, field, key):
    refused(session, lambda: records.upsert_financials(
        session, actor=ADMIN, ikm_id=ikm.id, data={"year": 2024, "revenue_rp": 5, **data}),
        field, key, [IkmFinancials])


# --- scope, roles, stale versions ---------------------------------------------------------------

@pytest.fixture
def children(session, ikm, product):
    """One record of each kind on the Bangkalan IKM."""
    cert = records.create_certification(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "HALAL", "product_id": product.id})
    listing = records.create_listing(session, actor=ADMIN, ikm_id=ikm.id, data={
        "product_id": product.id, "retailer_id": 1, "listed_on": "2024-01-01"})
    export = records.create_export(session, actor=ADMIN, ikm_id=ikm.id, data={
        "product_id": product.id, "shipped_on": "2024-06-01", "country": "MY"})
    coaching = records.create_coaching(session, actor=ADMIN, ikm_id=ikm.id,
                                       data={"text": "Latihan"})
    records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id,
                              data={"year": 2024, "revenue_rp": 1})
    return {"product": product, "certification": cert, "listing": listing, "export": export,
            "coaching": coaching}


def _writes(ikm, c):
    """Every write of the module as (name, call(session, actor, version or None = current))."""
    new = {"product": {"name": "Baru", "category_code": "garam"},
           "certification": {"cert_type_code": "MEREK"},
           "listing": {"product_id": c["product"].id, "retailer_id": 3, "listed_on": "2024-02-01"},
           "export": {"product_id": c["product"].id, "shipped_on": "2024-06-02", "country": "SG"},
           "coaching": {"text": "Lagi"}}
    change = {"product": {"price_rp": 50_000}, "certification": {"note": "x"},
              "listing": {"repeat_orders": 2}, "export": {"buyer": "B"},
              "coaching": {"owner": "O"}}
    ids = {"certification": "certification_id", "listing": "listing_id",
           "export": "export_id", "coaching": "coaching_id",
           "product": "product_id"}  # last: deleting the product hides its listings
    out = []
    for kind in ids:
        create = getattr(records, f"create_{kind}")
        update = getattr(records, f"update_{kind}")
        delete = getattr(records, f"delete_{kind}")
        row = c[kind]
        out.append((f"create_{kind}", lambda s, a, v, create=create, kind=kind:
                    create(s, actor=a, ikm_id=ikm.id, data=new[kind])))
        out.append((f"update_{kind}", lambda s, a, v, update=update, kind=kind, row=row:
                    update(s, actor=a, **{ids[kind]: row.id},
                           expected_version=row.version if v is None else v,
                           changes=change[kind])))
        out.append((f"delete_{kind}", lambda s, a, v, delete=delete, kind=kind, row=row:
                    delete(s, actor=a, **{ids[kind]: row.id},
                           expected_version=row.version if v is None else v)))
    out.append(("upsert_financials", lambda s, a, v: records.upsert_financials(
        s, actor=a, ikm_id=ikm.id, data={"year": 2023, "revenue_rp": 2})))
    out.append(("delete_financials", lambda s, a, v: records.delete_financials(
        s, actor=a, ikm_id=ikm.id, year=2024)))
    return out


TABLES = (Product, Certification, RetailListing, ExportRecord, CoachingAction, IkmFinancials,
          AuditLog)


def test_scoped_staff_and_viewers_cannot_write_other_regencies(session, ikm, children):
    before = {m: count(session, m) for m in TABLES}
    for name, call in _writes(ikm, children):
        with pytest.raises(PermissionDenied) as info:
            call(session, STAFF_SUMENEP, 1)
        assert info.value.key == "err.out_of_scope", name
        with pytest.raises(PermissionDenied) as info:
            call(session, VIEWER, 1)
        assert info.value.key == "err.forbidden", name
    assert {m: count(session, m) for m in TABLES} == before


def test_every_update_and_delete_refuses_a_stale_version(session, ikm, children):
    before = {m: count(session, m) for m in TABLES}
    for name, call in _writes(ikm, children):
        if name.startswith(("update_", "delete_")) and "financials" not in name:
            with pytest.raises(StaleRecord):
                call(session, ADMIN, 7)
    assert {m: count(session, m) for m in TABLES} == before
    assert all(c.version == 1 for c in children.values())


def test_concurrent_change_caught_at_flush(session, product):
    # Someone else saved meanwhile: the row in this session still says version 1.
    session.connection().execute(text("UPDATE product SET version = version + 1 WHERE id = :i"),
                                 {"i": product.id})
    with pytest.raises(StaleRecord):
        records.update_product(session, actor=ADMIN, product_id=product.id, expected_version=1,
                               changes={"price_rp": 17_000})


def test_scoped_staff_may_write_their_own_regency(session, ikm, children):
    for name, call in _writes(ikm, children):
        call(session, STAFF_BANGKALAN, None)
        assert name  # every write went through
    assert {a.username for a in audits(session)} >= {"stafbkl"}


def test_missing_or_deleted_parent_is_not_found(session, ikm, product):
    for bad in (None, "1", 0, -3, 2**31, 10**30, True, 4242):
        with pytest.raises(ServiceError, match="err.not_found"):
            records.create_coaching(session, actor=ADMIN, ikm_id=bad, data={"text": "x"})
    ikm.deleted_at = datetime.now(UTC)
    session.flush()
    with pytest.raises(ServiceError, match="err.not_found"):
        records.create_product(session, actor=ADMIN, ikm_id=ikm.id,
                               data={"name": "A", "category_code": "garam"})
    with pytest.raises(ServiceError, match="err.not_found"):
        records.update_product(session, actor=ADMIN, product_id=product.id, expected_version=1,
                               changes={"price_rp": 1})


# --- the detail aggregate -----------------------------------------------------------------------

def test_expiry_warning_and_months():
    today = date(2024, 6, 1)
    assert records.expiry_warning(date(2024, 5, 31), today) == "expired"
    assert records.expiry_warning(today, today) == "soon"
    assert records.expiry_warning(today + timedelta(days=60), today) == "soon"
    assert records.expiry_warning(today + timedelta(days=61), today) is None
    assert records.expiry_warning(None, today) is None
    assert records.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert records.add_months(date(2023, 11, 15), 60) == date(2028, 11, 15)


@pytest.fixture
def detailed(session, ikm, product, batik):
    from models import Cohort

    cohort = Cohort(name="Angkatan 1", kabupaten_code="35.26", year=2024)
    session.add(cohort)
    session.flush()
    ikm.cohort_id, ikm.desa_code = cohort.id, "35.26.01.1001"
    today = date(2024, 6, 1)
    c = records.create_certification
    c(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "SPP-IRT", "product_id": product.id, "status": "terbit",
        "issued_on": "2019-05-01", "expires_on": "2024-05-01"})  # expired
    c(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "HALAL", "product_id": product.id, "status": "terbit",
        "issued_on": "2020-07-01", "expires_on": "2024-07-15"})  # soon
    c(session, actor=ADMIN, ikm_id=ikm.id, data={
        "cert_type_code": "MEREK", "status": "terbit", "issued_on": "2023-01-01"})  # fine
    gone = c(session, actor=ADMIN, ikm_id=ikm.id, data={"cert_type_code": "NIB"})
    records.delete_certification(session, actor=ADMIN, certification_id=gone.id,
                                 expected_version=1)
    records.create_listing(session, actor=ADMIN, ikm_id=ikm.id, data={
        "product_id": product.id, "retailer_id": "Indomaret", "listed_on": "2024-02-01"})
    records.create_export(session, actor=ADMIN, ikm_id=ikm.id, data={
        "product_id": product.id, "shipped_on": "2024-05-01", "country": "SA"})
    records.create_coaching(session, actor=ADMIN, ikm_id=ikm.id, data={"text": "Label"})
    records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id, data={
        "year": 2022, "capital_rp": 500_000_000, "revenue_rp": 3_000_000_000})
    records.upsert_financials(session, actor=ADMIN, ikm_id=ikm.id, data={
        "year": 2023, "revenue_rp": 3_000_000_000})
    records.delete_product(session, actor=ADMIN, product_id=batik.id, expected_version=1)
    records.update_product(session, actor=STAFF_BANGKALAN, product_id=product.id,
                           expected_version=1, changes={"price_rp": 16_000})
    session.flush()
    return today


def count_statements(engine, call):
    """Run `call` and return its result and the number of SQL statements it sent."""
    statements = []

    def listen(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        result = call()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return result, len(statements)


def test_ikm_detail_content(session, engine, ikm, product, batik, detailed):
    d, statements = count_statements(
        engine, lambda: records.ikm_detail(session, ikm_id=ikm.id, today=detailed))
    assert statements <= 10
    info = d["ikm"]
    assert (info["name"], info["kabupaten"], info["cohort"]) == \
        ("UD Barokah", "Bangkalan", "Angkatan 1")
    assert info["kecamatan"] and info["desa"]
    assert [p["name"] for p in d["products"]] == ["Kerupuk Ikan"]  # batik is in the trash
    warnings = {c["cert_type_code"]: c["expiry_warning"] for c in d["certifications"]}
    assert warnings == {"SPP-IRT": "expired", "HALAL": "soon", "MEREK": None}
    spp = next(c for c in d["certifications"] if c["cert_type_code"] == "SPP-IRT")
    assert spp["cert_type_name"].startswith("Sertifikat Produksi") and \
        spp["product_name"] == "Kerupuk Ikan"
    assert [(r["retailer_name"], r["product_name"]) for r in d["retail_listings"]] == \
        [("Indomaret", "Kerupuk Ikan")]
    assert [(x["country"], x["country_name"]) for x in d["exports"]] == [("SA", "Arab Saudi")]
    assert [a["text"] for a in d["coaching"]] == ["Label"]
    sizes = [(f["year"], f["size_class"]) for f in d["financials"]]
    assert sizes == [(2023, SizeClass.kecil), (2022, SizeClass.mikro)]  # capital wins in 2022
    assert info["size_class"] == SizeClass.kecil
    history = d["history"]
    assert [h["at"] for h in history] == sorted((h["at"] for h in history), reverse=True)
    seen = {(h["table"], h["action"]) for h in history}
    assert {("product", "create"), ("product", "update"), ("product", "delete"),
            ("certification", "create"), ("certification", "delete"),
            ("retaillisting", "create"), ("exportrecord", "create"),
            ("coachingaction", "create"), ("ikmfinancials", "create")} <= seen
    price = next(h for h in history if h["table"] == "product" and h["action"] == "update")
    assert price["username"] == "stafbkl" and price["label"] == "Kerupuk Ikan"
    assert price["changes"] == [{"field": "price_rp", "before": 15_000, "after": 16_000}]
    assert history[0]["action"] == "update"  # the newest first


def test_ikm_detail_excludes_other_ikm_history_and_missing(session, ikm, other_ikm, product,
                                                            foreign_product):
    d = records.ikm_detail(session, ikm_id=ikm.id)
    assert [(h["table"], h["row_id"], h["label"]) for h in d["history"]] == \
        [("product", str(product.id), "Kerupuk Ikan")]
    with pytest.raises(ServiceError, match="err.not_found"):
        records.ikm_detail(session, ikm_id=987654)
    other_ikm.deleted_at = datetime.now(UTC)
    session.flush()
    with pytest.raises(ServiceError, match="err.not_found"):
        records.ikm_detail(session, ikm_id=other_ikm.id)


def test_ikm_detail_query_count_does_not_grow_with_rows(session, engine):
    from db.demo import seed_demo

    seed_demo(session, ikm_per_kabupaten=3)
    session.flush()
    counts = set()
    for ikm_id in session.execute(select(Ikm.id)).scalars().all():
        detail, statements = count_statements(
            engine, lambda ikm_id=ikm_id: records.ikm_detail(session, ikm_id=ikm_id))
        assert detail["products"]
        counts.add(statements)
    assert max(counts) <= 10


def test_demo_records_stay_editable(session):
    """Every seeded record passes the rules, so editing any field of it can succeed."""
    from db.demo import seed_demo

    seed_demo(session, ikm_per_kabupaten=3)
    session.flush()
    for kind in (records.CERTIFICATION, records.LISTING, records.EXPORT, records.COACHING,
                 records.PRODUCT):
        for row in session.execute(select(kind.model)).scalars().all():
            _, ikm = records._load(session, kind, row.id)
            _, errors = kind.clean(session, ikm, {f: getattr(row, f) for f in kind.fields}, row)
            assert not errors, (kind.table, row.id, errors.items)


# --- messages -----------------------------------------------------------------------------------

def test_every_message_key_of_these_services_exists_in_both_languages():
    root = Path(records.__file__).parent
    keys = set()
    for name in ("records.py", "cohorts.py", "trash.py"):
        keys |= set(re.findall(r'"((?:v|rec|coh|trash|err)\.[a-z_.]+)"',
                               (root / name).read_text(encoding="utf-8")))
    keys -= {"trash.restore"}  # a permission action, not a message
    assert keys, "pattern broken"
    for lang in ("id", "en"):
        assert keys - set(CATALOGUE[lang]) == set(), lang
