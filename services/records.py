"""Records entered from the IKM detail view (products, certificates, retail listings, exports,
coaching actions, yearly financials) and the detail aggregate of one IKM.

Every write is keyword-only, takes `session` and `actor`, checks role and the parent IKM's regency
scope, validates the whole record (a clear key per field, nothing written on failure), runs in the
caller's transaction (never commits), writes an audit row and refuses stale versions.

The `clean_*` functions are pure (no session): forms, the grid and imports share them.
"""

import calendar
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from difflib import get_close_matches
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from models import (
    AuditLog,
    Certification,
    CertificationType,
    CoachingAction,
    Cohort,
    Desa,
    ExportRecord,
    Ikm,
    IkmFinancials,
    ImportBatch,
    Kabupaten,
    Kecamatan,
    Product,
    ProductCategory,
    Retailer,
    RetailListing,
    utcnow,
)
from models.enums import CertScope, CertStatus, ExportRoute, ListingStatus
from services import audit, clock
from services.errors import ServiceError, StaleRecord, ValidationFailed
from services.ikm import Column, ikm_values, size_class
from services.permissions import Actor, require
from services.privacy import mask_detail
from services.products import PRODUCT_COLUMNS, clean_product
from services.validation import (
    Errors,
    Invalid,
    blank,
    clean_text,
    parse_choice,
    parse_date,
    parse_int,
    parse_money,
    parse_positive,
)
from services.writes import apply_changes, as_id, flush, raise_errors

CERT_STATUSES = tuple(s.value for s in CertStatus)
LISTING_STATUSES = tuple(s.value for s in ListingStatus)
EXPORT_ROUTES = tuple(r.value for r in ExportRoute)
EXPIRY_SOON_DAYS = 60
MAX_VOLUME = 1e9
MAX_VALUE_USD = 1e10
MAX_CAPACITY = 100_000_000
MAX_NET_CONTENT = 1e6
HISTORY_LIMIT = 500

# ISO 3166-1 alpha-2 code: (Indonesian name, English name, other spellings people type).
COUNTRIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "MY": ("Malaysia", "Malaysia", ()),
    "SG": ("Singapura", "Singapore", ()),
    "BN": ("Brunei Darussalam", "Brunei", ("brunei",)),
    "TH": ("Thailand", "Thailand", ("muangthai",)),
    "VN": ("Vietnam", "Viet Nam", ()),
    "PH": ("Filipina", "Philippines", ()),
    "MM": ("Myanmar", "Myanmar", ("burma",)),
    "KH": ("Kamboja", "Cambodia", ()),
    "LA": ("Laos", "Lao PDR", ()),
    "TL": ("Timor Leste", "Timor-Leste", ("east timor",)),
    "CN": ("Tiongkok", "China", ("cina", "rrt", "tiongkok rrt")),
    "HK": ("Hong Kong", "Hong Kong", ()),
    "TW": ("Taiwan", "Taiwan", ()),
    "JP": ("Jepang", "Japan", ()),
    "KR": ("Korea Selatan", "South Korea", ("korea", "korsel")),
    "IN": ("India", "India", ()),
    "PK": ("Pakistan", "Pakistan", ()),
    "BD": ("Bangladesh", "Bangladesh", ()),
    "LK": ("Sri Lanka", "Sri Lanka", ()),
    "SA": ("Arab Saudi", "Saudi Arabia", ("saudi", "saudi arabia")),
    "AE": ("Uni Emirat Arab", "United Arab Emirates", ("uae", "uea", "emirat arab")),
    "QA": ("Qatar", "Qatar", ()),
    "KW": ("Kuwait", "Kuwait", ()),
    "OM": ("Oman", "Oman", ()),
    "BH": ("Bahrain", "Bahrain", ()),
    "JO": ("Yordania", "Jordan", ()),
    "TR": ("Turki", "Türkiye", ("turkey", "turkiye")),
    "EG": ("Mesir", "Egypt", ()),
    "IR": ("Iran", "Iran", ()),
    "IQ": ("Irak", "Iraq", ()),
    "YE": ("Yaman", "Yemen", ()),
    "MA": ("Maroko", "Morocco", ()),
    "DZ": ("Aljazair", "Algeria", ()),
    "TN": ("Tunisia", "Tunisia", ()),
    "ZA": ("Afrika Selatan", "South Africa", ()),
    "NG": ("Nigeria", "Nigeria", ()),
    "KE": ("Kenya", "Kenya", ()),
    "US": ("Amerika Serikat", "United States", ("usa", "amerika", "as")),
    "CA": ("Kanada", "Canada", ()),
    "MX": ("Meksiko", "Mexico", ()),
    "BR": ("Brasil", "Brazil", ()),
    "AR": ("Argentina", "Argentina", ()),
    "CL": ("Chili", "Chile", ()),
    "SR": ("Suriname", "Suriname", ()),
    "AU": ("Australia", "Australia", ()),
    "NZ": ("Selandia Baru", "New Zealand", ()),
    "GB": ("Inggris", "United Kingdom", ("uk", "britania raya", "great britain", "england")),
    "IE": ("Irlandia", "Ireland", ()),
    "NL": ("Belanda", "Netherlands", ("holland", "the netherlands")),
    "BE": ("Belgia", "Belgium", ()),
    "DE": ("Jerman", "Germany", ()),
    "FR": ("Prancis", "France", ("perancis",)),
    "IT": ("Italia", "Italy", ()),
    "ES": ("Spanyol", "Spain", ()),
    "PT": ("Portugal", "Portugal", ()),
    "CH": ("Swiss", "Switzerland", ()),
    "AT": ("Austria", "Austria", ()),
    "SE": ("Swedia", "Sweden", ()),
    "NO": ("Norwegia", "Norway", ()),
    "DK": ("Denmark", "Denmark", ()),
    "FI": ("Finlandia", "Finland", ()),
    "PL": ("Polandia", "Poland", ()),
    "CZ": ("Ceko", "Czechia", ("czech republic",)),
    "GR": ("Yunani", "Greece", ()),
    "RU": ("Rusia", "Russia", ()),
    "UA": ("Ukraina", "Ukraine", ()),
}


