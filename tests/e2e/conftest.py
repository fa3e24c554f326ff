"""End-to-end fixtures: the real Streamlit server on a private demo database, headless Chromium.

`server` is one demo server per test module (`server_factory` starts more, with extra env);
`browser` is one Chromium per session; `new_page()` opens a page in a fresh browser context
(its own cookies). Helpers: `settle`, `goto`, `login`, `logged_in`, `shot`, `assert_no_traceback`.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}

COOKIE_NAME = "ikm_madura_auth"
DEMO_PASSWORD = "madura-demo-2024"
# username -> sidebar labels, in menu order (services/permissions.py PAGES, Bahasa Indonesia).
def _demo_nav() -> dict[str, list[str]]:
    # From the one role -> pages declaration, so a new page needs no edit here.
    from services.auth import DEMO_ACCOUNTS
    from services.permissions import pages_for
    from ui.catalogue import CATALOGUE

    return {user: [CATALOGUE["id"][p.title_key] for p in pages_for(role)]
            for user, _name, role, _scope in DEMO_ACCOUNTS}


DEMO_NAV = _demo_nav()

SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
NO_SKELETON = "() => !document.querySelector('[data-testid=\"stSkeleton\"]')"
NAV_LABELS = ('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"] '
              '[data-testid="stMarkdownContainer"]')
# For pages not opened by `new_page` (no websocket counter): counts script runs seen in the
# page after it is installed. Every mutation record counts whose old value, or (for the latest)
# the current value, is a running state, so a run whose start and end are both queued before
# the observer's callback still counts. A run the page never painted is caught only by the
# websocket counter (`track_runs`).
_WATCH_RUNS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const ATTR = 'data-test-script-state';
  window.__ikmRuns = 0;
  if (window.__ikmObserver) window.__ikmObserver.disconnect();
  window.__ikmObserver = new MutationObserver((mutations) => {
    mutations.forEach((m, i) => {
      const after = i + 1 < mutations.length ? mutations[i + 1].oldValue : app.getAttribute(ATTR);
      if (m.oldValue !== 'notRunning' || after !== 'notRunning') window.__ikmRuns += 1;
    });
  });
  window.__ikmObserver.observe(app, {attributes: true, attributeOldValue: true,
                                     attributeFilter: [ATTR]});
}"""
RUN_POLL_MS = 50

STARTUP_TIMEOUT = 60.0
SETTLE_TIMEOUT_MS = 45_000  # the first page of a fresh server migrates and seeds 480 IKM
LOGIN_TIMEOUT_MS = 20_000


# --- the server --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    # One `streamlit run app.py` process with its own data folder and SQLite database.
    base_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "ikm.db"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def cookie_key(self) -> str:
        """The demo cookie key the server wrote (exists once it has served a page)."""
        return (self.data_dir / "demo_cookie_key").read_text(encoding="utf-8").strip()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


_SERVERS: list[Server] = []  # servers of the running module: their logs go into failure reports


def start_server(data_dir: Path, **extra_env: str) -> Server:
    """Start the app on a free port with a fresh data folder; return once /_stcore/health is ok."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("IKM_COOKIE_KEY", "IKM_DEMO", "DATABASE_URL", "IKM_LOGIN_WINDOW_SECONDS")}
    env.update({
        "IKM_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'ikm.db'}",
        "IKM_BCRYPT_ROUNDS": "4",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    })
    log_path = data_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1",  # never reachable from the network
             "--server.fileWatcherType", "none",  # others edit the sources while tests run
             "--browser.gatherUsageStats", "false",
             # A developer's .streamlit/secrets.toml must not turn demo mode off.
             "--secrets.files", str(data_dir / "no-secrets.toml")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, log_path=log_path,
                    process=process)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url("/_stcore/health"), timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server not healthy after {STARTUP_TIMEOUT:.0f} s:\n"
                               f"{server.log_tail()}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server_factory(tmp_path_factory) -> Iterator[Callable[..., Server]]:
    """Start servers (fresh data folder each, extra env as keyword arguments); all stop at the
    end of the module. A test may `stop()` its own server earlier."""
    started: list[Server] = []

    def start(**extra_env: str) -> Server:
        server = start_server(tmp_path_factory.mktemp("e2e-server"), **extra_env)
        started.append(server)
        _SERVERS.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        _SERVERS.remove(server)


@pytest.fixture(scope="module")
def server(server_factory) -> Server:
    """The module's demo server."""
    return server_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of every live server's log to a failing test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in _SERVERS:
            report.sections.append((f"server log {server.base_url} (tail)", server.log_tail()))


# --- the browser -------------------------------------------------------------------------------

