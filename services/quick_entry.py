"""Quick entry: a new IKM, its place and (optionally) its first product in one submit.

The add form asks for the kecamatan and the desa without asking for the regency first: the
regency follows from the kecamatan, and the kecamatan from the desa when only a desa was
chosen. Every problem of the IKM and of its product is reported at once, field by field, and
either both records are written or neither (the caller's one transaction).
"""

from sqlmodel import Session

from models import Ikm, Product
from services import ikm as ikm_svc
from services import records
from services.errors import ValidationFailed
from services.products import clean_product
from services.reference import category_options
from services.regions import Regions, load_regions
from services.validation import blank

# The product's fields as the add form names them (the IKM's own fields keep their names).
PRODUCT_FIELDS = {"product_name": "name", "product_category_code": "category_code"}


def place(regions: Regions, *, kecamatan_code: str | None,
          desa_code: str | None) -> dict[str, str | None]:
    """The regency, kecamatan and desa codes implied by a chosen kecamatan and/or desa.

    A desa alone gives its kecamatan; a kecamatan gives its regency. A desa of another
    kecamatan is kept as chosen: the IKM's rules refuse it with their own message."""
    kec = kecamatan_code or None
    desa = desa_code or None
    if kec is None and desa in regions.desa:
        kec = regions.desa[desa][0]
    kab = regions.kecamatan[kec][0] if kec in regions.kecamatan else None
    return {"kabupaten_code": kab, "kecamatan_code": kec, "desa_code": desa}


def wants_product(product: dict | None) -> bool:
    """Whether the form's optional product part was filled in at all."""
    return bool(product) and any(not blank(v) for v in product.values())


def create_ikm_with_product(session: Session, *, actor, data: dict,
                            product: dict | None = None) -> tuple[Ikm, Product | None]:
    """Add an IKM (scope, rules and duplicates of NIB checked by services.ikm) and, when any
    product field was given, its first product. All problems of both are raised together in
    one ValidationFailed (product fields prefixed "product_"); nothing is written then, as the
    caller's transaction is rolled back."""
    data = {**data, **place(load_regions(session), kecamatan_code=data.get("kecamatan_code"),
                            desa_code=data.get("desa_code"))}
    problems: dict = {}
    if wants_product(product):
        _, errors = clean_product({PRODUCT_FIELDS[k]: v for k, v in product.items()
                                   if k in PRODUCT_FIELDS},
                                  categories=category_options(session))
        problems = {f"product_{field}": problem for field, problem in errors.items.items()}
    try:
        made = ikm_svc.create_ikm(session, actor=actor, data=data)
    except ValidationFailed as exc:
        details = dict(exc.params.get("details") or {f: (keys[0], {})
                                                     for f, keys in exc.errors.items()})
        # The form asks for no regency: a missing or refused one is the kecamatan's to fix.
        if "kabupaten_code" in details:
            details.setdefault("kecamatan_code", details["kabupaten_code"])
            del details["kabupaten_code"]
        details.update(problems)
        raise ValidationFailed("err.validation",
                               errors={f: [k] for f, (k, _) in details.items()},
                               details=details) from None
    if problems:
        raise ValidationFailed("err.validation",
                               errors={f: [k] for f, (k, _) in problems.items()},
                               details=problems)
    made_product = None
    if wants_product(product):
        made_product = records.create_product(
            session, actor=actor, ikm_id=made.id,
            data={PRODUCT_FIELDS[k]: v for k, v in product.items() if k in PRODUCT_FIELDS})
    return made, made_product
