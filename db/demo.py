"""Synthetic demo programme: cohorts, IKM and every dated fact that moves them through the funnel.

`seed_demo` assumes the reference data is loaded (`db.reference_data.load_reference`). It is
deterministic: one `random.Random(seed)` drives every choice and the only clock is `today`, so two
runs with the same seed and `today` on fresh databases produce identical rows. Rows are written with
bulk `INSERT`s and ids assigned here (continuing after each table's current maximum), so it scales
to 100,000 IKM and also works on a database that already holds data. It never commits: the caller
owns the transaction.
"""

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text
from sqlmodel import Session

from models import (
    Assessment,
    AssessmentScore,
    Certification,
    CertificationType,
    CoachingAction,
    Cohort,
    Desa,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Kabupaten,
    Kecamatan,
    Product,
    ProductCategory,
    Retailer,
    RetailListing,
    RubricCriterion,
    ShortlistDecision,
    ShortlistMeeting,
)
from services import clock

DEMO_SEED = 20240501
DEMO_USER = "demo"
RUBRIC_VERSION = 1
COHORT_SIZE = 40
CHUNK_IKM = 2000  # IKM (with all their facts) generated before each bulk insert
PROGRAMME_START = date(2023, 2, 6)

# Row-count keys of the returned dict, in insert (foreign-key) order.
TABLES = {
    "cohort": Cohort,
    "ikm": Ikm,
    "ikm_financials": IkmFinancials,
    "product": Product,
    "certification": Certification,
    "retail_listing": RetailListing,
    "coaching_action": CoachingAction,
    "assessment": Assessment,
    "assessment_score": AssessmentScore,
    "shortlist_meeting": ShortlistMeeting,
    "shortlist_decision": ShortlistDecision,
    "export_record": ExportRecord,
}

# --- vocabulary --------------------------------------------------------------------------------

FEMALE_FIRST = ["Siti", "Nur", "Fatimah", "Aisyah", "Khotijah", "Maimunah", "Halimah", "Zainab",
                "Rohmah", "Sri", "Dewi", "Umi", "Hosniyah", "Mutmainnah", "Sumiati", "Rukayyah",
                "Juhairiyah", "Fitriyah", "Hasanah", "Masruroh", "Lailatul", "Sholihah", "Anisah",
                "Suhairiyah", "Mariyam"]
FEMALE_LAST = ["Aminah", "Hasanah", "Rahmawati", "Qomariyah", "Fadilah", "Jamilah", "Khoiriyah",
               "Maryam", "Rofiah", "Solehah", "Wulandari", "Zahroh", "Hidayati", "Mufidah",
               "Latifah", "Munawwaroh", "Faridah"]
MALE_FIRST = ["Moh.", "Ahmad", "Abdul", "Hasan", "Husein", "Syamsul", "Fauzi", "Hairul", "Sukri",
              "Ach.", "Rahmat", "Imam", "Zainal", "Sahrul", "Badrus", "Suhaimi", "Holil",
              "Matrawi", "Mudhar", "Fathor", "Junaidi", "Slamet", "Hosen", "Mat Sari"]
MALE_LAST = ["Hasan", "Basri", "Rahman", "Arifin", "Hidayat", "Syafi'i", "Ridwan", "Sholeh",
             "Fauzi", "Rofiq", "Mansur", "Zaini", "Halim", "Munir", "Tohir", "Ghozali"]
NAME_WORDS = ["Mandiri", "Barokah", "Sumber Rejeki", "Berkah Jaya", "Putri Madura",
              "Karya Bersama", "Sari Laut", "Al-Hikmah", "Bintang Timur", "Tiga Saudara", "Cahaya",
              "Makmur", "Sejahtera", "Annisa", "Nur Hidayah", "Lestari", "Sekar Jagad", "Rahmat",
              "Sinar Madura", "Jaya Abadi", "Taretan", "Al-Amin", "Kharisma", "Arek Madura"]
BRANDS = ["Sari Madura", "Cap Kerapan Sapi", "Lorjuk Mas", "Pesona Madura", "Raja Rasa",
          "Madura Asli", "Kharisma", "Taretan", "Sekar Sumekar", "Jokotole", "Bhumi Madura",
          "Putri Pesisir", "Ombak Biru", "Kembang Tanjung", "Ratu Garam", "Lancor"]
STREETS = ["Raya", "Trunojoyo", "Diponegoro", "KH. Hasyim Asy'ari", "Pahlawan", "Jokotole",
           "Merdeka", "Sultan Abdurrahman", "Pesisir", "Kenanga", "Melati", "Cakraningrat"]
DUSUN = ["Krajan", "Laok", "Daya", "Temor", "Barat", "Tengah", "Pesisir", "Tambak", "Somber"]
PHONE_PREFIX = ["0812", "0813", "0852", "0853", "0857", "0859", "0877", "0878", "0819", "0821",
                "0822", "0895"]
LEGAL_FORMS = [("perorangan", 55), ("UD", 25), ("CV", 10), ("koperasi", 6), ("PT", 4)]
LEAVE_REASONS = ["Usaha tutup", "Pindah domisili ke luar Madura", "Tidak melanjutkan program",
                 "Fokus ke usaha lain", "Pemilik sakit", "Tidak dapat dihubungi"]

# category: (weight, words for the business name)
CATEGORIES = {
    "kerupuk": (16, ["Kerupuk Ikan", "Kerupuk Udang", "Kerupuk"]),
    "keripik": (12, ["Keripik", "Aneka Keripik"]),
    "petis": (8, ["Petis", "Petis Ikan"]),
    "rengginang": (7, ["Rengginang Lorjuk", "Rengginang"]),
    "teri": (7, ["Teri Nasi", "Ikan Asin", "Olahan Ikan"]),
    "batik_tulis": (14, ["Batik Tulis", "Batik", "Sanggar Batik", "Batik Gentongan"]),
    "garam": (6, ["Garam", "Garam Rakyat", "Tambak Garam"]),
    "jamu": (7, ["Jamu", "Jamu Madura", "Herbal"]),
    "kerajinan": (9, ["Kerajinan", "Pecut Madura", "Topeng", "Keris", "Anyaman"]),
    "mebel_kayu": (5, ["Mebel", "Ukir Kayu", "Mebel Ukir"]),
    "alas_kaki": (3, ["Sandal", "Sandal Kulit"]),
    "tembakau": (4, ["Tembakau", "Tembakau Rajangan"]),
    "lainnya": (2, ["Aneka Usaha", "Usaha"]),
}

