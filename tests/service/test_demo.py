"""The synthetic demo programme: shape, consistency, determinism and bulk behaviour."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import String, bindparam, func, select, text
from sqlmodel import Session

from db.demo import DEMO_SEED, demo_is_seeded, gtin_check_digit, seed_demo
from db.engine import make_engine
from db.migrate import upgrade
from db.reference_data import load_reference
from models import (
    Assessment,
    AssessmentScore,
    Certification,
    CertificationType,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Product,
    RetailListing,
    RubricCriterion,
    ShortlistDecision,
    ShortlistMeeting,
)
from services import clock

pytestmark = pytest.mark.db

TODAY = date(2026, 3, 15)


def _fresh_engine():
    engine = make_engine("sqlite://")
    upgrade(engine)
    with Session(engine) as s:
        load_reference(s)
        s.commit()
    return engine


@pytest.fixture
def demo_engine(engine):
    """The test's own database (SQLite, or PostgreSQL in CI) holding only the reference data."""
    return engine


@pytest.fixture
def seeded(demo_engine):
    """The default demo programme (480 IKM) seeded and committed; yields (engine, counts)."""
    with Session(demo_engine) as s:
        counts = seed_demo(s, today=TODAY)
        s.commit()
    return demo_engine, counts


def _plain(value):
    # SQLite hands dates back as ISO strings, PostgreSQL as date objects: compare as strings.
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sql(engine, sql: str):
    # Typed date parameters: PostgreSQL will not compare a date column with a text parameter.
    stmt = text(sql)
    for name in ("t", "d"):
        if f":{name}" in sql:
            stmt = stmt.bindparams(bindparam(name, type_=String))
    if engine.dialect.name == "postgresql":
        stmt = text(sql.replace(":t", "CAST(:t AS DATE)").replace(":d", "CAST(:d AS DATE)"))
    return stmt


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return _plain(conn.execute(_sql(engine, sql), params).scalar())


def _rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return [tuple(_plain(v) for v in row) for row in conn.execute(_sql(engine, sql), params)]


def test_default_size_counts_and_returned_dict(seeded):
    engine, counts = seeded
    assert counts["ikm"] == 480
    assert counts["cohort"] == 12
    assert counts["shortlist_meeting"] == 1
    per_kab = dict(_rows(engine, "SELECT kabupaten_code, count(*) FROM ikm GROUP BY 1"))
    assert per_kab == {"35.26": 120, "35.27": 120, "35.28": 120, "35.29": 120}
    tables = {"cohort": Cohort, "ikm": Ikm, "ikm_financials": IkmFinancials, "product": Product,
              "certification": Certification, "retail_listing": RetailListing,
              "assessment": Assessment, "assessment_score": AssessmentScore,
              "shortlist_meeting": ShortlistMeeting, "shortlist_decision": ShortlistDecision,
              "export_record": ExportRecord}
    with Session(engine) as s:
        for name, model in tables.items():
            assert s.execute(select(func.count()).select_from(model)).scalar() == counts[name]
            assert counts[name] > 0, name


def test_regions_are_consistent(seeded):
    engine, _ = seeded
    consistent = _scalar(engine, """
        SELECT count(*) FROM ikm
        JOIN desa ON desa.code = ikm.desa_code
        JOIN kecamatan ON kecamatan.code = desa.kecamatan_code
        WHERE desa.kecamatan_code = ikm.kecamatan_code
          AND kecamatan.kabupaten_code = ikm.kabupaten_code""")
    assert consistent == 480
    # IKM are spread over many kecamatan, not piled into one.
    assert _scalar(engine, "SELECT count(DISTINCT kecamatan_code) FROM ikm") > 40