def _key(text: str) -> str:
    # "Uni Emirat Arab" = "uni-emirat arab"; "Türkiye" = "turkiye"
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


_COUNTRY_KEYS: dict[str, str] = {}
for _code, (_id, _en, _aliases) in COUNTRIES.items():
    for _name in (_code, _id, _en, *_aliases):
        _COUNTRY_KEYS.setdefault(_key(_name), _code)


def parse_country(value) -> str | None:
    """An ISO 3166-1 alpha-2 code from a code or an Indonesian/English name ('Jepang', 'UAE')."""
    if blank(value):
        return None
    code = _COUNTRY_KEYS.get(_key(value))
    if code is None:
        raise Invalid("rec.unknown_country", value=str(value).strip()[:60])
    return code


def add_months(day: date, months: int) -> date:
    """The same day `months` later (clamped to the month's end: 31 Jan + 1 = 28/29 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_warning(expires_on: date | None, today: date) -> str | None:
    """'expired' before today, 'soon' within 60 days, else None."""
    if expires_on is None:
        return None
    if expires_on < today:
        return "expired"
    if expires_on <= today + timedelta(days=EXPIRY_SOON_DAYS):
        return "soon"
    return None


# --- lookups handed to the pure cleaners ---------------------------------------------------------

class ProductInfo(NamedTuple):
    name: str
    category_code: str
    is_food: bool
    is_wood: bool


class CertTypeInfo(NamedTuple):
    name: str
    scope: str
    applies_to: str
    validity_months: int | None


def _bounded_positive(value, *, maximum: float) -> float | None:
    number = parse_positive(value)
    if number is not None and not number <= maximum:  # also refuses inf and nan
        raise Invalid("v.too_large", max=f"{maximum:,.0f}")
    return number


def _int_like(value) -> int | None:
    # An id typed or read from a cell: 7, 7.0, "7"; anything else is None.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d{1,18}", value.strip(), re.ASCII):
        return int(value.strip())
    return None


def _match_product(e: Errors, name: str, value, products: Mapping[int, ProductInfo]) -> int | None:
    """A product of this IKM given by id or by name (case-insensitive); None when blank."""
    if blank(value):
        return None
    if _int_like(value) in products:
        return _int_like(value)
    wanted = str(value).strip().casefold()
    found = [pid for pid, p in products.items() if p.name.casefold() == wanted]
    if len(found) == 1:
        return found[0]
    names = {p.name.casefold(): p.name for p in products.values()}
    close = get_close_matches(wanted, list(names), n=1, cutoff=0.6) or [
        n for n in names if wanted and (n.startswith(wanted) or wanted.startswith(n))][:1]
    if close:
        e.add(name, "rec.product_not_of_ikm_suggest", value=str(value).strip()[:60],
              suggestion=names[close[0]])
    else:
        e.add(name, "rec.product_not_of_ikm")
    return None


def _date_not_future(e: Errors, name: str, value, today: date) -> date | None:
    day = e.check(name, parse_date, value)
    if day is not None and day > today:
        e.add(name, "v.future_date")
    return day


def _require(e: Errors, out: dict, name: str) -> None:
    if out.get(name) is None and name not in e.items:
        e.add(name, "v.required")


# --- pure cleaners ------------------------------------------------------------------------------

CERT_COLUMNS: tuple[Column, ...] = (
    Column("cert_type_code", "Jenis sertifikat", "Certificate type", required=True),
    Column("product_id", "Produk", "Product"),
    Column("number", "Nomor", "Number"),
    Column("status", "Status", "Status", required=True, choices=CERT_STATUSES),
    Column("filed_on", "Tanggal pengajuan", "Filed on", kind="date"),
    Column("issued_on", "Tanggal terbit", "Issued on", kind="date"),
    Column("expires_on", "Berlaku sampai", "Expires on", kind="date"),
    Column("note", "Catatan", "Note"),
)


def _cert_type_keys(cert_types: Mapping[str, CertTypeInfo]) -> dict[str, str]:
    """Normalised code, name and the abbreviation in its name's brackets -> code ("P-IRT" and
    "PIRT" are the SPP-IRT; "halal" the HALAL certificate). Built once per set of types: an
    import cleans thousands of certificates against the same one."""
    return _cert_type_keys_of(tuple(cert_types.items()))


@lru_cache(maxsize=8)
def _cert_type_keys_of(items: tuple[tuple[str, CertTypeInfo], ...]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for code, info in items:
        for text in (code, info.name, *re.findall(r"\(([^()]+)\)", info.name)):
            keys.setdefault(_key(text), code)
    return keys


def clean_certification(raw: Mapping, *, cert_types: Mapping[str, CertTypeInfo],
                        products: Mapping[int, ProductInfo],
                        today: date | None = None) -> tuple[dict, Errors]:
    """Validate a certificate of one IKM; `products` are that IKM's live products."""
    today = today or clock.today()
    e = Errors()
    out: dict = {}
    code = raw.get("cert_type_code")
    out["cert_type_code"] = None
    if blank(code):
        e.add("cert_type_code", "v.required")
    else:
        text = str(code).strip()
        by_key = _cert_type_keys(cert_types)
        out["cert_type_code"] = by_key.get(_key(text))
        if out["cert_type_code"] is None:
            close = get_close_matches(_key(text), list(by_key), n=1, cutoff=0.7)
            if close:
                e.add("cert_type_code", "rec.unknown_cert_type_suggest", value=text[:60],
                      suggestion=cert_types[by_key[close[0]]].name)
            else:
                e.add("cert_type_code", "rec.unknown_cert_type", value=text[:60])
    out["product_id"] = _match_product(e, "product_id", raw.get("product_id"), products)
    ctype = cert_types.get(out["cert_type_code"]) if out["cert_type_code"] else None
    if ctype is not None:
        if ctype.scope == CertScope.product:
            product = products.get(out["product_id"])
            if out["product_id"] is None:
                if "product_id" not in e.items:
                    e.add("product_id", "rec.cert_needs_product")
            elif (ctype.applies_to == "food" and not product.is_food) \
                    or (ctype.applies_to == "nonfood" and product.is_food) \
                    or (ctype.applies_to == "wood" and not product.is_wood):
                e.add("product_id", "rec.cert_not_applicable")
        elif not blank(raw.get("product_id")):
            e.add("product_id", "rec.cert_no_product")
            out["product_id"] = None
    out["number"] = e.check("number", clean_text, raw.get("number"), max_len=64)
    status = raw.get("status")
    out["status"] = e.check("status", parse_choice, "belum" if blank(status) else status,
                            CERT_STATUSES)
    out["filed_on"] = _date_not_future(e, "filed_on", raw.get("filed_on"), today)
    out["issued_on"] = _date_not_future(e, "issued_on", raw.get("issued_on"), today)
    out["expires_on"] = e.check("expires_on", parse_date, raw.get("expires_on"))
    out["note"] = e.check("note", clean_text, raw.get("note"), max_len=1000)
    if out["status"] == "proses":
        _require(e, out, "filed_on")
    if out["status"] == "terbit":
        _require(e, out, "issued_on")
    if out["filed_on"] and out["issued_on"] and out["issued_on"] < out["filed_on"]:
        e.add("issued_on", "v.date_order", other=out["filed_on"].isoformat())
    if out["issued_on"] and out["expires_on"] and out["expires_on"] <= out["issued_on"]:
        e.add("expires_on", "v.date_order", other=out["issued_on"].isoformat())
    if (out["status"] == "terbit" and out["expires_on"] is None and "expires_on" not in e.items
            and out["issued_on"] and ctype is not None and ctype.validity_months):
        out["expires_on"] = add_months(out["issued_on"], ctype.validity_months)
    return out, e