def _missing(reason: str) -> None:
    if os.environ.get("IKM_REQUIRE_E2E") == "1":
        pytest.fail(f"end-to-end tests are required (IKM_REQUIRE_E2E=1) but {reason}",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def e2e_requirements() -> None:
    """Skip the tier when Chromium or Playwright is missing (fail instead in CI)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _missing(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright Python package is not installed")


@pytest.fixture(scope="session")
def browser(e2e_requirements):
    """One headless Chromium (Debian's) for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Factory: a page in a new browser context (own cookies), 1366×768; closed after the test."""
    contexts = []

    def make(**context_options):
        context = browser.new_context(viewport=VIEWPORT, locale="id-ID", **context_options)
        context.set_default_timeout(SETTLE_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        track_runs(page)
        return page

    yield make
    for context in contexts:
        context.close()


# --- page helpers ------------------------------------------------------------------------------

def settle(page, timeout: int = SETTLE_TIMEOUT_MS) -> None:
    """Wait until the script is not running and no skeleton is left, twice with a pause between
    (the cookie-manager iframe component may trigger one more rerun)."""
    for pause in (500, 0):
        page.wait_for_selector(SETTLED, state="attached", timeout=timeout)
        page.wait_for_function(NO_SKELETON, timeout=timeout)
        page.wait_for_timeout(pause)


@dataclass
class _RunCounter:
    # Script runs the server reported finished to one page, and the count at `watch_runs`.
    finished: int = 0
    mark: int = 0


_RUN_COUNTERS: "weakref.WeakKeyDictionary[object, _RunCounter]" = weakref.WeakKeyDictionary()


def track_runs(page) -> None:
    """Count the script runs the server finishes for this page, read from its websocket (call
    before the page opens the app; `new_page` does). Every run, however quick, ends with a
    `script_finished` message, even when the browser never paints the running state."""
    from google.protobuf.message import DecodeError
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    counter = _RUN_COUNTERS.setdefault(page, _RunCounter())

    def on_frame(payload) -> None:
        if isinstance(payload, str):
            return
        try:
            kind = ForwardMsg.FromString(payload).WhichOneof("type")
        except DecodeError:
            return
        if kind == "script_finished":
            counter.finished += 1

    def on_socket(socket) -> None:
        if socket.url.endswith("/_stcore/stream"):  # the app's socket, not a component's
            socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)


def watch_runs(page) -> None:
    """Start counting script runs (call before an action, then `wait_for_run`)."""
    page.wait_for_selector(SETTLED, state="attached")
    counter = _RUN_COUNTERS.get(page)
    if counter is not None:
        counter.mark = counter.finished
    else:
        page.evaluate(_WATCH_RUNS)


def wait_for_run(page, timeout: int = LOGIN_TIMEOUT_MS) -> None:
    """Wait until a run that finished after `watch_runs` has been reported, then settle."""
    counter = _RUN_COUNTERS.get(page)
    if counter is None:
        page.wait_for_function("() => window.__ikmRuns > 0", timeout=timeout)
    else:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        deadline = time.monotonic() + timeout / 1000
        while counter.finished <= counter.mark:  # websocket events arrive while Playwright waits
            if time.monotonic() > deadline:
                raise PlaywrightTimeout(f"no script run finished within {timeout} ms")
            page.wait_for_timeout(RUN_POLL_MS)
    settle(page)


def logout_button(page):
    return page.get_by_role("button", name="Keluar")


def login_form(page):
    return page.get_by_label("Kata sandi")


def logged_in(page) -> bool:
    """Whether the page shows the logged-in view (the sidebar's Keluar button)."""
    return logout_button(page).count() > 0 and logout_button(page).first.is_visible()


def goto(page, server: Server, path: str = "/") -> None:
    """Open a path and wait until it shows either the login form or the logged-in view."""
    page.goto(server.url(path))
    settle(page)
    login_form(page).or_(logout_button(page)).first.wait_for(state="visible",
                                                             timeout=LOGIN_TIMEOUT_MS)


def login(page, username: str, password: str = DEMO_PASSWORD) -> bool:
    """Submit the real login form; return True when the logged-in view appeared."""
    page.get_by_label("Nama pengguna").fill(username)
    login_form(page).fill(password)
    watch_runs(page)
    page.get_by_role("button", name="Masuk").click()
    wait_for_run(page)
    outcome = logout_button(page).or_(page.locator('[data-testid="stAlertContentError"]'))
    outcome.first.wait_for(state="visible", timeout=LOGIN_TIMEOUT_MS)
    if logged_in(page):
        settle(page)  # the cookie component's extra rerun
    return logged_in(page)


def nav_labels(page) -> list[str]:
    """The sidebar navigation labels, in order."""
    return [text.strip() for text in page.locator(NAV_LABELS).all_inner_texts()]


def error_texts(page) -> list[str]:
    return [text.strip() for text in
            page.locator('[data-testid="stAlertContentError"]').all_inner_texts()]


def assert_no_traceback(page, server: Server | None = None, log_from: int = 0) -> None:
    """No exception element or traceback on the page (nor in the server log since `log_from`)."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.content()
    if server is not None:
        assert "Traceback" not in server.log_text()[log_from:], server.log_tail()


def shot(page, name: str) -> Path:
    """Save a screenshot as test-artifacts/e2e/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