def test_cohorts_cover_every_ikm_and_most_are_trained(seeded):
    engine, _ = seeded
    assert _scalar(engine, "SELECT count(*) FROM ikm WHERE cohort_id IS NULL") == 0
    rows = _rows(engine, """
        SELECT c.id, c.kabupaten_code, c.target_participants, count(i.id), c.start_on, c.end_on,
               c.name, c.partners
        FROM cohort c JOIN ikm i ON i.cohort_id = c.id GROUP BY c.id""")
    assert len(rows) == 12
    for _, _, target, members, start, end, name, partners in rows:
        assert target == members == 40
        assert date.fromisoformat(start) < date.fromisoformat(end)
        assert date.fromisoformat(start).year >= 2023
        assert name.startswith("Angkatan ") and partners == "BPWS, INOPAK, GIZ"
    assert {r[1] for r in rows} == {"35.26", "35.27", "35.28", "35.29"}
    for kab in ("35.26", "35.27", "35.28", "35.29"):
        assert _scalar(engine, "SELECT count(*) FROM cohort WHERE kabupaten_code = :k "
                       "AND end_on < :t", k=kab, t=TODAY.isoformat()) >= 1
    trained = _scalar(engine, "SELECT count(*) FROM ikm JOIN cohort c ON c.id = ikm.cohort_id "
                      "WHERE c.end_on < :t", t=TODAY.isoformat())
    assert 240 < trained < 480  # most, not all: the newest cohorts are still running


def test_ikm_fields_are_plausible(seeded):
    engine, _ = seeded
    with Session(engine) as s:
        ikms = s.execute(select(Ikm)).scalars().all()
    genders = Counter(i.owner_gender for i in ikms)
    assert 0.45 < genders["P"] / len(ikms) < 0.65
    assert set(genders) == {"L", "P"}
    assert {i.legal_form for i in ikms} <= {"perorangan", "CV", "UD", "koperasi", "PT"}
    keluar = [i for i in ikms if i.status == "keluar"]
    assert 3 <= len(keluar) <= 40
    assert all(i.status_reason and i.left_on and i.left_on < TODAY for i in keluar)
    assert all(i.status in ("aktif", "keluar") for i in ikms)
    committed = sum(i.export_commitment_on is not None for i in ikms)
    assert 0.25 < committed / len(ikms) < 0.55
    for i in ikms:
        assert i.phone.startswith("08") and len(i.phone) == 12 and i.phone.isdigit()
        assert 0 <= i.employees_female <= i.employees
        assert i.created_by == "demo" and i.created_at.tzinfo is not None
        assert i.created_at.astimezone(UTC).date() < TODAY
        assert i.founded_year <= 2026 and i.name and i.owner_name and i.address


def test_nibs_are_13_digits_unique_and_some_missing(seeded):
    engine, _ = seeded
    nibs = [r[0] for r in _rows(engine, "SELECT nib FROM ikm")]
    present = [n for n in nibs if n is not None]
    assert all(len(n) == 13 and n.isdigit() for n in present)
    assert len(set(present)) == len(present)
    assert 0.04 < (len(nibs) - len(present)) / len(nibs) < 0.18
    # Every NIB has its enterprise certificate, without a product.
    assert _scalar(engine, "SELECT count(*) FROM certification WHERE cert_type_code = 'NIB' "
                   "AND product_id IS NULL AND status = 'terbit'") == len(present)


def test_products_one_to_three_per_ikm_with_sane_values(seeded):
    engine, _ = seeded
    per_ikm = [r[0] for r in _rows(engine, """
        SELECT count(p.id) FROM ikm LEFT JOIN product p ON p.ikm_id = ikm.id GROUP BY ikm.id""")]
    assert len(per_ikm) == 480 and set(per_ikm) <= {1, 2, 3} and len(set(per_ikm)) == 3
    with Session(engine) as s:
        products = s.execute(select(Product)).scalars().all()
        food = {c.code for c in s.execute(text("SELECT code FROM productcategory WHERE is_food"))}
        starts = {i: _plain(d) for i, d in s.execute(text(
                "SELECT ikm.id, c.start_on FROM ikm JOIN cohort c ON c.id = ikm.cohort_id"))}
    cats = Counter(p.category_code for p in products)
    assert sum(n for c, n in cats.items() if c in food) > len(products) / 2
    assert len(cats) >= 10
    for p in products:
        assert 0 < p.cost_rp < p.price_rp
        if p.category_code in food:
            assert 30 <= p.shelf_life_days <= 365
        if p.packaging_upgraded_on:
            assert p.packaging_upgraded_on > date.fromisoformat(starts[p.ikm_id])
            assert p.packaging_upgraded_on <= TODAY
    upgraded = sum(p.packaging_upgraded_on is not None for p in products) / len(products)
    assert 0.45 < upgraded < 0.75


