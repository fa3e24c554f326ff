"""Reference data: Madura regions from the copied CSV files, plus catalogues and rubric v1.

Loading is idempotent: rows are inserted when missing and left alone when present, so admins'
later edits (a new retailer, a reweighted rubric) survive a restart.
"""

import csv
from pathlib import Path

from sqlmodel import Session, select

from models import (
    CertificationType,
    Desa,
    Kabupaten,
    Kecamatan,
    MarketRequirement,
    ProductCategory,
    Retailer,
    Rubric,
    RubricCriterion,
    TargetMarket,
)

REFERENCE = Path(__file__).resolve().parent / "reference"

# code, name_id, name_en, is_food, is_wood
PRODUCT_CATEGORIES = [
    ("batik_tulis", "Batik tulis", "Hand-drawn batik", False, False),
    ("kerupuk", "Olahan pangan: kerupuk", "Processed food: crackers", True, False),
    ("petis", "Olahan pangan: petis", "Processed food: petis paste", True, False),
    ("rengginang", "Olahan pangan: rengginang lorjuk", "Processed food: lorjuk rice crackers",
     True, False),
    ("keripik", "Olahan pangan: keripik", "Processed food: chips", True, False),
    ("teri", "Olahan pangan: teri", "Processed food: dried anchovies", True, False),
    ("garam", "Garam", "Salt", True, False),
    ("jamu", "Jamu / herbal", "Jamu / herbal", True, False),
    ("kerajinan", "Kerajinan (pecut, udeng, topeng, keris)", "Crafts (whips, udeng, masks, keris)",
     False, False),
    ("alas_kaki", "Alas kaki (sandal)", "Footwear (sandals)", False, False),
    ("mebel_kayu", "Mebel kayu", "Wooden furniture", False, True),
    ("tembakau", "Tembakau", "Tobacco", False, False),
    ("lainnya", "Lainnya", "Other", False, False),
]

# code, name, scope, applies_to, validity_months
CERTIFICATION_TYPES = [
    ("NIB", "Nomor Induk Berusaha", "enterprise", "all", None),
    ("SPP-IRT", "Sertifikat Produksi Pangan Industri Rumah Tangga (P-IRT)", "product", "food", 60),
    ("BPOM_MD", "Izin edar BPOM MD", "product", "food", 60),
    ("HALAL", "Sertifikat halal", "product", "food", None),
    ("SNI", "Standar Nasional Indonesia", "product", "all", 48),
    ("MEREK", "Pendaftaran merek (trademark)", "enterprise", "all", 120),
    ("GS1", "Barcode GS1", "product", "all", 12),
    ("LABEL", "Label lengkap", "product", "all", None),
    ("NUTRI", "Uji nilai gizi", "product", "food", 36),
    ("GMP", "Good Manufacturing Practice / CPPOB", "facility", "food", 36),
    ("HACCP", "HACCP", "facility", "food", 36),
    ("ISO22000", "ISO 22000", "facility", "food", 36),
    ("FDA_FFR", "US FDA Food Facility Registration", "facility", "food", 24),
    ("SVLK", "Sistem Verifikasi Legalitas Kayu", "enterprise", "wood", 72),
    ("SIINAS", "Sistem Informasi Industri Nasional", "enterprise", "all", None),
    ("SKA_COO", "Surat Keterangan Asal / Certificate of Origin", "product", "all", 12),
]

RETAILERS = [
    ("Alfamart", "minimarket"),
    ("Alfamidi", "minimarket"),
    ("Indomaret", "minimarket"),
    ("Hypermart", "hypermarket"),
]

TARGET_MARKETS = [
    ("US", "Amerika Serikat", "United States"),
    ("EU", "Uni Eropa", "European Union"),
    ("ASEAN", "ASEAN", "ASEAN"),
    ("GCC", "Negara Teluk (GCC)", "Gulf states (GCC)"),
    ("JP", "Jepang", "Japan"),
]