LISTING_COLUMNS: tuple[Column, ...] = (
    Column("product_id", "Produk", "Product", required=True),
    Column("retailer_id", "Ritel", "Retailer", required=True),
    Column("status", "Status", "Status", required=True, choices=LISTING_STATUSES),
    Column("listed_on", "Tanggal listing", "Listed on", required=True, kind="date"),
    Column("delisted_on", "Tanggal delisting", "Delisted on", kind="date"),
    Column("repeat_orders", "Pesanan ulang", "Repeat orders"),
    Column("note", "Catatan", "Note"),
)


def clean_listing(raw: Mapping, *, retailers: Mapping[int, str],
                  products: Mapping[int, ProductInfo],
                  today: date | None = None) -> tuple[dict, Errors]:
    """Validate a retail listing of one IKM's product; `retailers` maps id -> name."""
    today = today or clock.today()
    e = Errors()
    out: dict = {}
    out["product_id"] = _match_product(e, "product_id", raw.get("product_id"), products)
    _require(e, out, "product_id")
    retailer = raw.get("retailer_id")
    out["retailer_id"] = None
    if blank(retailer):
        e.add("retailer_id", "v.required")
    else:
        by_name = {_key(n): i for i, n in retailers.items()}
        if _int_like(retailer) in retailers:
            out["retailer_id"] = _int_like(retailer)
        else:
            out["retailer_id"] = by_name.get(_key(retailer))
        if out["retailer_id"] is None:
            e.add("retailer_id", "rec.unknown_retailer", value=str(retailer).strip()[:60])
    status = raw.get("status")
    out["status"] = e.check("status", parse_choice, "listing" if blank(status) else status,
                            LISTING_STATUSES)
    out["listed_on"] = _date_not_future(e, "listed_on", raw.get("listed_on"), today)
    _require(e, out, "listed_on")
    out["delisted_on"] = _date_not_future(e, "delisted_on", raw.get("delisted_on"), today)
    if out["status"] == "delisting":
        _require(e, out, "delisted_on")
    elif out["delisted_on"] is not None:
        e.add("delisted_on", "rec.delisted_needs_status")
    if out["listed_on"] and out["delisted_on"] and out["delisted_on"] <= out["listed_on"]:
        e.add("delisted_on", "v.date_order", other=out["listed_on"].isoformat())
    orders = e.check("repeat_orders", parse_int, raw.get("repeat_orders"), minimum=0,
                     maximum=1_000_000)
    out["repeat_orders"] = orders or 0
    out["note"] = e.check("note", clean_text, raw.get("note"), max_len=1000)
    return out, e


EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("product_id", "Produk", "Product", required=True),
    Column("shipped_on", "Tanggal kirim", "Shipped on", required=True, kind="date"),
    Column("country", "Negara tujuan", "Destination country", required=True),
    Column("buyer", "Pembeli", "Buyer"),
    Column("volume", "Volume", "Volume", kind="number"),
    Column("unit", "Satuan", "Unit"),
    Column("value_usd", "Nilai (USD)", "Value (USD)", kind="number"),
    Column("route", "Jalur", "Route", choices=EXPORT_ROUTES),
)


def clean_export(raw: Mapping, *, products: Mapping[int, ProductInfo],
                 today: date | None = None) -> tuple[dict, Errors]:
    """Validate one shipment of one IKM's product."""
    today = today or clock.today()
    e = Errors()
    out: dict = {}
    out["product_id"] = _match_product(e, "product_id", raw.get("product_id"), products)
    _require(e, out, "product_id")
    out["shipped_on"] = _date_not_future(e, "shipped_on", raw.get("shipped_on"), today)
    _require(e, out, "shipped_on")
    out["country"] = e.check("country", parse_country, raw.get("country"))
    _require(e, out, "country")
    out["buyer"] = e.check("buyer", clean_text, raw.get("buyer"), max_len=120)
    out["volume"] = e.check("volume", _bounded_positive, raw.get("volume"), maximum=MAX_VOLUME)
    unit = e.check("unit", clean_text, raw.get("unit"), max_len=16)
    out["unit"] = unit.lower() if unit else None
    out["value_usd"] = e.check("value_usd", _bounded_positive, raw.get("value_usd"),
                               maximum=MAX_VALUE_USD)
    route = raw.get("route")
    out["route"] = e.check("route", parse_choice, "direct" if blank(route) else route,
                           EXPORT_ROUTES)
    return out, e


COACHING_COLUMNS: tuple[Column, ...] = (
    Column("text", "Tindakan pembinaan", "Coaching action", required=True),
    Column("product_id", "Produk", "Product"),
    Column("owner", "Penanggung jawab", "Owner"),
    Column("due_on", "Tenggat", "Due on", kind="date"),
    Column("done_on", "Selesai pada", "Done on", kind="date"),
)


def clean_coaching(raw: Mapping, *, products: Mapping[int, ProductInfo],
                   today: date | None = None) -> tuple[dict, Errors]:
    """Validate a coaching action of one IKM (optionally about one of its products)."""
    today = today or clock.today()
    e = Errors()
    out: dict = {}
    out["text"] = e.check("text", clean_text, raw.get("text"), max_len=400)
    _require(e, out, "text")
    out["product_id"] = _match_product(e, "product_id", raw.get("product_id"), products)
    out["owner"] = e.check("owner", clean_text, raw.get("owner"), max_len=80)
    out["due_on"] = e.check("due_on", parse_date, raw.get("due_on"))
    out["done_on"] = _date_not_future(e, "done_on", raw.get("done_on"), today)
    return out, e


FINANCIAL_COLUMNS: tuple[Column, ...] = (
    Column("year", "Tahun", "Year", required=True),
    Column("capital_rp", "Modal usaha (Rp)", "Business capital (Rp)", kind="money"),
    Column("revenue_rp", "Omzet (Rp)", "Revenue (Rp)", kind="money"),
    Column("export_revenue_rp", "Omzet ekspor (Rp)", "Export revenue (Rp)", kind="money"),
)


def clean_financials(raw: Mapping, *, today: date | None = None) -> tuple[dict, Errors]:
    """Validate one year of an IKM's figures (at least one amount)."""
    today = today or clock.today()
    e = Errors()
    out: dict = {}
    out["year"] = e.check("year", parse_int, raw.get("year"), minimum=1990, maximum=today.year)
    _require(e, out, "year")
    for name in ("capital_rp", "revenue_rp", "export_revenue_rp"):
        out[name] = e.check(name, parse_money, raw.get(name))
    if all(out[n] is None for n in ("capital_rp", "revenue_rp", "export_revenue_rp")) \
            and not any(n in e.items for n in ("capital_rp", "revenue_rp", "export_revenue_rp")):
        e.add("revenue_rp", "rec.financials_empty")
    if None not in (out["revenue_rp"], out["export_revenue_rp"]) \
            and out["export_revenue_rp"] > out["revenue_rp"]:
        e.add("export_revenue_rp", "v.export_above_revenue")
    return out, e


# --- shared write machinery ---------------------------------------------------------------------







def live_ikm(session: Session, ikm_id) -> Ikm:
    """An IKM that exists and is not in the trash."""
    row = session.get(Ikm, as_id(ikm_id))
    if row is None or row.deleted_at is not None:
        raise ServiceError("err.not_found")
    return row


def _product_infos(session: Session, ikm_id: int) -> dict[int, ProductInfo]:
    rows = session.execute(
        select(Product.id, Product.name, Product.category_code, ProductCategory.is_food,
               ProductCategory.is_wood)
        .join(ProductCategory, ProductCategory.code == Product.category_code)
        .where(Product.ikm_id == ikm_id, Product.deleted_at.is_(None)))
    return {r.id: ProductInfo(r.name, r.category_code, r.is_food, r.is_wood) for r in rows}


def _cert_types(session: Session) -> dict[str, CertTypeInfo]:
    rows = session.execute(select(CertificationType))
    return {t.code: CertTypeInfo(t.name, t.scope, t.applies_to, t.validity_months)
            for (t,) in rows}


def _retailers(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Retailer.id, Retailer.name)).all())


