"""Messages of the import feature, in both languages (merged into ui/catalogue.py)."""

MESSAGES: dict[str, dict[str, str]] = {"id": {}, "en": {}}