# category: list of (product name, hs code), unit, net content range, shelf life days or None,
# price range Rp, capacity per month range, export unit
PRODUCT_SPECS = {
    "kerupuk": ([("Kerupuk Ikan Tenggiri", "1905.90"), ("Kerupuk Udang", "1905.90"),
                 ("Kerupuk Terung", "1905.90"), ("Kerupuk Rambak", "1905.90"),
                 ("Kerupuk Lorjuk", "1905.90")], "g", (150, 500), (90, 270), (12_000, 45_000),
                (200, 3000), "pak"),
    "keripik": ([("Keripik Singkong Pedas", "2008.99"), ("Keripik Pisang", "2008.99"),
                 ("Keripik Tempe", "2008.99"), ("Keripik Sukun", "2008.99"),
                 ("Keripik Kulit Ikan", "1604.20")], "g", (100, 250), (120, 240), (10_000, 35_000),
                (300, 4000), "pak"),
    "petis": ([("Petis Ikan", "2103.90"), ("Petis Udang", "2103.90"),
               ("Petis Kupang", "2103.90")], "g", (150, 500), (60, 180), (15_000, 60_000),
              (150, 2000), "botol"),
    "rengginang": ([("Rengginang Lorjuk", "1904.10"), ("Rengginang Terasi", "1904.10"),
                    ("Rengginang Ikan", "1904.10")], "g", (200, 500), (90, 180),
                   (15_000, 50_000), (150, 2000), "pak"),
    "teri": ([("Teri Nasi Kering", "0305.59"), ("Teri Asin Madura", "0305.59"),
              ("Ikan Asin Layur", "0305.59"), ("Abon Ikan", "1604.20")], "g", (100, 500),
             (90, 365), (25_000, 120_000), (100, 1500), "kg"),
    "garam": ([("Garam Beryodium", "2501.00"), ("Garam Krosok", "2501.00"),
               ("Garam Meja Halus", "2501.00"), ("Garam Spa Aromaterapi", "2501.00")], "g",
              (250, 1000), (300, 365), (3_000, 25_000), (1000, 20000), "kg"),
    "jamu": ([("Jamu Sehat Wanita Madura", "2106.90"), ("Jamu Pegal Linu", "2106.90"),
              ("Jamu Kunyit Asam Instan", "2106.90"), ("Jamu Rapet Madura", "2106.90")], "g",
             (100, 250), (180, 365), (15_000, 75_000), (200, 2500), "pak"),
    "batik_tulis": ([("Kain Batik Tulis Tanjung Bumi", "5208.52"),
                     ("Batik Tulis Gentongan", "5208.52"), ("Kemeja Batik Tulis", "6205.20"),
                     ("Selendang Batik Tulis", "6214.90")], "lembar", (1, 1), None,
                    (250_000, 3_500_000), (10, 200), "lembar"),
    "kerajinan": ([("Pecut Madura", "4602.19"), ("Udeng Madura", "6505.00"),
                   ("Topeng Kayu Sumenep", "4420.10"), ("Keris Replika Aeng Tong-Tong", "9701.91"),
                   ("Tas Anyaman Pandan", "4602.19")], "pcs", (1, 1), None, (35_000, 2_000_000),
                  (20, 500), "pcs"),
    "mebel_kayu": ([("Kursi Ukir Jati", "9403.60"), ("Lemari Ukir Karduluk", "9403.60"),
                    ("Meja Tamu Ukir", "9403.60"), ("Gebyok Ukir Madura", "4418.20")], "unit",
                   (1, 1), None, (1_500_000, 25_000_000), (2, 20), "unit"),
    "alas_kaki": ([("Sandal Kulit", "6403.99"), ("Sandal Batik Madura", "6404.19"),
                   ("Sandal Hotel", "6402.20")], "pasang", (1, 1), None, (25_000, 250_000),
                  (100, 3000), "pasang"),
    "tembakau": ([("Tembakau Rajangan Madura", "2401.20"), ("Tembakau Krosok", "2401.10")], "kg",
                 (1, 5), None, (40_000, 150_000), (100, 2000), "kg"),
    "lainnya": ([("Sabun Herbal Madura", "3401.11"), ("Dupa Madura", "3307.41"),
                 ("Minyak Oles Herbal", "3304.99")], "pcs", (1, 1), None, (10_000, 80_000),
                (100, 2000), "pcs"),
}

COACHING = [
    ("Perbaiki label: tambahkan info gizi", True),
    ("Tambahkan label bahasa Inggris pada kemasan", True),
    ("Ganti kemasan ke standing pouch dengan zipper", True),
    ("Daftar barcode GS1 untuk produk", True),
    ("Uji umur simpan produk di laboratorium", True),
    ("Hitung HPP dan margin untuk harga ekspor", True),
    ("Urus sertifikat halal melalui SIHALAL", False),
    ("Ajukan SPP-IRT ke Dinas Kesehatan", False),
    ("Daftarkan merek ke DJKI", False),
    ("Buat pembukuan sederhana (kas masuk/keluar)", False),
    ("Foto produk untuk katalog daring", False),
    ("Ikut kurasi produk ritel modern", False),
    ("Siapkan sampel untuk temu pembeli", False),
    ("Perbaiki tata letak dapur produksi (CPPOB)", False),
]
COACH_OWNERS = ["Pendamping BPWS", "Tim INOPAK", "Konsultan GIZ", "Dinas Koperasi dan UKM",
                "Pemilik IKM"]

ASSESSORS = ["penilai", "penilai2", "penilai3"]
# Short evidence notes for the assessor-rated criteria, one per level 0–4.
EVIDENCE = {
    "A1": ["Belum ada catatan produksi", "Mulai mencatat proses produksi",
           "Higienis sebagian, belum uji lab", "CPPOB diterapkan, uji lab terakhir baik",
           "Sistem HACCP berjalan, mutu konsisten antar batch"],
    "A2": ["Kemasan plastik polos tanpa label", "Label sederhana, info belum lengkap",
           "Label lengkap, belum bahasa Inggris", "Label lengkap dwibahasa dengan barcode",
           "Kemasan kelas ekspor, label dwibahasa dan barcode GS1"],
    "A4": ["Produk generik", "Sedikit unsur khas Madura", "Motif/rasa khas, desain biasa",
           "Identitas Madura kuat, desain menarik", "Sangat khas, desain siap pasar global"],
    "B2": ["Bahan baku tidak menentu", "Bergantung musim, tanpa stok",
           "Pemasok tetap, stok terbatas", "Pemasok tetap dan stok penyangga",
           "Kontrak pemasok dan rencana musim tersedia"],
    "B3": ["Biaya produksi tidak diketahui", "HPP dihitung kasar", "HPP diketahui, margin tipis",
           "Margin menutup logistik ekspor", "Harga bersaing dengan margin sehat"],
    "C2": ["Hanya pasar desa", "Pasar kabupaten", "Beberapa kota di Jawa Timur",
           "Antarprovinsi dan toko daring", "Nasional dengan beberapa kanal daring"],
    "C3": ["Belum pernah", "Pernah ikut pameran lokal", "Sampel dikirim ke calon pembeli",
           "Ada permintaan pembeli luar negeri", "Sudah ekspor tidak langsung"],
    "D1": ["Pemilik belum berkomitmen", "Komitmen lisan", "Hadir pembinaan sebagian",
           "Komitmen tertulis, hadir rutin", "Ada penanggung jawab ekspor khusus"],
    "D2": ["Tidak ada pembukuan", "Catatan kas sederhana", "Pembukuan bulanan",
           "Laporan keuangan rapi", "Laporan keuangan dan akses kredit bank"],
}
ASSESSMENT_NOTES = ["Kunjungan ke tempat produksi", "Penilaian saat klinik produk",
                    "Dinilai dari sampel dan dokumen", "Wawancara pemilik dan cek dokumen"]