@dataclass(frozen=True)
class _Kind:
    # One kind of child record of an IKM and how it is cleaned and stored.
    model: type
    fields: tuple[str, ...]
    clean: Callable  # (session, ikm, raw, row or None) -> (clean dict, Errors)
    via_product: bool = False  # tied to its IKM through product_id (no ikm_id column)
    soft: bool = False  # delete moves it to the trash (deleted_at)

    @property
    def table(self) -> str:
        return self.model.__tablename__


def _clean_product_for(session: Session, ikm: Ikm, raw: Mapping, row) -> tuple[dict, Errors]:
    categories = dict(session.execute(select(ProductCategory.code, ProductCategory.name_id)).all())
    out, e = clean_product(dict(raw), categories=categories)
    if out["capacity_per_month"] is not None and out["capacity_per_month"] > MAX_CAPACITY:
        e.add("capacity_per_month", "v.too_large", max=f"{MAX_CAPACITY:,}")
    if out["net_content"] is not None and not out["net_content"] <= MAX_NET_CONTENT:
        e.add("net_content", "v.too_large", max=f"{MAX_NET_CONTENT:,.0f}")
    if None not in (out["cost_rp"], out["price_rp"]) and out["cost_rp"] > out["price_rp"]:
        e.add("cost_rp", "v.cost_above_price")
    # Checked only for a new or renamed product, so old duplicates stay editable.
    if out["name"] and (row is None or out["name"].casefold() != row.name.casefold()):
        query = select(Product.name).where(Product.ikm_id == ikm.id, Product.deleted_at.is_(None))
        if row is not None:
            query = query.where(Product.id != row.id)
        taken = {n.casefold() for n in session.execute(query).scalars()}
        if out["name"].casefold() in taken:
            e.add("name", "rec.product_exists")
    return out, e


def _clean_cert_for(session: Session, ikm: Ikm, raw: Mapping, row) -> tuple[dict, Errors]:
    return clean_certification(raw, cert_types=_cert_types(session),
                               products=_product_infos(session, ikm.id))


def _clean_listing_for(session: Session, ikm: Ikm, raw: Mapping, row) -> tuple[dict, Errors]:
    out, e = clean_listing(raw, retailers=_retailers(session),
                           products=_product_infos(session, ikm.id))
    if out["product_id"] and out["retailer_id"] and out["status"] != "delisting":
        query = select(RetailListing.id).where(
            RetailListing.product_id == out["product_id"],
            RetailListing.retailer_id == out["retailer_id"],
            RetailListing.status != "delisting")
        if row is not None:
            query = query.where(RetailListing.id != row.id)
        if session.execute(query.limit(1)).first() is not None:
            e.add("retailer_id", "rec.listing_exists")
    return out, e


def _clean_export_for(session: Session, ikm: Ikm, raw: Mapping, row) -> tuple[dict, Errors]:
    return clean_export(raw, products=_product_infos(session, ikm.id))


def _clean_coaching_for(session: Session, ikm: Ikm, raw: Mapping, row) -> tuple[dict, Errors]:
    return clean_coaching(raw, products=_product_infos(session, ikm.id))


PRODUCT = _Kind(Product, tuple(c.name for c in PRODUCT_COLUMNS), _clean_product_for, soft=True)
CERTIFICATION = _Kind(Certification, tuple(c.name for c in CERT_COLUMNS), _clean_cert_for)
LISTING = _Kind(RetailListing, tuple(c.name for c in LISTING_COLUMNS), _clean_listing_for,
                via_product=True)
EXPORT = _Kind(ExportRecord, tuple(c.name for c in EXPORT_COLUMNS), _clean_export_for,
               via_product=True)
COACHING = _Kind(CoachingAction, tuple(c.name for c in COACHING_COLUMNS), _clean_coaching_for)


def _load(session: Session, kind: _Kind, row_id) -> tuple:
    """A record of this kind and its live parent IKM (not found when either is gone)."""
    row = session.get(kind.model, as_id(row_id))
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise ServiceError("err.not_found")
    if kind.via_product:
        product = session.get(Product, row.product_id)
        if product is None or product.deleted_at is not None:
            raise ServiceError("err.not_found")
        return row, live_ikm(session, product.ikm_id)
    return row, live_ikm(session, row.ikm_id)


def guarded(clean: Callable[[dict], tuple[dict, Errors]], raw: Mapping) -> tuple[dict, Errors]:
    """Run a cleaner with infinite numbers refused as not a number first (pandas reads "inf"
    as a float, and services.validation.parse_int overflows on it). NaN floats stay: they are
    the empty cells of a spreadsheet."""
    bad = {k for k, v in raw.items()
           if (isinstance(v, float) and math.isinf(v))
           or (isinstance(v, Decimal) and not v.is_finite())}
    out, errors = clean({k: None if k in bad else v for k, v in raw.items()})
    merged = Errors({k: ("v.not_number", {}) for k in sorted(bad, key=str)})
    for name, problem in errors.items.items():
        merged.items.setdefault(name, problem)
    return out, merged


def _cleaned(kind: _Kind, session: Session, ikm: Ikm, raw: Mapping, row) -> tuple[dict, Errors]:
    return guarded(lambda r: kind.clean(session, ikm, r, row), raw)


def _create(session: Session, actor: Actor, kind: _Kind, ikm_id, data):
    ikm = live_ikm(session, ikm_id)
    require(actor, "programme.write", ikm.kabupaten_code)
    clean, errors = _cleaned(kind, session, ikm, dict(data or {}), None)
    raise_errors(errors)
    extra = {} if kind.via_product else {"ikm_id": ikm.id}
    row = kind.model(**clean, **extra, created_by=actor.username)
    session.add(row)
    flush(session)
    audit.record(session, username=actor.username, action="create", table=kind.table,
                 row_id=row.id, after={**audit.snapshot(row), "ikm_id": ikm.id})
    return row


