"""Spreadsheet imports: read an uploaded XLSX or CSV, check every row (dry run), then upsert.

Reading never guesses types that lose information: CSV cells stay text, XLSX cells keep the value
the workbook stored (a 13-digit NIB typed as a number comes back as that number and is read by
services.validation as the NIB). Formulas are never evaluated: the workbook is opened with
`data_only=False`, so a formula cell yields its formula text, and any cell starting with "=" is
rejected with `imp.formula` (its cached value is never used). A text that an export neutralised
("'=…", "'+…", "'-…", "'@…") gets its apostrophe removed again.

The rules of each field are those of services.ikm.clean_ikm and services.products.clean_product;
this module adds what only a file has: headers, sheets, example rows, duplicate keys inside the
file, the regency scope per row, and the upsert (NIB for IKM; IKM NIB + product name for products;
IKM without NIB are always new). A commit re-runs the whole check in the caller's transaction and
writes in bulk: one IN-query per table to find existing rows, executemany inserts and updates,
one import batch row, one audit row per created or updated record plus one for the batch.

Money is whole rupiah (services.validation.parse_money): "1.500.000,50" is rounded half to even
to 1500000.

Steps, one module each: report (limits, refusals, the report), read (the tables of a file),
columns (which sheet and column is which), plan (the dry run's checks), write (the commit).
"""

from services.exporter import message
from services.imports.columns import ALIASES, KINDS, LAYOUTS
from services.imports.plan import dry_run
from services.imports.read import read_upload
from services.imports.report import (
    LIMITS,
    ImportCellError,
    ImportRefused,
    ImportReport,
    Limits,
    SheetReport,
)
from services.imports.sandbox import warm_up
from services.imports.write import commit, error_frame, report_json

__all__ = [
    "ALIASES", "KINDS", "LAYOUTS", "LIMITS", "ImportCellError", "ImportRefused", "ImportReport",
    "Limits", "SheetReport", "commit", "dry_run", "error_frame", "message", "read_upload",
    "report_json", "warm_up",
]