# market, cert type, applies_to, mandatory
MARKET_REQUIREMENTS = [
    ("US", "FDA_FFR", "food", True), ("US", "NUTRI", "food", True), ("US", "LABEL", "all", True),
    ("US", "GS1", "all", True), ("US", "HACCP", "food", False),
    ("EU", "HACCP", "food", True), ("EU", "LABEL", "all", True), ("EU", "NUTRI", "food", True),
    ("EU", "SVLK", "wood", True), ("EU", "GS1", "all", False), ("EU", "SKA_COO", "all", False),
    ("ASEAN", "BPOM_MD", "food", True), ("ASEAN", "LABEL", "all", True),
    ("ASEAN", "SKA_COO", "all", True), ("ASEAN", "GS1", "all", False),
    ("GCC", "HALAL", "food", True), ("GCC", "LABEL", "all", True), ("GCC", "GS1", "all", True),
    ("GCC", "SKA_COO", "all", True),
    ("JP", "HACCP", "food", True), ("JP", "LABEL", "all", True), ("JP", "NUTRI", "food", True),
    ("JP", "SVLK", "wood", True),
]

LEVELS_GENERIC = ["tidak ada / none", "mulai / started", "sebagian / partial",
                  "memenuhi / meets", "melampaui / exceeds"]

# code, dimension, name_id, name_en, weight, source
RUBRIC_V1_CRITERIA = [
    ("A1", "A", "Konsistensi mutu dan sistem keamanan pangan (GMP → HACCP / ISO 22000, uji lab)",
     "Quality consistency and food-safety system (GMP → HACCP / ISO 22000, lab tests)", 10,
     "auto+assessor"),
    ("A2", "A", "Kemasan dan label kelas ekspor (label lengkap, label Inggris, barcode GS1)",
     "Export-grade packaging and label (complete label, English label, GS1 barcode)", 10,
     "auto+assessor"),
    ("A3", "A", "Umur simpan dan ketahanan transportasi (≥ 180 hari untuk laut; SVLK untuk kayu)",
     "Shelf life and transport robustness (≥ 180 days suits sea freight; SVLK for wood)", 5,
     "auto"),
    ("A4", "A", "Keunikan, identitas Madura, desain", "Uniqueness, Madura identity, design", 10,
     "assessor"),
    ("B1", "B", "Kapasitas bulanan terhadap pesanan pertama yang realistis",
     "Monthly capacity against a realistic first order", 10, "auto"),
    ("B2", "B", "Kontinuitas bahan baku dan musim", "Raw-material continuity and seasonality", 5,
     "assessor"),
    ("B3", "B", "Daya saing harga: biaya diketahui, margin menutup logistik ekspor",
     "Price competitiveness: cost known, margin covers export logistics", 5, "auto+assessor"),
    ("C1", "C", "Kinerja ritel modern: jaringan, lama listing, pesanan ulang",
     "Modern-retail performance: chains, months listed, repeat orders", 10, "auto"),
    ("C2", "C", "Jangkauan pasar: provinsi, kanal daring",
     "Market reach: provinces, online channels", 5, "assessor"),
    ("C3", "C", "Paparan ekspor: sampel, permintaan pembeli, ekspor tidak langsung",
     "Export exposure: samples, buyer inquiries, indirect export", 5, "assessor"),
    ("D1", "D", "Komitmen dan kapasitas manajemen", "Management commitment and capacity", 5,
     "assessor"),
    ("D2", "D", "Kapasitas keuangan dan pembukuan", "Financial capacity and bookkeeping", 5,
     "assessor"),
    ("D3", "D", "Kepatuhan pasar tujuan: porsi sertifikat wajib yang dimiliki atau diproses",
     "Target-market compliance: share of required certificates held or in process", 5, "auto"),
    ("E1", "E", "Penyelesaian tindakan pembinaan", "Coaching action completion rate", 5, "auto"),
    ("E2", "E", "Perbaikan sejak baseline (pertumbuhan penjualan, upgrade kemasan)",
     "Improvement since baseline (sales growth, packaging upgrade)", 5, "auto"),
]

RUBRIC_V1_BANDS = [
    {"min": 0, "code": "belum_siap", "id": "Belum siap (fokus domestik)",
     "en": "Not ready (domestic focus)"},
    {"min": 50, "code": "perlu_pembinaan", "id": "Perlu pembinaan", "en": "Needs coaching"},
    {"min": 65, "code": "calon_ekspor", "id": "Calon ekspor (pembinaan intensif)",
     "en": "Export candidate (intensive coaching)"},
    {"min": 80, "code": "siap_ekspor", "id": "Siap ekspor (temu pembeli)",
     "en": "Export-ready (buyer matching)"},
]