def _update(session: Session, actor: Actor, kind: _Kind, row_id, expected_version, changes):
    row, ikm = _load(session, kind, row_id)
    require(actor, "programme.write", ikm.kabupaten_code)
    if row.version != expected_version:
        raise StaleRecord()
    changes = dict(changes or {})
    unknown = set(changes) - set(kind.fields)
    if unknown:
        raise ValidationFailed("err.validation",
                               errors={str(f): ["rec.not_editable"] for f in unknown})
    before = {f: getattr(row, f) for f in kind.fields}
    clean, errors = _cleaned(kind, session, ikm, {**before, **changes}, row)
    raise_errors(errors)
    return apply_changes(session, actor=actor, row=row, table=kind.table, before=before,
                         clean=clean)


def _delete(session: Session, actor: Actor, kind: _Kind, row_id, expected_version) -> None:
    row, ikm = _load(session, kind, row_id)
    require(actor, "programme.write", ikm.kabupaten_code)
    if row.version != expected_version:
        raise StaleRecord()
    before = {**audit.snapshot(row), "ikm_id": ikm.id}
    if kind.soft:
        now = utcnow()
        row.deleted_at, row.updated_at, row.updated_by = now, now, actor.username
        session.add(row)
    else:
        session.delete(row)
    flush(session)
    audit.record(session, username=actor.username, action="delete", table=kind.table,
                 row_id=before["id"], before=before)


# --- products -----------------------------------------------------------------------------------

def create_product(session: Session, *, actor: Actor, ikm_id: int, data: dict) -> Product:
    """Add a product to an IKM (name unique among its live products, cost not above price)."""
    return _create(session, actor, PRODUCT, ikm_id, data)


def update_product(session: Session, *, actor: Actor, product_id: int, expected_version: int,
                   changes: dict) -> Product:
    """Change a product; the merged record is validated whole; stale versions are refused."""
    return _update(session, actor, PRODUCT, product_id, expected_version, changes)


def delete_product(session: Session, *, actor: Actor, product_id: int,
                   expected_version: int) -> None:
    """Move a product to the trash (its certificates, listings and exports stay with it)."""
    _delete(session, actor, PRODUCT, product_id, expected_version)


# --- certifications ------------------------------------------------------------------------------

def create_certification(session: Session, *, actor: Actor, ikm_id: int,
                         data: dict) -> Certification:
    """Record a certificate of an IKM (enterprise/facility) or of one of its products."""
    return _create(session, actor, CERTIFICATION, ikm_id, data)


def update_certification(session: Session, *, actor: Actor, certification_id: int,
                         expected_version: int, changes: dict) -> Certification:
    """Change a certificate; validated whole; stale versions refused."""
    return _update(session, actor, CERTIFICATION, certification_id, expected_version, changes)


def delete_certification(session: Session, *, actor: Actor, certification_id: int,
                         expected_version: int) -> None:
    """Remove a certificate (the audit row keeps a full copy)."""
    _delete(session, actor, CERTIFICATION, certification_id, expected_version)


# --- retail listings ----------------------------------------------------------------------------

def create_listing(session: Session, *, actor: Actor, ikm_id: int, data: dict) -> RetailListing:
    """Record a product of the IKM in a known modern-retail chain."""
    return _create(session, actor, LISTING, ikm_id, data)


def update_listing(session: Session, *, actor: Actor, listing_id: int, expected_version: int,
                   changes: dict) -> RetailListing:
    """Change a listing (e.g. mark it delisted); validated whole; stale versions refused."""
    return _update(session, actor, LISTING, listing_id, expected_version, changes)


def delete_listing(session: Session, *, actor: Actor, listing_id: int,
                   expected_version: int) -> None:
    """Remove a listing entered by mistake (the audit row keeps a full copy)."""
    _delete(session, actor, LISTING, listing_id, expected_version)


# --- exports ------------------------------------------------------------------------------------

def create_export(session: Session, *, actor: Actor, ikm_id: int, data: dict) -> ExportRecord:
    """Record one shipment abroad of a product of the IKM."""
    return _create(session, actor, EXPORT, ikm_id, data)


def update_export(session: Session, *, actor: Actor, export_id: int, expected_version: int,
                  changes: dict) -> ExportRecord:
    """Change a shipment; validated whole; stale versions refused."""
    return _update(session, actor, EXPORT, export_id, expected_version, changes)


def delete_export(session: Session, *, actor: Actor, export_id: int,
                  expected_version: int) -> None:
    """Remove a shipment entered by mistake (the audit row keeps a full copy)."""
    _delete(session, actor, EXPORT, export_id, expected_version)


# --- coaching actions ---------------------------------------------------------------------------

def create_coaching(session: Session, *, actor: Actor, ikm_id: int, data: dict) -> CoachingAction:
    """Record a coaching action (the "dibina" step) for an IKM."""
    return _create(session, actor, COACHING, ikm_id, data)


def update_coaching(session: Session, *, actor: Actor, coaching_id: int, expected_version: int,
                    changes: dict) -> CoachingAction:
    """Change a coaching action (e.g. mark it done); validated whole; stale versions refused."""
    return _update(session, actor, COACHING, coaching_id, expected_version, changes)


def delete_coaching(session: Session, *, actor: Actor, coaching_id: int,
                    expected_version: int) -> None:
    """Remove a coaching action (the audit row keeps a full copy)."""
    _delete(session, actor, COACHING, coaching_id, expected_version)


