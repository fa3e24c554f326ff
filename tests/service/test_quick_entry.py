"""Quick entry (issue 9): an IKM, its place from a kecamatan or a desa alone, and its first
product in one transaction; every problem of both reported at once; nothing written on any."""

import pytest
from sqlmodel import Session, func, select

from db import run_write
from models import AuditLog, Desa, Ikm, Kecamatan, Product
from models.enums import Role
from services.errors import PermissionDenied, ValidationFailed
from services.permissions import Actor
from services.quick_entry import create_ikm_with_product
from services.reference import category_options

pytestmark = pytest.mark.db

STAFF_SUMENEP = Actor("staf", Role.staff, "35.29")


def counts(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(m)).one()
                     for m in (Ikm, Product, AuditLog))


def desa_of(engine, kabupaten: str) -> tuple[str, str]:
    """A desa of the regency and its kecamatan (from the reference data loaded)."""
    with Session(engine) as s:
        return s.exec(select(Desa.code, Desa.kecamatan_code)
                      .join(Kecamatan, Kecamatan.code == Desa.kecamatan_code)
                      .where(Kecamatan.kabupaten_code == kabupaten)
                      .order_by(Desa.code)).first()


def test_a_desa_alone_gives_the_kecamatan_and_regency_and_the_product_is_added(engine,
                                                                              admin_actor):
    desa, kecamatan = desa_of(engine, "35.28")
    with Session(engine) as s:
        category = next(iter(category_options(s)))
    made, product = run_write(engine, lambda s: create_ikm_with_product(
        s, actor=admin_actor, data={"name": "Batik Tulis Bu Sum", "desa_code": desa},
        product={"product_name": "Kain Batik Gentongan", "product_category_code": category}))
    with Session(engine) as s:
        ikm = s.get(Ikm, made.id)
        assert (ikm.kabupaten_code, ikm.kecamatan_code, ikm.desa_code) == ("35.28", kecamatan,
                                                                           desa)
        stored = s.exec(select(Product).where(Product.ikm_id == made.id)).one()
        assert (stored.name, stored.category_code) == ("Kain Batik Gentongan", category)
        assert s.exec(select(func.count()).select_from(AuditLog)
                      .where(AuditLog.table_name == "product")).one() == 1
    assert product.id == stored.id


def test_no_product_part_adds_the_ikm_alone(engine, admin_actor):
    desa, kecamatan = desa_of(engine, "35.26")
    made, product = run_write(engine, lambda s: create_ikm_with_product(
        s, actor=admin_actor, data={"name": "Kerupuk Ikan", "kecamatan_code": kecamatan},
        product={"product_name": "  ", "product_category_code": None}))
    assert product is None and counts(engine)[:2] == (1, 0)
    assert made.kabupaten_code == "35.26"


def test_problems_of_the_ikm_and_the_product_come_together_and_nothing_is_written(
        engine, admin_actor):
    before = counts(engine)
    with pytest.raises(ValidationFailed) as refused:
        run_write(engine, lambda s: create_ikm_with_product(
            s, actor=admin_actor, data={"name": "", "nib": "123"},
            product={"product_name": "Petis", "product_category_code": "tidak-ada"}))
    details = refused.value.params["details"]
    assert set(details) == {"name", "nib", "kecamatan_code", "product_category_code"}
    assert details["kecamatan_code"][0] == "v.required"  # the form asks for no regency
    assert details["product_category_code"][0] == "v.unknown_category"
    assert counts(engine) == before


def test_a_bad_product_alone_writes_no_ikm_either(engine, admin_actor):
    _, kecamatan = desa_of(engine, "35.27")
    before = counts(engine)
    with pytest.raises(ValidationFailed) as refused:
        run_write(engine, lambda s: create_ikm_with_product(
            s, actor=admin_actor, data={"name": "Garam Krosok", "kecamatan_code": kecamatan},
            product={"product_name": "", "product_category_code": None, "x": 1}))
    assert refused.value.errors == {"product_name": ["v.required"],
                                    "product_category_code": ["v.required"]}
    assert counts(engine) == before


def test_a_desa_of_another_kecamatan_is_refused_on_the_desa(engine, admin_actor):
    desa, _ = desa_of(engine, "35.29")
    _, other_kecamatan = desa_of(engine, "35.26")
    before = counts(engine)
    with pytest.raises(ValidationFailed) as refused:
        run_write(engine, lambda s: create_ikm_with_product(
            s, actor=admin_actor, data={"name": "Dodol", "kecamatan_code": other_kecamatan,
                                        "desa_code": desa}))
    assert set(refused.value.errors) == {"desa_code"}
    assert counts(engine) == before


def test_scoped_staff_cannot_add_in_another_regency(engine):
    _, bangkalan = desa_of(engine, "35.26")
    before = counts(engine)
    with pytest.raises(PermissionDenied):
        run_write(engine, lambda s: create_ikm_with_product(
            s, actor=STAFF_SUMENEP, data={"name": "Di Luar", "kecamatan_code": bangkalan},
            product={"product_name": "X", "product_category_code": None}))
    assert counts(engine) == before
