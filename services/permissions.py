"""Who may open which page and do which action.

One declaration (PAGES) drives the navigation, the README's role table and the role-matrix test;
ACTIONS the services' checks, and its "personal.read" row the README's table of who sees owners'
personal data (tests/unit/test_privacy_docs.py keeps it in step).
"""

from dataclasses import dataclass

from models.enums import Role
from services.errors import PermissionDenied

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Actor:
    # The person doing something: what every write service is handed.
    username: str
    role: Role
    kabupaten_code: str | None = None  # regency scope; None means every regency


@dataclass(frozen=True)
class PageSpec:
    # One page of the app: its script, its label key in ui/i18n, its icon and who may open it.
    key: str
    path: str
    title_key: str
    icon: str
    roles: frozenset[Role]
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "app_pages/overview.py", "page.overview", ":material/dashboard:",
             ALL_ROLES, default=True),
    PageSpec("data_ikm", "app_pages/data_ikm.py", "page.data_ikm", ":material/storefront:",
             ALL_ROLES),
    PageSpec("cohorts", "app_pages/cohorts.py", "page.cohorts", ":material/groups:",
             frozenset({Role.admin, Role.staff})),
    PageSpec("import_export", "app_pages/import_export.py", "page.import_export",
             ":material/upload_file:", frozenset({Role.admin, Role.staff})),
    PageSpec("admin", "app_pages/admin.py", "page.admin", ":material/admin_panel_settings:",
             frozenset({Role.admin})),
    PageSpec("account", "app_pages/account.py", "page.account", ":material/person:", ALL_ROLES),
)

# Actions checked by write services (defence in depth behind the navigation).
ACTIONS: dict[str, frozenset[Role]] = {
    "user.manage": frozenset({Role.admin}),
    "account.own_password": ALL_ROLES,
    "programme.write": frozenset({Role.admin, Role.staff}),
    "backup.run": frozenset({Role.admin}),
    "trash.restore": frozenset({Role.admin}),
    "import.undo": frozenset({Role.admin}),  # services.imports.history.undo_batch
    # Owners' phone numbers, NIBs and addresses in full (services.privacy masks them for the
    # others: lists, detail view, history, exports). Assessors judge products, they do not
    # contact owners; viewers have no need to know.
    "personal.read": frozenset({Role.admin, Role.head, Role.staff}),
}


def pages_for(role: Role | str) -> list[PageSpec]:
    """The pages a role may open, in menu order."""
    return [p for p in PAGES if Role(role) in p.roles]


def can(actor: Actor, action: str) -> bool:
    """Whether the actor's role allows an action."""
    return actor.role in ACTIONS[action]


def require(actor: Actor, action: str, kabupaten_code: str | None = None) -> None:
    """Refuse unless the role allows the action and, for scoped users, the regency is theirs."""
    if not can(actor, action):
        raise PermissionDenied("err.forbidden")
    if kabupaten_code is not None and actor.kabupaten_code not in (None, kabupaten_code):
        raise PermissionDenied("err.out_of_scope")