# --- financials ---------------------------------------------------------------------------------

FINANCIAL_AMOUNTS = ("capital_rp", "revenue_rp", "export_revenue_rp")


def _check_expected(row: IkmFinancials | None, expected: Mapping | None) -> None:
    # IkmFinancials has no version column: an edit names the amounts it was opened on instead.
    if expected is None:
        return
    if row is None or any(getattr(row, k) != expected.get(k) for k in FINANCIAL_AMOUNTS):
        raise StaleRecord()


def upsert_financials(session: Session, *, actor: Actor, ikm_id: int, data: dict,
                      expected: Mapping | None = None) -> IkmFinancials:
    """Set one year of an IKM's figures (the whole year: blank amounts are cleared).

    IkmFinancials has no version column. Without `expected` there is no stale check beyond the
    unique (ikm_id, year) key (a concurrent insert of the same year fails it and rolls back);
    an edit passes `expected`, the year's amounts as it showed them, and a year that is gone or
    holds other amounts by now is refused as stale.
    """
    ikm = live_ikm(session, ikm_id)
    require(actor, "programme.write", ikm.kabupaten_code)
    clean, errors = guarded(clean_financials, dict(data or {}))
    raise_errors(errors)
    row = session.execute(select(IkmFinancials).where(
        IkmFinancials.ikm_id == ikm.id, IkmFinancials.year == clean["year"])).scalar_one_or_none()
    _check_expected(row, expected)
    table = IkmFinancials.__tablename__
    if row is None:
        row = IkmFinancials(**clean, ikm_id=ikm.id, created_by=actor.username)
        session.add(row)
        flush(session)
        audit.record(session, username=actor.username, action="create", table=table,
                     row_id=row.id, after={**audit.snapshot(row), "ikm_id": ikm.id})
        return row
    before = {k: getattr(row, k) for k in clean}
    return apply_changes(session, actor=actor, row=row, table=table, before=before, clean=clean)


def delete_financials(session: Session, *, actor: Actor, ikm_id: int, year: int,
                      expected: Mapping | None = None) -> None:
    """Remove one year of an IKM's figures (the audit row keeps a full copy); with `expected`
    (the amounts the caller showed) a year changed meanwhile is refused as stale."""
    ikm = live_ikm(session, ikm_id)
    require(actor, "programme.write", ikm.kabupaten_code)
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise ServiceError("err.not_found")
    row = session.execute(select(IkmFinancials).where(
        IkmFinancials.ikm_id == ikm.id, IkmFinancials.year == year)).scalar_one_or_none()
    if row is None:
        raise ServiceError("err.not_found")
    _check_expected(row, expected)
    before = {**audit.snapshot(row), "ikm_id": ikm.id}
    session.delete(row)
    flush(session)
    audit.record(session, username=actor.username, action="delete",
                 table=IkmFinancials.__tablename__, row_id=before["id"], before=before)


# --- the detail view ----------------------------------------------------------------------------

_BOOKKEEPING = {"id", "created_at", "created_by", "updated_at", "updated_by", "version", "ikm_id",
                "import_batch"}
_CHILD_TABLES = (Product, Certification, RetailListing, ExportRecord, CoachingAction,
                 IkmFinancials)


def _history(session: Session, ikm_id: int, child_ids: dict[str, list[int]],
             labels: dict[tuple[str, str], str]) -> list[dict]:
    """Audit rows of the IKM and its child records (deleted ones too), newest first."""
    conditions = [and_(AuditLog.table_name == Ikm.__tablename__, AuditLog.row_id == str(ikm_id))]
    for table, ids in child_ids.items():
        if ids:
            conditions.append(and_(AuditLog.table_name == table,
                                   AuditLog.row_id.in_([str(i) for i in ids])))
    # Hard-deleted child rows are gone; their delete row carries the IKM id.
    conditions.append(and_(AuditLog.table_name.in_([m.__tablename__ for m in _CHILD_TABLES]),
                           AuditLog.action == "delete",
                           AuditLog.before["ikm_id"].as_integer() == ikm_id))
    rows = session.execute(select(AuditLog).where(or_(*conditions))
                           .order_by(AuditLog.at.desc(), AuditLog.id.desc())
                           .limit(HISTORY_LIMIT)).scalars()
    rows = list(rows)
    # an imported record's audit rows name their batch: the file it came from
    batches = {r.after["import_batch"] for r in rows
               if isinstance(r.after, dict) and isinstance(r.after.get("import_batch"), int)}
    files = dict(session.execute(select(ImportBatch.id, ImportBatch.filename)
                                 .where(ImportBatch.id.in_(batches))).all()) if batches else {}
    out = []
    for r in rows:
        before, after = r.before or {}, r.after or {}
        changes = [{"field": k, "before": before.get(k), "after": after.get(k)}
                   for k in dict.fromkeys([*before, *after])
                   if k not in _BOOKKEEPING and before.get(k) != after.get(k)]
        label = labels.get((r.table_name, r.row_id)) or before.get("name") \
            or after.get("name") or before.get("cert_type_code") or after.get("cert_type_code")
        out.append({"at": r.at, "username": r.username, "action": r.action,
                    "table": r.table_name, "row_id": r.row_id, "label": label,
                    "before": before, "after": after, "changes": changes,
                    "source": files.get(after.get("import_batch"))})
    return out


