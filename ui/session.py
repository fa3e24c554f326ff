"""What pages read about the current run: the app context and the logged-in user."""

import streamlit as st

from db import read_session
from models import User
from services import auth
from services.permissions import Actor
from ui.context import AppContext, app_context


def context() -> AppContext:
    """The app context (cached engine and settings)."""
    return app_context()


def current_user() -> User:
    """The logged-in user, fresh from the database (app.py guarantees one exists)."""
    with read_session(context().engine) as session:
        user = auth.get_user(session, st.session_state["username"])
    if user is None:
        st.stop()
    return user


def current_actor() -> Actor:
    """The logged-in user as an Actor for write services."""
    return auth.actor_of(current_user())
