"""Driving the Data IKM page in AppTest: its tabs run their content once opened."""


def open_tab(at, name: str):
    """Open a tab of Data IKM ("list", "detail" or "add") as a click on it would, and rerun.

    AppTest does not click tabs: the page keeps the open tab's id in the session, and a tab's
    content is drawn from the first time it is opened."""
    at.session_state["ikm_tab_id"] = name
    return at.run()
