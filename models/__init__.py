"""SQLModel tables and enums. Importing this package registers every table on the metadata."""

from models.accounts import AppState, AuditLog, ImportBatch, LoginAttempt, User
from models.base import utcnow
from models.programme import (
    Assessment,
    AssessmentScore,
    Certification,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Product,
    RetailListing,
    ShortlistDecision,
    ShortlistMeeting,
)
from models.reference import (
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

__all__ = [
    "AppState", "Assessment", "AssessmentScore", "AuditLog", "CertificationType", "Certification",
    "CoachingAction", "Cohort", "Desa", "ExportRecord", "Ikm", "IkmFinancials", "ImportBatch",
    "Kabupaten", "Kecamatan", "LoginAttempt", "MarketRequirement", "Product", "ProductCategory",
    "Retailer", "RetailListing", "Rubric", "RubricCriterion", "ShortlistDecision",
    "ShortlistMeeting", "TargetMarket", "User", "utcnow",
]