def ikm_detail(session: Session, *, ikm_id: int, today: date | None = None,
               actor: Actor | None = None) -> dict:
    """Everything about one IKM for its detail view, in a handful of queries: the IKM with its
    region and cohort names, its live products, certificates (with expiry warnings), retail
    listings, exports, coaching actions, financials by year with the size class, and history.
    With an `actor` who may not read personal data, the IKM's phone, NIB and address and every
    personal value in its history are masked (services.privacy); without one, nothing is."""
    today = today or clock.today()
    found = session.execute(
        select(Ikm, Kabupaten.name, Kecamatan.name, Desa.name, Cohort.name)
        .join(Kabupaten, Kabupaten.code == Ikm.kabupaten_code)
        .join(Kecamatan, Kecamatan.code == Ikm.kecamatan_code)
        .outerjoin(Desa, Desa.code == Ikm.desa_code)
        .outerjoin(Cohort, Cohort.id == Ikm.cohort_id)
        .where(Ikm.id == as_id(ikm_id))).first()
    if found is None or found[0].deleted_at is not None:
        raise ServiceError("err.not_found")
    ikm, kabupaten, kecamatan, desa, cohort = found
    info = {"id": ikm.id, "version": ikm.version, **ikm_values(ikm), "kabupaten": kabupaten,
            "kecamatan": kecamatan, "desa": desa, "cohort": cohort,
            "verified_at": ikm.verified_at, "verified_by": ikm.verified_by,
            "created_at": ikm.created_at, "created_by": ikm.created_by,
            "updated_at": ikm.updated_at, "updated_by": ikm.updated_by}

    all_products = session.execute(
        select(Product, ProductCategory.name_id, ProductCategory.name_en)
        .join(ProductCategory, ProductCategory.code == Product.category_code)
        .where(Product.ikm_id == ikm.id).order_by(Product.name, Product.id)).all()
    live = {p.id: p for p, _, _ in all_products if p.deleted_at is None}
    products = [{**p.model_dump(), "category": cat_id, "category_en": cat_en}
                for p, cat_id, cat_en in all_products if p.deleted_at is None]

    def product_name(pid):
        return live[pid].name if pid in live else None

    certs = []
    cert_rows = session.execute(
        select(Certification, CertificationType.name, CertificationType.scope)
        .join(CertificationType, CertificationType.code == Certification.cert_type_code)
        .where(Certification.ikm_id == ikm.id)
        .order_by(Certification.product_id.is_not(None), Certification.cert_type_code,
                  Certification.id)).all()
    for c, type_name, scope in cert_rows:
        if c.product_id is not None and c.product_id not in live:
            continue
        certs.append({**c.model_dump(), "cert_type_name": type_name, "scope": scope,
                      "product_name": product_name(c.product_id),
                      "expiry_warning": expiry_warning(c.expires_on, today)})

    listing_rows = session.execute(
        select(RetailListing, Retailer.name)
        .join(Retailer, Retailer.id == RetailListing.retailer_id)
        .join(Product, Product.id == RetailListing.product_id)
        .where(Product.ikm_id == ikm.id)
        .order_by(RetailListing.listed_on.desc(), RetailListing.id)).all()
    listings = [{**r.model_dump(), "retailer_name": name,
                 "product_name": product_name(r.product_id)}
                for r, name in listing_rows if r.product_id in live]

    export_rows = session.execute(
        select(ExportRecord).join(Product, Product.id == ExportRecord.product_id)
        .where(Product.ikm_id == ikm.id)
        .order_by(ExportRecord.shipped_on.desc(), ExportRecord.id)).scalars().all()
    exports = [{**x.model_dump(), "product_name": product_name(x.product_id),
                "country_name": COUNTRIES.get(x.country, (x.country,))[0],
                "country_name_en": COUNTRIES.get(x.country, (x.country, x.country))[1]}
               for x in export_rows if x.product_id in live]

    coaching_rows = session.execute(
        select(CoachingAction).where(CoachingAction.ikm_id == ikm.id)
        .order_by(CoachingAction.done_on.is_not(None), CoachingAction.due_on,
                  CoachingAction.id)).scalars().all()
    coaching = [{**a.model_dump(), "product_name": product_name(a.product_id)}
                for a in coaching_rows if a.product_id is None or a.product_id in live]

    fin_rows = session.execute(
        select(IkmFinancials).where(IkmFinancials.ikm_id == ikm.id)
        .order_by(IkmFinancials.year.desc())).scalars().all()
    financials = [{**f.model_dump(),
                   "size_class": size_class(capital_rp=f.capital_rp, revenue_rp=f.revenue_rp)}
                  for f in fin_rows]
    info["size_class"] = financials[0]["size_class"] if financials else None

    child_ids = {
        Product.__tablename__: [p.id for p, _, _ in all_products],
        Certification.__tablename__: [c.id for c, _, _ in cert_rows],
        RetailListing.__tablename__: [r.id for r, _ in listing_rows],
        ExportRecord.__tablename__: [x.id for x in export_rows],
        CoachingAction.__tablename__: [a.id for a in coaching_rows],
        IkmFinancials.__tablename__: [f.id for f in fin_rows],
    }
    labels = {(Product.__tablename__, str(p.id)): p.name for p, _, _ in all_products}
    labels |= {(Certification.__tablename__, str(c.id)): name for c, name, _ in cert_rows}
    labels |= {(RetailListing.__tablename__, str(r.id)): name for r, name in listing_rows}
    labels |= {(IkmFinancials.__tablename__, str(f.id)): str(f.year) for f in fin_rows}
    detail = {"ikm": info, "products": products, "certifications": certs,
              "retail_listings": listings, "exports": exports, "coaching": coaching,
              "financials": financials,
              "history": _history(session, ikm.id, child_ids, labels)}
    return detail if actor is None else mask_detail(detail, actor)
