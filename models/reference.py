"""Reference tables: regions, categories, certificate types, retailers, markets, rubric."""

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import Versioned


class Kabupaten(SQLModel, table=True):
    # A regency of Madura, keyed by its Kemendagri code (35.26 … 35.29).
    code: str = Field(primary_key=True, max_length=5)
    name: str = Field(max_length=64)
    target_ikm: int = Field(default=120)


class Kecamatan(SQLModel, table=True):
    # A district, keyed by code (35.26.01); names repeat across regencies.
    code: str = Field(primary_key=True, max_length=8)
    kabupaten_code: str = Field(foreign_key="kabupaten.code", index=True, max_length=5)
    name: str = Field(max_length=64)
    bps_code: str | None = Field(default=None, max_length=7)


class Desa(SQLModel, table=True):
    # A village (desa) or urban village (kelurahan), keyed by code (35.26.01.2001).
    code: str = Field(primary_key=True, max_length=13)
    kecamatan_code: str = Field(foreign_key="kecamatan.code", index=True, max_length=8)
    name: str = Field(max_length=64)
    jenis: str = Field(max_length=10)


class ProductCategory(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=24)
    name_id: str = Field(max_length=80)
    name_en: str = Field(max_length=80)
    is_food: bool = False
    is_wood: bool = False


class CertificationType(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=120)
    scope: str = Field(max_length=12)  # CertScope
    applies_to: str = Field(max_length=8)  # AppliesTo
    validity_months: int | None = None


class Retailer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    kind: str = Field(default="minimarket", max_length=24)


class TargetMarket(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=8)
    name_id: str = Field(max_length=80)
    name_en: str = Field(max_length=80)


class MarketRequirement(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("market_code", "cert_type_code", "applies_to"),)
    id: int | None = Field(default=None, primary_key=True)
    market_code: str = Field(foreign_key="targetmarket.code", index=True, max_length=8)
    cert_type_code: str = Field(foreign_key="certificationtype.code", max_length=16)
    applies_to: str = Field(default="all", max_length=8)
    mandatory: bool = True


class Rubric(Versioned, table=True):
    # One version of the export-readiness rubric; frozen into every meeting's snapshot.
    version_no: int = Field(primary_key=True)
    name: str = Field(max_length=120)
    active: bool = True
    bands: list = Field(default_factory=list, sa_type=JSON)
    gates: list = Field(default_factory=list, sa_type=JSON)


class RubricCriterion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("rubric_version", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    rubric_version: int = Field(foreign_key="rubric.version_no", index=True)
    code: str = Field(max_length=4)
    dimension: str = Field(max_length=1)
    name_id: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    weight: int
    source: str = Field(max_length=16)  # CriterionSource
    levels: list = Field(default_factory=list, sa_type=JSON)  # five descriptions, 0–4