FOLLOW_UP_OWNERS = ["Pendamping BPWS", "Tim INOPAK", "Konsultan GIZ", "Dinas Perindag"]
MEETING_ATTENDEES = ("Kepala Bidang Ekonomi BPWS (ketua); perwakilan INOPAK; konsultan GIZ; "
                     "Dinas Perindustrian dan Perdagangan Jawa Timur; tim penilai")
EXPORT_MARKETS = [
    ("MY", 25, ["Kedai Nusantara Sdn Bhd", "Borneo Halal Trading Sdn Bhd"]),
    ("SG", 15, ["Nusantara Foods Pte Ltd", "Lion City Provisions Pte Ltd"]),
    ("SA", 15, ["Al-Madina Trading Co.", "Jeddah Spice House"]),
    ("AE", 10, ["Gulf Halal Foods LLC", "Dubai Indo Mart LLC"]),
    ("JP", 10, ["Tokyo Asia Foods K.K.", "Osaka Ethnic Goods K.K."]),
    ("NL", 15, ["Toko Indonesia B.V.", "Amsterdam Batik House B.V."]),
    ("US", 10, ["Indo Mart USA Inc.", "Island Craft Imports LLC"]),
]
USD_RATE = 16_000


# --- small helpers -----------------------------------------------------------------------------

def _add_months(d: date, months: int) -> date:
    """The same day `months` later (clamped to the month's end)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)  # pragma: no cover


def _at(d: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware UTC datetime on a date (facts are entered during office hours)."""
    return datetime.combine(d, time(hour, minute), tzinfo=UTC)


