"""Messages of importing cohorts, certificates, retail listings, exports, coaching actions and
financials (services.importer): per-kind keys and the reasons only these sheets can give."""

MESSAGES: dict[str, dict[str, str]] = {
    "id": {},
    "en": {},
}
