"""Spreadsheet imports: read an uploaded XLSX or CSV, check every row (dry run), then upsert.

Reading never guesses types that lose information: CSV cells stay text, XLSX cells keep the value
the workbook stored (a 13-digit NIB typed as a number comes back as that number and is read by
services.validation as the NIB). Formulas are never evaluated: the workbook is opened with
`data_only=False`, so a formula cell yields its formula text, and any cell starting with "=" is
rejected with `imp.formula` (its cached value is never used). A text that an export neutralised
("'=…", "'+…", "'-…", "'@…") gets its apostrophe removed again.

The rules of each field are those of services.ikm.clean_ikm and services.products.clean_product;
this package adds what only a file has: its encoding, headers (found below title rows), sheets,
example rows, how a column writes dates and numbers (decided per column, never per cell),
duplicate keys inside the file, the regency scope per row, and the upsert: a row with an ID (an
export's) updates that record and is refused when the record changed since the export; other
rows match by key (NIB for IKM, IKM NIB + product name for products, ...), and an IKM with
neither ID nor NIB is new. On update a blank cell leaves the stored value and the clear mark
(#KOSONG) empties it; the dry run lists every field an update changes. A commit re-runs the
check in the caller's transaction (or reuses the dry run's while nothing was written) and writes
in bulk: one IN-query per table to find existing rows, executemany inserts and updates, one
import batch row, one audit row per created or updated record plus one for the batch.

Money is whole rupiah (services.validation.parse_money): "1.500.000,50" is rounded half up to
1500001, as the forms and the grid round it.

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
    ImportNote,
    ImportRefused,
    ImportReport,
    Limits,
    SheetReport,
)
from services.imports.sandbox import warm_up
from services.imports.write import commit, error_frame, report_json

__all__ = [
    "ALIASES", "KINDS", "LAYOUTS", "LIMITS", "ImportCellError", "ImportNote", "ImportRefused",
    "ImportReport", "Limits", "SheetReport", "commit", "dry_run", "error_frame", "message",
    "read_upload", "report_json", "warm_up",
]
