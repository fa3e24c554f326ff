"""Product fields and their rules (shared by the detail view's form, imports and exports)."""

import re

from services.ikm import Column
from services.validation import (
    Errors,
    Invalid,
    blank,
    clean_text,
    parse_date,
    parse_gtin,
    parse_int,
    parse_money,
    parse_positive,
    plain,
)

UNITS = ("g", "kg", "ml", "l", "pcs", "lembar", "pasang", "set", "unit", "pack")

PRODUCT_COLUMNS: tuple[Column, ...] = (
    Column("name", "Nama produk", "Product name", required=True),
    Column("category_code", "Kategori", "Category", required=True),
    Column("brand", "Merek", "Brand"),
    Column("net_content", "Isi bersih", "Net content", kind="number"),
    Column("unit", "Satuan", "Unit", choices=UNITS),
    Column("shelf_life_days", "Umur simpan (hari)", "Shelf life (days)"),
    Column("price_rp", "Harga (Rp)", "Price (Rp)", kind="money"),
    Column("cost_rp", "Biaya produksi (Rp)", "Unit cost (Rp)", kind="money"),
    Column("capacity_per_month", "Kapasitas per bulan", "Capacity per month",
           kind="number"),
    Column("gtin", "Barcode (GTIN)", "Barcode (GTIN)"),
    Column("hs_code", "Kode HS", "HS code"),
    Column("packaging_upgraded_on", "Tanggal upgrade kemasan", "Packaging upgraded on",
           kind="date"),
    Column("baseline_sales_rp", "Penjualan awal per bulan (Rp)", "Baseline monthly sales (Rp)",
           kind="money"),
)


def parse_hs_code(value) -> str | None:
    """An HS code of 4 to 10 digits (dots allowed in input: '1905.90.90')."""
    if blank(value):
        return None
    if isinstance(value, float):
        # A spreadsheet turned "1905.90" into 1905.9: pad the decimals back to pairs.
        whole, _, frac = repr(value).partition(".")
        frac = "" if frac == "0" else frac + "0" * (len(frac) % 2)
        value = whole + frac
    digits = re.sub(r"[\s.]", "", str(value))
    if not re.fullmatch(r"\d{4,10}", digits):
        raise Invalid("v.hs_code")
    return digits


def clean_product(raw: dict, *, categories: dict[str, str]) -> tuple[dict, Errors]:
    """Validate a whole product record; `categories` maps category code -> a display name
    (names are matched too, case-insensitively). Returns clean values and problems."""
    e = Errors()
    out: dict = {}
    out["name"] = e.check("name", clean_text, raw.get("name"), max_len=160)
    if out["name"] is None and "name" not in e.items:
        e.add("name", "v.required")
    category = raw.get("category_code")
    if blank(category):
        e.add("category_code", "v.required")
        out["category_code"] = None
    else:
        text = plain(category, refuse=False)
        known = {**{n.casefold(): c for c, n in categories.items()},
                 **{c.casefold(): c for c in categories}}
        out["category_code"] = known.get(text.casefold())
        if out["category_code"] is None:
            e.add("category_code", "v.unknown_category", value=text,
                  choices=", ".join(sorted(categories.values(), key=str.casefold)))
    out["brand"] = e.check("brand", clean_text, raw.get("brand"), max_len=80)
    out["net_content"] = e.check("net_content", parse_positive, raw.get("net_content"))
    if out["net_content"] is not None and out["net_content"] > 1_000_000:
        e.add("net_content", "v.too_large", max="1.000.000")
    unit = raw.get("unit")
    out["unit"] = None if blank(unit) else plain(unit, refuse=False).lower()
    if out["unit"] is not None and out["unit"] not in UNITS:
        e.add("unit", "v.choice", choices=", ".join(UNITS))
    out["shelf_life_days"] = e.check("shelf_life_days", parse_int, raw.get("shelf_life_days"),
                                     minimum=1, maximum=3650)
    out["price_rp"] = e.check("price_rp", parse_money, raw.get("price_rp"))
    out["cost_rp"] = e.check("cost_rp", parse_money, raw.get("cost_rp"))
    for money in ("price_rp", "cost_rp"):
        if out[money] == 0:
            e.add(money, "v.not_positive")
    out["capacity_per_month"] = e.check("capacity_per_month", parse_int,
                                        raw.get("capacity_per_month"), minimum=1,
                                        maximum=100_000_000)
    out["gtin"] = e.check("gtin", parse_gtin, raw.get("gtin"))
    out["hs_code"] = e.check("hs_code", parse_hs_code, raw.get("hs_code"))
    out["packaging_upgraded_on"] = e.check("packaging_upgraded_on", parse_date,
                                           raw.get("packaging_upgraded_on"))
    out["baseline_sales_rp"] = e.check("baseline_sales_rp", parse_money,
                                       raw.get("baseline_sales_rp"))
    return out, e