def test_gtins_have_valid_check_digits(seeded):
    engine, _ = seeded
    gtins = [r[0] for r in _rows(engine, "SELECT gtin FROM product WHERE gtin IS NOT NULL")]
    total = _scalar(engine, "SELECT count(*) FROM product")
    assert 0.3 < len(gtins) / total < 0.6
    for g in gtins:
        assert len(g) == 13 and g.startswith("899") and g.isdigit()
        assert g[-1] == gtin_check_digit(g[:12])
    assert len(set(gtins)) == len(gtins)
    assert gtin_check_digit("400638133393") == "1"  # 4006381333931, a well-known GTIN-13


def test_financials_are_mostly_micro(seeded):
    engine, _ = seeded
    rows = _rows(engine, "SELECT ikm_id, year, capital_rp, revenue_rp FROM ikmfinancials")
    per_ikm = Counter(r[0] for r in rows)
    assert len(per_ikm) == 480 and set(per_ikm.values()) <= {1, 2, 3}
    mikro = sum(cap <= 1_000_000_000 and rev <= 2_000_000_000 for _, _, cap, rev in rows)
    assert mikro / len(rows) > 0.7
    assert any(cap > 1_000_000_000 for _, _, cap, _ in rows)
    assert all(year <= TODAY.year for _, year, _, _ in rows)


def test_certificates_are_consistent(seeded):
    engine, _ = seeded
    with Session(engine) as s:
        certs = s.execute(select(Certification)).scalars().all()
        types = {t.code: t for t in s.execute(select(CertificationType)).scalars()}
    statuses = Counter(c.status for c in certs)
    assert {"terbit", "proses", "kedaluwarsa", "ditolak"} <= set(statuses)
    soon = 0
    for c in certs:
        scope = types[c.cert_type_code].scope
        assert (c.product_id is None) == (scope in ("enterprise", "facility")), c.cert_type_code
        if c.issued_on and c.expires_on:
            assert c.expires_on > c.issued_on
            assert c.issued_on <= TODAY
        if c.status in ("terbit", "kedaluwarsa"):
            assert c.issued_on is not None
            validity = types[c.cert_type_code].validity_months
            assert (c.expires_on is None) == (validity is None)
            assert (c.status == "kedaluwarsa") == (c.expires_on is not None
                                                   and c.expires_on < TODAY)
            if c.expires_on and TODAY <= c.expires_on <= TODAY + timedelta(days=60):
                soon += 1
        if c.status == "proses":
            assert c.filed_on is not None and c.issued_on is None
    assert soon > 0
    # Food-only certificates are only on food products.
    assert _scalar(engine, """
        SELECT count(*) FROM certification c JOIN product p ON p.id = c.product_id
        JOIN productcategory pc ON pc.code = p.category_code
        WHERE c.cert_type_code IN ('SPP-IRT', 'BPOM_MD', 'HALAL', 'NUTRI') AND NOT pc.is_food
        """) == 0
    # GS1 only where a GTIN exists.
    assert _scalar(engine, """
        SELECT count(*) FROM certification c JOIN product p ON p.id = c.product_id
        WHERE c.cert_type_code = 'GS1' AND p.gtin IS NULL""") == 0


