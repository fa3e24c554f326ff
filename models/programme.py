"""Programme tables: cohorts, IKM and everything dated that moves them through the pipeline."""

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import Tracked, Versioned


class Cohort(Tracked, Versioned, table=True):
    # A training cohort (angkatan) run in one regency.
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    kabupaten_code: str = Field(foreign_key="kabupaten.code", index=True, max_length=5)
    year: int
    start_on: date | None = None
    end_on: date | None = None
    partners: str | None = Field(default=None, max_length=200)
    target_participants: int = 120
    notes: str | None = None
    deleted_at: datetime | None = None


class Ikm(Tracked, Versioned, table=True):
    # A small or medium industry taking part in the programme.
    __table_args__ = (
        Index("ix_ikm_kabupaten_status", "kabupaten_code", "status"),
        Index("uq_ikm_nib", "nib", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=160, index=True)
    owner_name: str | None = Field(default=None, max_length=120)
    owner_gender: str | None = Field(default=None, max_length=1)
    phone: str | None = Field(default=None, max_length=20)
    nib: str | None = Field(default=None, max_length=13)
    legal_form: str | None = Field(default=None, max_length=16)
    kabupaten_code: str = Field(foreign_key="kabupaten.code", max_length=5)
    kecamatan_code: str = Field(foreign_key="kecamatan.code", index=True, max_length=8)
    desa_code: str | None = Field(default=None, foreign_key="desa.code", max_length=13)
    address: str | None = Field(default=None, max_length=240)
    founded_year: int | None = None
    employees: int | None = None
    employees_female: int | None = None
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    export_commitment_on: date | None = None  # rubric gate G4: written commitment recorded
    status: str = Field(default="aktif", max_length=8)
    status_reason: str | None = Field(default=None, max_length=240)
    left_on: date | None = None
    verified_at: datetime | None = None
    verified_by: str | None = Field(default=None, max_length=64)
    deleted_at: datetime | None = None


class IkmFinancials(Tracked, table=True):
    # One year of an IKM's figures; the size class is computed from them, never typed.
    __table_args__ = (UniqueConstraint("ikm_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    ikm_id: int = Field(foreign_key="ikm.id", index=True)
    year: int
    capital_rp: int | None = Field(default=None, sa_column=Column(BigInteger))
    revenue_rp: int | None = Field(default=None, sa_column=Column(BigInteger))
    export_revenue_rp: int | None = Field(default=None, sa_column=Column(BigInteger))


class Product(Tracked, Versioned, table=True):
    __table_args__ = (Index("ix_product_ikm_name", "ikm_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    ikm_id: int = Field(foreign_key="ikm.id", index=True)
    name: str = Field(max_length=160)
    category_code: str = Field(foreign_key="productcategory.code", index=True, max_length=24)
    brand: str | None = Field(default=None, max_length=80)
    net_content: float | None = None
    unit: str | None = Field(default=None, max_length=16)
    shelf_life_days: int | None = None
    price_rp: int | None = Field(default=None, sa_column=Column(BigInteger))
    cost_rp: int | None = Field(default=None, sa_column=Column(BigInteger))
    capacity_per_month: int | None = None
    gtin: str | None = Field(default=None, max_length=14)
    hs_code: str | None = Field(default=None, max_length=12)
    packaging_upgraded_on: date | None = None
    baseline_sales_rp: int | None = Field(default=None, sa_column=Column(BigInteger))
    deleted_at: datetime | None = None


class Certification(Tracked, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cert_type_code: str = Field(foreign_key="certificationtype.code", index=True, max_length=16)
    ikm_id: int = Field(foreign_key="ikm.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    number: str | None = Field(default=None, max_length=64)
    status: str = Field(default="belum", max_length=12)
    filed_on: date | None = None
    issued_on: date | None = None
    expires_on: date | None = None
    note: str | None = None


class RetailListing(Tracked, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    retailer_id: int = Field(foreign_key="retailer.id", index=True)
    status: str = Field(default="listing", max_length=12)
    listed_on: date | None = None
    delisted_on: date | None = None
    repeat_orders: int = 0
    note: str | None = None


class CoachingAction(Tracked, Versioned, table=True):
    # The "dibina" step: a concrete action with an owner and a due date (rubric E1).
    id: int | None = Field(default=None, primary_key=True)
    ikm_id: int = Field(foreign_key="ikm.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", index=True)
    text: str = Field(max_length=400)
    owner: str | None = Field(default=None, max_length=80)
    due_on: date | None = None
    done_on: date | None = None


class Assessment(Tracked, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    rubric_version: int = Field(foreign_key="rubric.version_no")
    assessor: str = Field(max_length=64)
    assessed_on: date
    notes: str | None = None


class AssessmentScore(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("assessment_id", "criterion_code"),)
    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    criterion_code: str = Field(max_length=4)
    level: int  # 0–4
    evidence: str | None = None


class ShortlistMeeting(Tracked, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    held_on: date
    chair: str | None = Field(default=None, max_length=120)
    attendees: str | None = None
    rubric_version: int = Field(foreign_key="rubric.version_no")
    status: str = Field(default="open", max_length=8)
    snapshot: dict | None = Field(default=None, sa_type=JSON)
    closed_at: datetime | None = None


class ShortlistDecision(Tracked, Versioned, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "product_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="shortlistmeeting.id", index=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    decision: str = Field(max_length=12)
    reasons: str | None = None
    conditions: str | None = None
    follow_up_owner: str | None = Field(default=None, max_length=80)
    due_on: date | None = None
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None


class ExportRecord(Tracked, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    shipped_on: date
    country: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    buyer: str | None = Field(default=None, max_length=120)
    volume: float | None = None
    unit: str | None = Field(default=None, max_length=16)
    value_usd: float | None = None
    route: str = Field(default="direct", max_length=12)