def gtin_check_digit(body: str) -> str:
    """The GS1 check digit for the first 12 digits of a GTIN-13."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return str((10 - total % 10) % 10)


def _cum(weights: list[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


class _Generator:
    """Holds the random stream, the reference data and the row buffers of one run."""

    def __init__(self, session: Session, rng: random.Random, today: date,
                 progress: Callable[[float, str], None] | None) -> None:
        self.s, self.rng, self.today, self.progress = session, rng, today, progress
        self.buffer: dict[str, list[dict]] = {name: [] for name in TABLES}
        self.counts = dict.fromkeys(TABLES, 0)
        self.next_id = {name: (session.execute(select(func.max(model.id))).scalar() or 0) + 1
                        for name, model in TABLES.items()}
        self.nibs = set(session.execute(select(Ikm.nib).where(Ikm.nib.is_not(None))).scalars())
        self.gtins = set(session.execute(
            select(Product.gtin).where(Product.gtin.is_not(None))).scalars())
        self._load_reference()
        self.assessed: list[dict] = []  # one summary per assessed product (for the meeting)
        self.meeting_on = self._meeting_date()

    # reference ---------------------------------------------------------------------------------

    def _load_reference(self) -> None:
        s = self.s
        self.kabupaten = [tuple(r) for r in s.execute(
            select(Kabupaten.code, Kabupaten.name).order_by(Kabupaten.code)).all()]
        if not self.kabupaten:
            raise RuntimeError("reference data missing: run db.reference_data.load_reference")
        self.places: dict[str, list[tuple]] = {code: [] for code, _ in self.kabupaten}
        rows = s.execute(
            select(Kecamatan.kabupaten_code, Kecamatan.code, Kecamatan.name, Desa.code, Desa.name,
                   Desa.jenis)
            .join(Desa, Desa.kecamatan_code == Kecamatan.code).order_by(Desa.code)).all()
        for kab, kec, kec_name, desa, desa_name, jenis in rows:
            self.places[kab].append((kec, kec_name, desa, desa_name, jenis))
        cats = {r[0]: (bool(r[1]), bool(r[2])) for r in s.execute(
            select(ProductCategory.code, ProductCategory.is_food, ProductCategory.is_wood)).all()}
        self.categories = [c for c in CATEGORIES if c in cats]
        self.cat_cum = _cum([CATEGORIES[c][0] for c in self.categories])
        self.is_food = {c: cats[c][0] for c in self.categories}
        self.is_wood = {c: cats[c][1] for c in self.categories}
        self.food_categories = [c for c in self.categories if self.is_food[c]]
        self.validity = dict(s.execute(
            select(CertificationType.code, CertificationType.validity_months)).all())
        retailers = dict(s.execute(select(Retailer.name, Retailer.id).order_by(Retailer.id)).all())
        wanted = [("Alfamart", 35), ("Indomaret", 35), ("Alfamidi", 20), ("Hypermart", 10)]
        self.retailers = [(retailers[n], w) for n, w in wanted if n in retailers] or [
            (rid, 1) for rid in retailers.values()]
        self.criteria = [tuple(r) for r in s.execute(
            select(RubricCriterion.code, RubricCriterion.weight, RubricCriterion.source)
            .where(RubricCriterion.rubric_version == RUBRIC_VERSION)
            .order_by(RubricCriterion.code)).all()]
        if not self.criteria:
            raise RuntimeError("rubric v1 missing: run db.reference_data.load_reference")
        self.weight_total = sum(w for _, w, _ in self.criteria)

    def _meeting_date(self) -> date:
        """The selection meeting: autumn 2025, or a month before `today` if that is earlier."""
        held = date(2025, 10, 13) + timedelta(days=self.rng.randint(0, 14))
        return min(held, self.today - timedelta(days=30))

    # random helpers ----------------------------------------------------------------------------

    def _date(self, lo: date, hi: date) -> date:
        if hi <= lo:
            return lo
        return lo + timedelta(days=self.rng.randint(0, (hi - lo).days))

    def _weighted(self, items: list, cum: list[float]):
        return self.rng.choices(items, cum_weights=cum)[0]

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _add(self, table: str, row: dict) -> int:
        row["id"] = self._id(table)
        self.buffer[table].append(row)
        return row["id"]

    def _tracked(self, at: datetime) -> dict:
        return {"created_at": at, "created_by": DEMO_USER, "updated_at": None,
                "updated_by": None}

    # writing -----------------------------------------------------------------------------------

    def flush(self) -> None:
        """Bulk-insert every buffered row, parents before children."""
        for name, model in TABLES.items():
            rows = self.buffer[name]
            if rows:
                # render_nulls keeps None values in the statement, so every row has the same
                # keys and the ORM sends one executemany per table instead of row by row.
                self.s.execute(insert(model).execution_options(render_nulls=True), rows)
                self.counts[name] += len(rows)
                self.buffer[name] = []

    def _sync_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids assigned here, so later inserts that
        let the database pick the id do not clash. SQLite needs nothing (it uses max(id) + 1)."""
        if self.s.get_bind().dialect.name != "postgresql":
            return
        for model in TABLES.values():
            table = model.__tablename__
            self.s.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"))

    def report(self, fraction: float, label: str) -> None:
        if self.progress is not None:
            self.progress(min(max(fraction, 0.0), 1.0), label)

    # the run -----------------------------------------------------------------------------------

    def run(self, per_kabupaten: int) -> dict[str, int]:
        total = per_kabupaten * len(self.kabupaten)
        done = 0
        self.report(0.0, "Menyiapkan data demo")
        for k, (kab_code, kab_name) in enumerate(self.kabupaten):
            for cohort in self._cohorts(k, kab_code, kab_name, per_kabupaten):
                self._cohort_members(cohort, kab_code)
                done += cohort["target_participants"]
                if len(self.buffer["ikm"]) >= CHUNK_IKM:
                    self.flush()
                    self.report(0.9 * done / max(total, 1), f"IKM {done:,}/{total:,}")
        self.flush()
        self.report(0.9, "Rapat seleksi dan ekspor")
        self._meeting()
        self.flush()
        self._sync_sequences()
        self.report(1.0, "Data demo selesai")
        return dict(self.counts)

    def _cohorts(self, k: int, kab_code: str, kab_name: str, n_ikm: int) -> list[dict]:
        """Cohorts of about 40 members, started from 2023 to shortly before `today`."""
        if n_ikm <= 0:
            return []
        n = max(1, round(n_ikm / COHORT_SIZE))
        first = PROGRAMME_START + timedelta(days=21 * k)
        if first > self.today - timedelta(days=400):
            first = self.today - timedelta(days=400)
        # With one cohort it has finished; with several the newest may still be running.
        last = first if n == 1 else max(first, self.today - timedelta(days=75))
        sizes = [n_ikm // n + (1 if i < n_ikm % n else 0) for i in range(n)]
        cohorts = []
        for i, size in enumerate(sizes):
            step = (last - first).days * i // max(n - 1, 1)
            start = first + timedelta(days=step + self.rng.randint(0, 10))
            end = start + timedelta(days=self.rng.randint(120, 180))
            row = {
                "name": f"Angkatan {i + 1} {kab_name} {start.year}",
                "kabupaten_code": kab_code, "year": start.year, "start_on": start,
                "end_on": end, "partners": "BPWS, INOPAK, GIZ", "target_participants": size,
                "notes": "Data demo", "deleted_at": None, "version": 1,
                **self._tracked(_at(start - timedelta(days=30))),
            }
            self._add("cohort", row)
            cohorts.append(row)
        return cohorts

    # IKM ---------------------------------------------------------------------------------------

    def _cohort_members(self, cohort: dict, kab_code: str) -> None:
        products: list[dict] = []
        for _ in range(cohort["target_participants"]):
            products.extend(self._ikm(cohort, kab_code))
        self._assess(cohort, products)

    def _owner(self) -> tuple[str, str, str]:
        rng = self.rng
        if rng.random() < 0.55:
            first, last, gender = rng.choice(FEMALE_FIRST), rng.choice(FEMALE_LAST), "P"
        else:
            first, last, gender = rng.choice(MALE_FIRST), rng.choice(MALE_LAST), "L"
        call = last if first.endswith(".") or first in ("Abdul", "Nur") else first
        return f"{first} {last}", gender, call

    def _nib(self) -> str:
        while True:
            nib = str(self.rng.randrange(10**12, 10**13))
            if nib not in self.nibs:
                self.nibs.add(nib)
                return nib

    def _gtin(self) -> str:
        while True:
            body = "899" + f"{self.rng.randrange(10**9):09d}"
            gtin = body + gtin_check_digit(body)
            if gtin not in self.gtins:
                self.gtins.add(gtin)
                return gtin

    def _ikm(self, cohort: dict, kab_code: str) -> list[dict]:
        rng, today = self.rng, self.today
        start: date = cohort["start_on"]
        q = rng.betavariate(2, 2)  # latent "strength" of the business, drives every fact
        owner, gender, call = self._owner()
        kec, kec_name, desa, desa_name, jenis = rng.choice(self.places[kab_code])
        category = self._weighted(self.categories, self.cat_cum)
        legal = self._weighted([f for f, _ in LEGAL_FORMS], _cum([w for _, w in LEGAL_FORMS]))
        word = rng.choice(CATEGORIES[category][1])
        style = rng.random()
        if style < 0.35 and legal in ("perorangan", "UD"):
            base = f"{word} {'Ibu' if gender == 'P' else 'Pak'} {call}"
        elif style < 0.75:
            base = f"{word} {rng.choice(NAME_WORDS)}"
        else:
            base = f"{word} {desa_name if rng.random() < 0.6 else kec_name}"
        name = {"perorangan": base, "UD": f"UD {base}", "CV": f"CV {base}", "PT": f"PT {base}",
                "koperasi": f"Koperasi Produsen {base}"}[legal]
        if jenis == "kelurahan":
            address = (f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 180)}, Kel. {desa_name}, "
                       f"Kec. {kec_name}")
        else:
            address = (f"Dusun {rng.choice(DUSUN)} RT {rng.randint(1, 9):02d}/RW "
                       f"{rng.randint(1, 5):02d}, Desa {desa_name}, Kec. {kec_name}")
        lo_emp, hi_emp = {"perorangan": (1, 5), "UD": (2, 15), "CV": (3, 30), "PT": (10, 80),
                          "koperasi": (5, 40)}[legal]
        employees = rng.randint(lo_emp, hi_emp)
        female_share = min(1.0, max(0.0, rng.gauss(0.7 if gender == "P" else 0.45, 0.2)))
        founded = min(start.year, 2023 - int(rng.expovariate(1 / 7)))
        founded = max(founded, 1975)
        nib = self._nib() if rng.random() < 0.9 else None
        created = start - timedelta(days=rng.randint(7, 45))
        end = today
        status, reason, left_on = "aktif", None, None
        if rng.random() < 0.04 and start + timedelta(days=30) < today:
            status, reason = "keluar", rng.choice(LEAVE_REASONS)
            left_on = self._date(start + timedelta(days=30), today - timedelta(days=1))
            end = left_on
        commitment = None
        if rng.random() < 0.15 + 0.5 * q and start < end:
            commitment = self._date(start, min(end, start + timedelta(days=365)))
        ikm = {
            "name": name, "owner_name": owner, "owner_gender": gender,
            "phone": rng.choice(PHONE_PREFIX) + f"{rng.randrange(10**8):08d}", "nib": nib,
            "legal_form": legal, "kabupaten_code": kab_code, "kecamatan_code": kec,
            "desa_code": desa, "address": address, "founded_year": founded,
            "employees": employees, "employees_female": round(employees * female_share),
            "cohort_id": cohort["id"], "export_commitment_on": commitment, "status": status,
            "status_reason": reason, "left_on": left_on,
            "verified_at": _at(created + timedelta(days=rng.randint(3, 30)), 10)
            if rng.random() < 0.8 and created + timedelta(days=30) < today else None,
            "verified_by": None, "deleted_at": None, "version": 1,
            **self._tracked(_at(created, rng.randint(8, 15), rng.randint(0, 59))),
        }
        if ikm["verified_at"] is not None:
            ikm["verified_by"] = DEMO_USER
        ikm_id = self._add("ikm", ikm)
        ctx = {"id": ikm_id, "q": q, "start": start, "end": end, "created": created,
               "founded": date(founded, 1, 1), "nib": nib, "commitment": commitment,
               "aktif": status == "aktif", "brand": self._brand(call)}
        self._financials(ctx)
        if nib:
            issued = self._date(max(ctx["founded"], date(2018, 7, 1)), created)
            self._cert_row("NIB", ctx, None, "terbit", issued, issued, number=nib)
        self._enterprise_certs(ctx, category)
        products = [self._product(ctx, category if i == 0 else self._other_category(category))
                    for i in range(self._weighted([1, 2, 3], [45, 80, 100]))]
        self._facility_certs(ctx, products)
        self._coaching(ctx, products)
        return products

    def _brand(self, call: str) -> str:
        return f"Bu {call}" if self.rng.random() < 0.2 else self.rng.choice(BRANDS)

    def _other_category(self, category: str) -> str:
        if self.rng.random() < 0.7:
            return category
        if self.is_food[category] and self.food_categories:
            return self.rng.choice(self.food_categories)
        return self._weighted(self.categories, self.cat_cum)

    def _financials(self, ctx: dict) -> None:
        rng = self.rng
        size = self._weighted(["mikro", "kecil", "menengah"], [85, 97, 100])
        cap_lo, cap_hi, rev_lo, rev_hi = {
            "mikro": (10e6, 900e6, 20e6, 1.9e9), "kecil": (1.05e9, 4.8e9, 2.1e9, 14e9),
            "menengah": (5.2e9, 9.8e9, 15.5e9, 48e9)}[size]
        capital = cap_lo * (cap_hi / cap_lo) ** (rng.random() ** 1.6)
        revenue = rev_lo * (rev_hi / rev_lo) ** (rng.random() ** 1.6)
        last_year = self.today.year - 1
        first_year = max(ctx["start"].year - 1, ctx["founded"].year)
        years = list(range(first_year, last_year + 1))[-rng.randint(1, 3):] or [self.today.year]
        for year in years:
            self._add("ikm_financials", {
                "ikm_id": ctx["id"], "year": year, "capital_rp": round(capital, -5),
                "revenue_rp": round(revenue, -5), "export_revenue_rp": None,
                **self._tracked(_at(min(date(year + 1, 2, 15), self.today), 10)),
            })
            capital = min(capital * rng.uniform(1.0, 1.15), cap_hi)
            revenue = min(revenue * rng.uniform(0.95, 1.3), rev_hi)

    # products and their facts ------------------------------------------------------------------

    def _product(self, ctx: dict, category: str) -> dict:
        rng = self.rng
        names, unit, (c_lo, c_hi), shelf, (p_lo, p_hi), (k_lo, k_hi), _ = PRODUCT_SPECS[category]
        pname, hs = rng.choice(names)
        hs = hs.replace(".", "")  # stored as digits, as the product rules clean them
        taken = ctx.setdefault("product_names", set())
        base, n = pname, 2
        while pname.lower() in taken:  # IKM + product name is the import key: keep it unique
            pname, n = f"{base} {n}", n + 1
        taken.add(pname.lower())
        food = self.is_food[category]
        net = rng.randint(c_lo, c_hi)
        if unit == "g":
            net = round(net / 25) * 25 or c_lo
        price = round(rng.uniform(p_lo, p_hi), -3 if p_hi > 100_000 else -2)
        capacity = round(k_lo * (k_hi / k_lo) ** rng.random())
        start, end, q = ctx["start"], ctx["end"], ctx["q"]
        upgraded = None
        lo, hi = start + timedelta(days=14), min(end, start + timedelta(days=540))
        # Fewer upgrades where the cohort started only recently.
        if hi > lo and rng.random() < (0.45 + 0.5 * q) * min(1.0, (hi - lo).days / 120):
            upgraded = self._date(lo, hi)
        gtin = self._gtin() if rng.random() < 0.2 + 0.5 * q else None
        if shelf:
            shelf_days = rng.randint(*shelf)
        else:
            shelf_days = None if rng.random() < 0.7 else rng.choice([730, 1095, 1825])
        row = {
            "ikm_id": ctx["id"], "name": pname, "category_code": category,
            "brand": ctx["brand"], "net_content": float(net), "unit": unit,
            "shelf_life_days": shelf_days, "price_rp": price,
            "cost_rp": round(price * rng.uniform(0.45, 0.8), -2),
            "capacity_per_month": capacity, "gtin": gtin, "hs_code": hs,
            "packaging_upgraded_on": upgraded,
            "baseline_sales_rp": round(price * capacity * rng.uniform(0.2, 0.7), -3),
            "deleted_at": None, "version": 1,
            **self._tracked(_at(ctx["created"] + timedelta(days=rng.randint(0, 10)), 11)),
        }
        pid = self._add("product", row)
        prod = {"id": pid, "ikm": ctx, "category": category, "food": food,
                "upgraded": upgraded, "listed": None, "price": price, "capacity": capacity,
                "gates_missing": []}
        self._product_certs(ctx, prod, gtin)
        self._listings(ctx, prod)
        if not ctx["nib"]:
            prod["gates_missing"].append("G1")
        if ctx["commitment"] is None:
            prod["gates_missing"].append("G4")
        prod["gates_missing"].sort()
        return prod

    def _cert_row(self, code: str, ctx: dict, product_id: int | None, outcome: str,
                  lo: date, hi: date, number: str | None = None,
                  numbered: bool = False) -> dict:
        """One certification: issued/expiry dates follow the type's validity; expired ones are
        `kedaluwarsa`, and some valid ones expire within 60 days of `today`."""
        rng, today = self.rng, self.today
        validity = self.validity.get(code)
        filed = issued = expires = None
        note = None
        status = outcome
        hi = min(hi, today)
        lo = min(lo, hi)
        if outcome == "terbit":
            if validity and rng.random() < 0.05:
                soon = _add_months(today + timedelta(days=rng.randint(1, 60)), -validity)
                if lo <= soon <= hi:
                    issued = soon
            if issued is None:
                issued = self._date(lo, hi)
            filed = issued - timedelta(days=rng.randint(14, 120))
            if numbered:
                number = self._number(code, issued)
            if validity:
                expires = _add_months(issued, validity)
                if expires < today:
                    status = "kedaluwarsa"
        else:
            number = None
            if outcome == "proses":
                filed = self._date(max(lo, hi - timedelta(days=240)), hi)
            elif outcome == "ditolak":
                filed = self._date(lo, hi)
                note = "Berkas tidak lengkap, perlu pengajuan ulang"
        self._add("certification", {
            "cert_type_code": code, "ikm_id": ctx["id"], "product_id": product_id,
            "number": number, "status": status, "filed_on": filed, "issued_on": issued,
            "expires_on": expires, "note": note, "version": 1,
            **self._tracked(_at(issued or filed or ctx["created"], 13)),
        })
        return {"status": status, "filed_on": filed, "expires_on": expires}

    def _issue_window(self, ctx: dict) -> tuple[date, date]:
        """Half the certificates come from the programme (after the cohort starts)."""
        lo = max(ctx["founded"], ctx["start"] - timedelta(days=4 * 365))
        if self.rng.random() < 0.5 and ctx["start"] < ctx["end"]:
            lo = ctx["start"]
        return lo, ctx["end"]

    def _outcome(self, p_have: float, shares: list[tuple[str, float]]) -> str | None:
        rng = self.rng
        if rng.random() >= p_have:
            return None
        return self._weighted([o for o, _ in shares], _cum([w for _, w in shares]))

    def _number(self, code: str, issued: date) -> str:
        r = self.rng
        return {
            "SPP-IRT": f"P-IRT {r.randint(2, 5)}{r.randint(1, 16):02d}3526{r.randrange(10**6):06d}"
                       f"-{(issued.year + 5) % 100:02d}",
            "BPOM_MD": f"BPOM RI MD {r.randrange(10**12):012d}",
            "HALAL": f"ID35110000{r.randrange(10**7):07d}{issued.year % 100:02d}",
            "MEREK": f"IDM000{r.randrange(10**6):06d}",
            "LABEL": f"LBL-{r.randrange(10**5):05d}",
            "NUTRI": f"LHU/{r.randrange(10**4):04d}/GZ/{issued.year}",
            "GMP": f"CPPOB-{r.randrange(10**5):05d}",
            "HACCP": f"HACCP-ID-{r.randrange(10**5):05d}",
            "SVLK": f"VLK-{r.randrange(10**5):05d}-JTM",
        }[code]

    def _product_certs(self, ctx: dict, prod: dict, gtin: str | None) -> None:
        q, pid, end = ctx["q"], prod["id"], ctx["end"]
        boost = 0.5 + q
        if prod["food"]:
            g2 = False
            spp = self._outcome(0.65 * boost, [("terbit", 88), ("proses", 8), ("ditolak", 4)])
            if spp:
                lo, hi = self._issue_window(ctx)
                c = self._cert_row("SPP-IRT", ctx, pid, spp, lo, hi, numbered=True)
                g2 = c["status"] == "terbit"
            bpom = self._outcome(0.1 * boost, [("terbit", 75), ("proses", 25)])
            if bpom:
                lo, hi = self._issue_window(ctx)
                c = self._cert_row("BPOM_MD", ctx, pid, bpom, lo, hi, numbered=True)
                g2 = g2 or c["status"] == "terbit"
            halal = self._outcome(0.7 * min(boost, 1.4),
                                  [("terbit", 50), ("proses", 15), ("belum", 3), ("ditolak", 2)])
            g3 = False
            if halal:
                lo, hi = self._issue_window(ctx)
                c = self._cert_row("HALAL", ctx, pid, halal, lo, hi, numbered=True)
                g3 = c["status"] == "terbit" or (c["status"] == "proses" and c["filed_on"])
            if self.rng.random() < 0.1 * boost:
                lo, hi = self._issue_window(ctx)
                self._cert_row("NUTRI", ctx, pid, "terbit", lo, hi, numbered=True)
            if not g2:
                prod["gates_missing"].append("G2")
            if not g3:
                prod["gates_missing"].append("G3")
        if gtin:
            lo = max(ctx["founded"], self.today - timedelta(days=450))
            self._cert_row("GS1", ctx, pid, "terbit", lo, end, number=gtin)
        if self.rng.random() < (0.3 + 0.35 * q if prod["upgraded"] else 0.25 * q):
            lo = prod["upgraded"] or self._issue_window(ctx)[0]
            self._cert_row("LABEL", ctx, pid, "terbit", lo, end, numbered=True)

    def _enterprise_certs(self, ctx: dict, category: str) -> None:
        boost = 0.5 + ctx["q"]
        merek = self._outcome(0.3 * boost, [("terbit", 70), ("proses", 25), ("ditolak", 5)])
        if merek:
            lo, hi = self._issue_window(ctx)
            self._cert_row("MEREK", ctx, None, merek, lo, hi, numbered=True)
        if self.is_wood[category] and self.rng.random() < 0.5 * boost:
            lo, hi = self._issue_window(ctx)
            outcome = "terbit" if self.rng.random() < 0.8 else "proses"
            self._cert_row("SVLK", ctx, None, outcome, lo, hi, numbered=True)

    def _facility_certs(self, ctx: dict, products: list[dict]) -> None:
        if not any(p["food"] for p in products):
            return
        boost = 0.5 + ctx["q"]
        for code, share in (("GMP", 0.08), ("HACCP", 0.03)):
            if self.rng.random() < share * boost:
                lo, hi = self._issue_window(ctx)
                self._cert_row(code, ctx, None, "terbit", lo, hi, numbered=True)

    def _listings(self, ctx: dict, prod: dict) -> None:
        rng, today = self.rng, self.today
        upgraded = prod["upgraded"]
        if upgraded is None or rng.random() >= 0.4 * (0.5 + ctx["q"]):
            return
        lo = upgraded + timedelta(days=30)
        hi = min(ctx["end"], upgraded + timedelta(days=300))
        if hi <= lo:
            return
        ids = [r for r, _ in self.retailers]
        cum = _cum([w for _, w in self.retailers])
        chosen: list[int] = []
        for _ in range(1 if rng.random() < 0.65 or len(ids) == 1 else 2):
            rid = self._weighted(ids, cum)
            while rid in chosen:
                rid = self._weighted(ids, cum)
            chosen.append(rid)
        for rid in chosen:
            listed = self._date(lo, hi)
            status = self._weighted(["listing", "uji coba", "delisting"], [70, 90, 100])
            delisted = None
            if status == "delisting":
                if listed + timedelta(days=60) >= today:
                    status = "listing"
                else:
                    delisted = self._date(listed + timedelta(days=60),
                                          min(today, listed + timedelta(days=540)))
            repeat = {"uji coba": rng.randint(0, 2), "delisting": rng.randint(0, 3),
                      "listing": min(12, round(rng.uniform(0, 12) * (0.4 + ctx["q"])))}[status]
            self._add("retail_listing", {
                "product_id": prod["id"], "retailer_id": rid, "status": status,
                "listed_on": listed, "delisted_on": delisted, "repeat_orders": repeat,
                "note": None, "version": 1, **self._tracked(_at(listed, 14)),
            })
            if status != "delisting" and (prod["listed"] is None or listed < prod["listed"]):
                prod["listed"] = listed

    def _coaching(self, ctx: dict, products: list[dict]) -> None:
        rng, today = self.rng, self.today
        start = ctx["start"]
        if start >= today or rng.random() >= 0.65:
            return
        for _ in range(rng.randint(1, 4)):
            text, per_product = rng.choice(COACHING)
            due = self._date(start + timedelta(days=14), start + timedelta(days=400))
            created = min(due - timedelta(days=14), today)
            done = None
            if rng.random() < 0.45 + 0.3 * ctx["q"]:
                candidate = self._date(max(start, due - timedelta(days=45)),
                                       due + timedelta(days=30))
                if candidate <= min(today, ctx["end"]):
                    done = candidate
            self._add("coaching_action", {
                "ikm_id": ctx["id"], "text": text,
                "product_id": rng.choice(products)["id"] if per_product else None,
                "owner": rng.choice(COACH_OWNERS), "due_on": due, "done_on": done,
                "version": 1, **self._tracked(_at(created, 10)),
            })

    # assessments -------------------------------------------------------------------------------

    def _assess(self, cohort: dict, products: list[dict]) -> None:
        """Assess about a quarter of a cohort's products, preferring upgraded and listed ones."""
        rng, today = self.rng, self.today
        window_lo = max(date(2025, 1, 6), cohort["start_on"] + timedelta(days=60))
        if window_lo >= today:
            window_lo = max(cohort["start_on"], today - timedelta(days=120))
        eligible = []
        for p in products:
            if not p["ikm"]["aktif"]:
                continue
            lo = max(window_lo, p["upgraded"] or window_lo, p["listed"] or window_lo)
            if lo >= today:
                continue
            weight = 1 + 1.5 * bool(p["upgraded"]) + 3 * bool(p["listed"]) + 2 * p["ikm"]["q"]
            eligible.append((rng.random() ** (1 / weight), lo, p))
        eligible.sort(key=lambda e: -e[0])
        n = round(0.25 * len(products))
        chosen = sorted(eligible[:n], key=lambda e: e[2]["id"])
        for _, lo, p in chosen:
            hi = today - timedelta(days=1)
            # Most were assessed in time for the selection meeting.
            if rng.random() < 0.75 and lo < self.meeting_on - timedelta(days=7):
                hi = self.meeting_on - timedelta(days=7)
            first = self._date(lo, hi)
            strength = min(1.0, max(0.0, p["ikm"]["q"] + 0.12 * bool(p["listed"])
                                    + 0.05 * bool(p["upgraded"]) + rng.gauss(0, 0.1)))
            base = {code: strength * 4.4 - 0.3 + rng.gauss(0, 0.6) for code, _, _ in self.criteria}
            n_assessors = self._weighted([1, 2, 3], [40, 80, 100])
            levels: dict[str, list[int]] = {code: [] for code, _, _ in self.criteria}
            for assessor in rng.sample(ASSESSORS, n_assessors):
                on = min(first + timedelta(days=rng.randint(0, 5)), today - timedelta(days=1))
                if on >= self.meeting_on > first:
                    on = first
                aid = self._add("assessment", {
                    "product_id": p["id"], "rubric_version": RUBRIC_VERSION,
                    "assessor": assessor, "assessed_on": on,
                    "notes": rng.choice(ASSESSMENT_NOTES), "version": 1,
                    **self._tracked(_at(on, 15)),
                })
                for code, _, source in self.criteria:
                    level = min(4, max(0, round(base[code] + rng.gauss(0, 0.45))))
                    levels[code].append(level)
                    note = EVIDENCE[code][level] if "assessor" in source and code in EVIDENCE \
                        else ("Catatan penilai" if "assessor" in source else None)
                    self.buffer["assessment_score"].append({
                        "id": self._id("assessment_score"), "assessment_id": aid,
                        "criterion_code": code, "level": level, "evidence": note,
                    })
            score = sum(w * sum(levels[c]) / len(levels[c]) / 4
                        for c, w, _ in self.criteria) * 100 / self.weight_total
            self.assessed.append({
                "product_id": p["id"], "score": round(score, 1), "first": first,
                "gates_missing": p["gates_missing"], "category": p["category"],
                "price": p["price"], "capacity": p["capacity"],
            })

    # meeting, decisions, exports ---------------------------------------------------------------

    def _meeting(self) -> None:
        rng = self.rng
        held = self.meeting_on
        pool = [a for a in self.assessed if a["first"] < held]
        if not pool:
            return
        pool.sort(key=lambda a: (-a["score"], a["product_id"]))
        for rank, a in enumerate(pool, start=1):
            a["rank"] = rank
        closed_at = _at(held, 15, 30)
        meeting_id = self._add("shortlist_meeting", {
            "title": f"Rapat Seleksi Kandidat Ekspor {held.year}", "held_on": held,
            "chair": "Kepala Bidang Ekonomi BPWS", "attendees": MEETING_ATTENDEES,
            "rubric_version": RUBRIC_VERSION, "status": "closed",
            "snapshot": {
                "rubric_version": RUBRIC_VERSION, "taken_at": _at(held, 8, 30).isoformat(),
                "products": [{"product_id": a["product_id"], "score": a["score"],
                              "rank": a["rank"]} for a in pool],
            },
            "closed_at": closed_at, "version": 1, **self._tracked(_at(held, 8)),
        })
        # About 40 decisions per 480 IKM: the best gate-passing products are shortlisted (~15),
        # high scorers blocked by a gate are coached, the rest deferred or rejected.
        n_decisions = min(len(pool), max(1, round(self.counts["ikm"] / 12)))
        n_short = max(1, round(n_decisions * 15 / 40))
        short = [a for a in pool if not a["gates_missing"] and a["score"] >= 55][:n_short]
        short_ids = {a["product_id"] for a in short}
        others = [a for a in pool if a["product_id"] not in short_ids]
        n_rest = n_decisions - len(short)
        n_top = min(len(others), round(n_rest * 0.4))
        tail = others[n_top:]
        candidates = short + others[:n_top] + rng.sample(tail, min(len(tail), n_rest - n_top))
        candidates.sort(key=lambda a: a["rank"])
        shortlisted: list[dict] = []
        decided_min = 0
        for a in candidates:
            if a["product_id"] in short_ids:
                decision = "shortlist"
            elif a["gates_missing"] and a["score"] >= 55:
                decision = self._weighted(["coach_more", "defer"], [80, 100])
            elif a["score"] >= 50:
                decision = self._weighted(["coach_more", "defer"], [50, 100])
            else:
                decision = self._weighted(["reject", "defer", "coach_more"], [65, 85, 100])
            reasons, conditions = self._decision_text(decision, a)
            decided_min += rng.randint(2, 6)
            self._add("shortlist_decision", {
                "meeting_id": meeting_id, "product_id": a["product_id"], "decision": decision,
                "reasons": reasons, "conditions": conditions,
                "follow_up_owner": rng.choice(FOLLOW_UP_OWNERS),
                "due_on": held + timedelta(days=rng.randint(30, 90)), "decided_by": "kepala",
                "decided_at": _at(held, 9) + timedelta(minutes=min(decided_min, 380)),
                "version": 1, **self._tracked(_at(held, 9)),
            })
            if decision == "shortlist":
                shortlisted.append(a)
        self._exports(shortlisted, held)

    def _decision_text(self, decision: str, a: dict) -> tuple[str, str | None]:
        rng, score, missing = self.rng, a["score"], a["gates_missing"]
        if decision == "shortlist":
            return (f"Skor {score:.0f}, semua gerbang terpenuhi; kapasitas cukup untuk pesanan "
                    "awal", rng.choice(["Tambahkan label bahasa Inggris sebelum temu pembeli",
                                        "Siapkan 3 sampel untuk pameran dagang",
                                        "Perpanjang keanggotaan GS1", None]))
        if decision == "coach_more":
            if missing:
                return (f"Skor {score:.0f}; terhambat gerbang {', '.join(missing)}",
                        f"Lengkapi {', '.join(missing)} sebelum rapat berikutnya")
            return (f"Skor {score:.0f}; konsistensi mutu dan kapasitas perlu ditingkatkan",
                    "Pendampingan CPPOB dan perencanaan produksi 3 bulan")
        if decision == "defer":
            return (rng.choice(["Menunggu hasil uji umur simpan",
                                "Pemilik berhalangan hadir; dibahas pada rapat berikutnya",
                                "Menunggu data penjualan ritel terbaru"]), None)
        return f"Skor {score:.0f} di bawah ambang; fokus pasar domestik dahulu", None

    def _exports(self, shortlisted: list[dict], held: date) -> None:
        rng, today = self.rng, self.today
        n_exporters = round(len(shortlisted) * 0.4)
        if not shortlisted or n_exporters == 0:
            return
        countries = [c for c, _, _ in EXPORT_MARKETS]
        cum = _cum([w for _, w, _ in EXPORT_MARKETS])
        buyers = {c: b for c, _, b in EXPORT_MARKETS}
        for a in sorted(rng.sample(shortlisted, n_exporters), key=lambda x: x["product_id"]):
            country = self._weighted(countries, cum)
            buyer = rng.choice(buyers[country])
            route = "direct" if rng.random() < 0.4 else "aggregator"
            unit = PRODUCT_SPECS[a["category"]][6]
            shipped = held + timedelta(days=rng.randint(21, 120))
            for _ in range(self._weighted([1, 2, 3], [60, 90, 100])):
                if shipped > today:
                    break
                volume = float(max(1, round(a["capacity"] * rng.uniform(0.3, 1.5))))
                value = round(volume * a["price"] * rng.uniform(0.8, 1.3) / USD_RATE, 2)
                self._add("export_record", {
                    "product_id": a["product_id"], "shipped_on": shipped, "country": country,
                    "buyer": buyer, "volume": volume, "unit": unit, "value_usd": value,
                    "route": route, "version": 1, **self._tracked(_at(shipped, 10)),
                })
                shipped += timedelta(days=rng.randint(45, 120))


def seed_demo(session: Session, *, ikm_per_kabupaten: int = 120, seed: int = DEMO_SEED,
              today: date | None = None,
              progress: Callable[[float, str], None] | None = None) -> dict[str, int]:
    """Generate a synthetic programme (cohorts from 2023 to `today`, IKM, their products and
    dated facts, one closed selection meeting and a few exports); return counts per table.

    Needs the reference data loaded. Inserts in bulk with ids after each table's current maximum,
    so it can run on a non-empty database; never commits (the caller does).
    """
    rng = random.Random(seed)
    generator = _Generator(session, rng, today or clock.today(), progress)
    return generator.run(ikm_per_kabupaten)


def demo_is_seeded(session: Session) -> bool:
    """True when any IKM exists (the demo data, or real data, is already there)."""
    return session.execute(select(Ikm.id).limit(1)).first() is not None