def test_retail_listings_follow_packaging_upgrade(seeded):
    engine, _ = seeded
    rows = _rows(engine, """
        SELECT l.listed_on, l.delisted_on, l.status, l.repeat_orders, p.packaging_upgraded_on,
               r.name
        FROM retaillisting l JOIN product p ON p.id = l.product_id
        JOIN retailer r ON r.id = l.retailer_id""")
    assert rows
    for listed, delisted, status, repeat, upgraded, retailer in rows:
        assert upgraded is not None and listed > upgraded
        assert status in ("uji coba", "listing", "delisting")
        assert (delisted is not None) == (status == "delisting")
        assert 0 <= repeat <= 12
        assert retailer in ("Alfamart", "Alfamidi", "Indomaret", "Hypermart")
    assert {r[2] for r in rows} == {"uji coba", "listing", "delisting"}


def test_every_assessment_scores_every_criterion(seeded):
    engine, _ = seeded
    with Session(engine) as s:
        codes = set(s.execute(select(RubricCriterion.code)
                              .where(RubricCriterion.rubric_version == 1)).scalars())
        assessments = s.execute(select(Assessment)).scalars().all()
        scores = s.execute(select(AssessmentScore)).scalars().all()
        sources = dict(s.execute(select(RubricCriterion.code, RubricCriterion.source)).all())
    assert len(codes) == 15
    by_assessment: dict[int, list] = {}
    for sc in scores:
        by_assessment.setdefault(sc.assessment_id, []).append(sc)
        assert 0 <= sc.level <= 4
        if "assessor" in sources[sc.criterion_code]:
            assert sc.evidence
    for a in assessments:
        assert {sc.criterion_code for sc in by_assessment[a.id]} == codes
        assert len(by_assessment[a.id]) == 15
        assert a.rubric_version == 1
        assert a.assessor in ("penilai", "penilai2", "penilai3")
        assert date(2025, 1, 1) <= a.assessed_on < TODAY
    products = {a.product_id for a in assessments}
    total = _scalar(engine, "SELECT count(*) FROM product")
    assert 0.15 < len(products) / total < 0.3
    per_product = Counter(a.product_id for a in assessments)
    assert set(per_product.values()) <= {1, 2, 3} and max(per_product.values()) > 1
    assert len({(a.product_id, a.assessor) for a in assessments}) == len(assessments)


