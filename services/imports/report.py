"""What an import found or did, its limits, and its refusals."""

from dataclasses import dataclass, field

from services.errors import ServiceError
from services.ikm import CellError

# --- limits and errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    # What one upload may hold; each limit is answered with its own message.
    max_bytes: int = 5 * 1024 * 1024  # the uploaded file
    max_unpacked: int = 100 * 1024 * 1024  # an XLSX's members once unzipped (zip bombs)
    max_rows: int = 20_000  # data rows per sheet
    max_columns: int = 100
    max_cell: int = 2_000  # characters in one cell


LIMITS = Limits()


class ImportRefused(ServiceError):
    """The file as a whole cannot be imported (or committed); `key`/`params` say why.

    `report` carries the dry-run report when the refusal is about rejected rows."""

    def __init__(self, key: str, *, report: "ImportReport | None" = None, **params):
        super().__init__(key, **params)
        self.report = report


@dataclass
class ImportCellError(CellError):
    # A rejected (or, in `warnings`, doubtful) cell of an upload: the sheet too.
    sheet: str = ""


@dataclass
class SheetReport:
    # Counts of one sheet of an upload.
    sheet: str
    kind: str  # "ikm" or "product"
    total: int = 0  # data rows (blank rows are not counted)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0  # the template's example row


@dataclass
class ImportNote:
    # How the file was read, for people to check: an encoding with sample texts, title rows
    # set aside, the order of a date column, the number format of a column.
    sheet: str
    key: str
    params: dict = field(default_factory=dict)


@dataclass
class ImportChange:
    # One field an update changes, as the dry run lists it (before -> after; cleared when the
    # clear mark emptied it).
    sheet: str
    row: int
    record: str
    column: str
    before: object
    after: object
    cleared: bool = False


@dataclass
class ImportConflict:
    # A row older than its record: someone changed the record after the file was exported.
    # Overwriting needs the user's yes for exactly this record version (`version`).
    sheet: str
    row: int
    record: str
    version: int
    changed_by: str
    changed_at: object
    columns: list[str] = field(default_factory=list)  # what they changed since the export
    overwrites: list[tuple[str, object, object]] = field(default_factory=list)  # (column,
    # stored now, the file's value): what the import would put back


@dataclass
class ImportReport:
    # What a dry run found (or a commit did): per sheet counts and every rejected cell.
    filename: str
    sheets: list[SheetReport] = field(default_factory=list)
    errors: list[ImportCellError] = field(default_factory=list)
    warnings: list[ImportCellError] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    notes: list[ImportNote] = field(default_factory=list)
    changes: list[ImportChange] = field(default_factory=list)
    conflicts: list[ImportConflict] = field(default_factory=list)
    committed: bool = False
    batch_id: int | None = None

    def _sum(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sheets)

    @property
    def total(self) -> int:
        return self._sum("total")

    @property
    def new(self) -> int:
        return self._sum("new")

    @property
    def updated(self) -> int:
        return self._sum("updated")

    @property
    def unchanged(self) -> int:
        return self._sum("unchanged")

    @property
    def rejected(self) -> int:
        return self._sum("rejected")

    @property
    def skipped(self) -> int:
        return self._sum("skipped")

    @property
    def ok(self) -> int:
        return self.new + self.updated + self.unchanged

    def sheet(self, kind: str) -> SheetReport | None:
        return next((s for s in self.sheets if s.kind == kind), None)
