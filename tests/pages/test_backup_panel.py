"""The backup tab's download callable: Streamlit runs it on a click, outside any script run and
so outside the login gate; it checks the account again before it makes an archive."""

import pytest
from sqlmodel import Session, select

from db import write_session
from db.engine import get_engine
from models import AuditLog
from models.enums import Role
from services import auth
from services.errors import PermissionDenied
from services.permissions import Actor
from ui.backup_panel import _Offer

PASSPHRASE = "garam-kalianget-sumenep-2026"


def backups() -> int:
    with Session(get_engine()) as s:
        return len(s.exec(select(AuditLog).where(AuditLog.action == "backup")).all())


def test_a_click_makes_an_encrypted_archive_for_a_live_admin(demo_db):
    offer = _Offer(get_engine(), Actor("admin", Role.admin), PASSPHRASE, "ikm-madura-2026-06-15")
    data = offer()
    assert data.startswith(b"PK\x03\x04") and b"SQLite format 3" not in data
    assert backups() == 1


@pytest.mark.parametrize("change", ["logout", "deactivate", "demote"])
def test_a_button_left_over_from_a_revoked_session_makes_nothing(demo_db, change):
    engine = get_engine()
    offer = _Offer(engine, Actor("admin", Role.admin), PASSPHRASE, "ikm-madura-2026-06-15")
    with write_session(engine) as session:
        if change == "logout":
            auth.revoke_sessions(session, username="admin")
        else:
            user = auth.get_user(session, "admin")
            if change == "deactivate":
                user.active = False
            else:
                user.role = Role.viewer
            session.add(user)
    with pytest.raises(PermissionDenied):
        offer()
    assert backups() == 0