def test_one_closed_meeting_with_decisions(seeded):
    engine, _ = seeded
    with Session(engine) as s:
        meetings = s.execute(select(ShortlistMeeting)).scalars().all()
        decisions = s.execute(select(ShortlistDecision)).scalars().all()
        first_assessed = dict(s.execute(select(Assessment.product_id,
                                               func.min(Assessment.assessed_on))
                                        .group_by(Assessment.product_id)).all())
    assert len(meetings) == 1
    m = meetings[0]
    assert m.status == "closed" and m.closed_at is not None and m.rubric_version == 1
    assert m.title == "Rapat Seleksi Kandidat Ekspor 2025"
    assert m.held_on.year == 2025 and m.held_on < TODAY
    assert m.chair == "Kepala Bidang Ekonomi BPWS" and m.attendees
    snap = m.snapshot
    assert snap["rubric_version"] == 1 and snap["taken_at"]
    ranks = [p["rank"] for p in snap["products"]]
    assert ranks == list(range(1, len(ranks) + 1))
    scores = [p["score"] for p in snap["products"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0 and max(scores) <= 100
    in_snapshot = {p["product_id"] for p in snap["products"]}
    assert all(first_assessed[pid] < m.held_on for pid in in_snapshot)
    kinds = Counter(d.decision for d in decisions)
    assert 30 <= len(decisions) <= 50
    assert 10 <= kinds["shortlist"] <= 20
    assert set(kinds) <= {"shortlist", "coach_more", "defer", "reject"} and len(kinds) >= 3
    for d in decisions:
        assert d.meeting_id == m.id and d.product_id in in_snapshot
        assert d.decided_by == "kepala" and d.decided_at is not None and d.reasons
        assert d.due_on > m.held_on and d.follow_up_owner


def test_exports_only_for_shortlisted_products(seeded):
    engine, counts = seeded
    assert 4 <= counts["export_record"] <= 14
    rows = _rows(engine, """
        SELECT e.product_id, e.shipped_on, e.country, e.route, e.value_usd, m.held_on,
               d.decision
        FROM exportrecord e
        LEFT JOIN shortlistdecision d ON d.product_id = e.product_id
        LEFT JOIN shortlistmeeting m ON m.id = d.meeting_id AND m.status = 'closed'""")
    assert len(rows) == counts["export_record"]
    for _, shipped, country, route, value, held, decision in rows:
        assert decision == "shortlist" and held is not None
        assert held < shipped <= TODAY.isoformat()
        assert len(country) == 2 and country.isupper()
        assert route in ("direct", "aggregator") and value > 0


def test_deterministic_for_same_seed_and_today():
    lists = []
    for seed in (DEMO_SEED, DEMO_SEED, 7):
        engine = _fresh_engine()
        with Session(engine) as s:
            counts = seed_demo(s, today=TODAY, seed=seed)
            s.commit()
        lists.append((counts, _rows(engine, "SELECT id, name, nib, desa_code FROM ikm ORDER BY id"),
                      _rows(engine, "SELECT id, level FROM assessmentscore ORDER BY id"),
                      _rows(engine, "SELECT snapshot FROM shortlistmeeting")))
        engine.dispose()
    assert lists[0] == lists[1]
    assert lists[0][1] != lists[2][1]


def test_scales_with_ikm_per_kabupaten(demo_engine):
    with Session(demo_engine) as s:
        counts = seed_demo(s, ikm_per_kabupaten=5, today=TODAY)
        s.commit()
    assert counts["ikm"] == 20 and counts["cohort"] == 4
    assert _scalar(demo_engine, "SELECT count(*) FROM ikm") == 20
    # A single small cohort per regency has finished, so its members count as trained.
    assert _scalar(demo_engine, "SELECT count(*) FROM cohort WHERE end_on < :t",
                   t=TODAY.isoformat()) == 4


def test_second_run_adds_rows_without_clashes(demo_engine):
    with Session(demo_engine) as s:
        first = seed_demo(s, ikm_per_kabupaten=10, today=TODAY)
        s.commit()
    with Session(demo_engine) as s:
        second = seed_demo(s, ikm_per_kabupaten=10, today=TODAY)
        s.commit()
    assert first["ikm"] == second["ikm"] == 40
    assert _scalar(demo_engine, "SELECT count(*) FROM ikm") == 80
    assert _scalar(demo_engine, "SELECT count(*) FROM shortlistmeeting") == 2
    for table in ("product", "certification", "assessmentscore"):
        key = {"assessmentscore": "assessment_score"}.get(table, table)
        assert _scalar(demo_engine, f"SELECT count(*) FROM {table}") == first[key] + second[key]
    nibs = [r[0] for r in _rows(demo_engine, "SELECT nib FROM ikm WHERE nib IS NOT NULL")]
    assert len(nibs) == len(set(nibs))
    # Children of the second run point at the second run's parents.
    assert _scalar(demo_engine, """
        SELECT count(*) FROM product p JOIN ikm i ON i.id = p.ikm_id
        WHERE i.id > 40""") == second["product"]


def test_does_not_commit_and_reports_progress(demo_engine):
    calls: list[tuple[float, str]] = []
    with Session(demo_engine) as s:
        assert not demo_is_seeded(s)
        seed_demo(s, ikm_per_kabupaten=3, today=TODAY,
                  progress=lambda f, label: calls.append((f, label)))
        assert demo_is_seeded(s)
        s.rollback()
        assert not demo_is_seeded(s)
    assert calls and calls[-1][0] == 1.0
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)
    assert all(isinstance(label, str) and label for _, label in calls)


def test_default_today_is_used_when_not_given(demo_engine):
    with Session(demo_engine) as s:
        seed_demo(s, ikm_per_kabupaten=2)
        latest = s.execute(select(func.max(Cohort.start_on))).scalar()
        s.rollback()
    assert latest <= clock.today()