RUBRIC_V1_GATES = [
    {"code": "G1", "id": "Badan usaha: NIB ada dan sah",
     "en": "Legal entity: NIB present and valid"},
    {"code": "G2", "id": "Izin edar (pangan): SPP-IRT atau BPOM MD berlaku",
     "en": "Distribution licence (food): SPP-IRT or BPOM MD valid"},
    {"code": "G3", "id": "Halal (pangan): terbit, atau dalam proses dengan tanggal pengajuan",
     "en": "Halal (food): obtained, or in process with a filing date"},
    {"code": "G4", "id": "Komitmen tertulis pemilik untuk ekspor dan pembinaan",
     "en": "Owner's written commitment to export and coaching"},
]


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _add_missing(session: Session, model, key: str, rows: list[dict]) -> int:
    """Insert the rows whose key is not yet in the table; return how many were added."""
    column = getattr(model, key)
    present = set(session.exec(select(column)).all())
    new = [model(**row) for row in rows if row[key] not in present]
    session.add_all(new)
    session.flush()
    return len(new)


def load_reference(session: Session) -> dict[str, int]:
    """Insert every missing reference row; return the number added per table."""
    regions = _read_csv("madura_wilayah.csv")
    bps = {r["kecamatan_code"]: r["bps_kecamatan_code"]
           for r in _read_csv("madura_kecamatan_bps_crosswalk.csv")}
    kabupaten = {r["kabupaten_code"]: r["kabupaten"] for r in regions}
    added = {
        "kabupaten": _add_missing(session, Kabupaten, "code", [
            {"code": code, "name": name, "target_ikm": 120} for code, name in kabupaten.items()]),
        "kecamatan": _add_missing(session, Kecamatan, "code", [
            {"code": r["kecamatan_code"], "kabupaten_code": r["kabupaten_code"],
             "name": r["kecamatan"], "bps_code": bps.get(r["kecamatan_code"])} for r in regions]),
        "desa": _add_missing(session, Desa, "code", [
            {"code": r["desa_code"], "kecamatan_code": r["kecamatan_code"], "name": r["desa"],
             "jenis": r["jenis"]} for r in _read_csv("madura_desa.csv")]),
        "product_category": _add_missing(session, ProductCategory, "code", [
            dict(zip(("code", "name_id", "name_en", "is_food", "is_wood"), row, strict=True))
            for row in PRODUCT_CATEGORIES]),
        "certification_type": _add_missing(session, CertificationType, "code", [
            dict(zip(("code", "name", "scope", "applies_to", "validity_months"), row, strict=True))
            for row in CERTIFICATION_TYPES]),
        "retailer": _add_missing(session, Retailer, "name", [
            {"name": name, "kind": kind} for name, kind in RETAILERS]),
        "target_market": _add_missing(session, TargetMarket, "code", [
            dict(zip(("code", "name_id", "name_en"), row, strict=True)) for row in TARGET_MARKETS]),
    }
    present = set(session.exec(select(MarketRequirement.market_code,
                                      MarketRequirement.cert_type_code,
                                      MarketRequirement.applies_to)).all())
    reqs = [MarketRequirement(market_code=m, cert_type_code=c, applies_to=a, mandatory=mand)
            for m, c, a, mand in MARKET_REQUIREMENTS if (m, c, a) not in present]
    session.add_all(reqs)
    added["market_requirement"] = len(reqs)
    added["rubric_criterion"] = 0
    if session.get(Rubric, 1) is None:
        session.add(Rubric(version_no=1, name="Rubrik kesiapan ekspor v1", active=True,
                           bands=RUBRIC_V1_BANDS, gates=RUBRIC_V1_GATES))
        session.flush()
        session.add_all(
            RubricCriterion(rubric_version=1, code=code, dimension=dim, name_id=nid, name_en=nen,
                            weight=w, source=src, levels=LEVELS_GENERIC)
            for code, dim, nid, nen, w, src in RUBRIC_V1_CRITERIA)
        added["rubric_criterion"] = len(RUBRIC_V1_CRITERIA)
    session.flush()
    return added
