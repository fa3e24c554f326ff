"""Benchmark: first paint of every page in a real browser (issue 9), on 480 / 100,000 IKM.

Run: python -m bench.first_paint [--sizes 480 100000] [--repeat 5] [--starts 3] [--profile DIR]

For each size it copies the bench database (bench/results/, built once by bench.run.build and
pinned to one day) into a temporary data folder and starts the real app on it
(`streamlit run app.py`, headless, on a free loopback port, demo mode: no secrets file, so the
bench database's demo accounts log in), then drives Debian's Chromium with Playwright:

- each user logs in once with the real form (a server of its own; timed as "log in →
  Overview") and the browser keeps the remember-me cookie and the data folder's cookie key;
- `--starts` times, for each size in turn (sizes interleaved, so a change in the machine's load
  hits them alike), a fresh admin server: the Account page is opened by URL (the cookie logs in;
  "open app by URL"), then every page admin may open (services.permissions.PAGES, menu order)
  by clicking its sidebar link: the page's **first open** (new process: empty st.cache_data,
  page modules not yet imported); then `--repeat` more rounds over the pages: **repeat
  opens**. On Data IKM it then clicks "›" (**next page**) and switches the language EN ↔ ID in
  the sidebar (**language switch**: Data IKM redrawn in the other language); the first of each
  counts as "first", the others as "repeat". Last, it filters the list by each regency in turn,
  then by the stage "trained", then back to all regencies (**filter**: each choice a query not
  cached yet, so all count as "first");
- then one fresh server per size for the viewer (tamu): the same for the viewer's pages.

**First paint** of a page (what is timed, from the click to the moment all of these hold,
checked in the page every 15 ms):
1. the server reported a script run finished after the click (a `script_finished` message on
   the app's websocket), so an old page still on screen never counts;
2. `[data-testid="stApp"]` is `data-test-script-state="notRunning"` and Streamlit's status
   widget (`[data-testid="stStatusWidget"]`, "Running…") is not shown;
3. the page's title (the h1 in `stMain`) shows the page's own title in the session's language
   and is not stale (`data-stale`), and no skeleton is left;
4. its main content is there and not stale: the grid on Data IKM, the table on the Overview
   (other pages: the title and the finished run).
For "next page", 4 is also the caption "2 / N"; for a filter, the count caption with the new
total (computed from the database by services.ikm.list_ikm); for the language switch, 3 is the
title in the other language. After each measurement the page is left to settle (no run for
300 ms) so the next one starts from rest. "runs" counts the script runs finished from the
click to 300 ms after the paint (a st.rerun, a component's value); in brackets, "server" is
the part of the time until the last run before the paint was reported finished (the rest is
the browser drawing, on the same cores).

Errors: Chromium console errors and page errors, and the server log's tracebacks and ERROR
lines (e.g. an Arrow serialization failure), are counted per size and printed.

Timings are never asserted: the table is for people. Two cores and other jobs make absolute
figures noisy: compare the ratios (to the Overview, and 100k / 480).
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("IKM_BCRYPT_ROUNDS", "4")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}
PASSWORD = "madura-demo-2024"
STARTUP_TIMEOUT = 120.0
TIMEOUT_MS = 180_000  # a first page of a fresh server on 100,000 IKM may be slow
POLL_MS = 15
QUIET_MS = 300

# The h1 of each page (its st.title), an i18n key; pages not listed: any h1.
TITLE_KEYS = {"overview": "overview.title", "data_ikm": "page.data_ikm",
              "cohorts": "cohp.title", "import_export": "imppg.title",
              "admin": "admin.title", "account": "account.title"}
# The main content that must be shown besides the title.
CONTENT = {"overview": '[data-testid="stMain"] [data-testid="stDataFrame"]',
           "data_ikm": '[data-testid="stMain"] [data-testid="stDataFrame"]'}

_PAINTED = """([title, content, caption]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const shown = (el) => !!el && el.getClientRects().length > 0
    && !el.closest('[data-stale="true"]');
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  if (status && status.getClientRects().length > 0 && /\\S/.test(status.textContent)) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  if (!shown(h1) || (title && !h1.textContent.trim().startsWith(title))) return false;
  if (content && !shown(document.querySelector(content))) return false;
  if (caption) {
    const caps = [...document.querySelectorAll(
      '[data-testid="stMain"] [data-testid="stCaptionContainer"]')];
    if (!caps.some((el) => shown(el) && el.textContent.trim().startsWith(caption))) return false;
  }
  return true;
}"""


# --- the server --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base_url: str
    log_path: Path
    process: subprocess.Popen
    started_s: float  # spawn to /_stcore/health "ok"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") \
            if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(folder: Path, db_file: Path | None = None,
                 profile_dir: Path | None = None) -> Server:
    """`streamlit run app.py` on `folder`/ikm.db (a fresh copy of `db_file` when given), in
    demo mode, on loopback only; with `profile_dir`, every script run is profiled there
    (bench.profiled_streamlit)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    target = folder / "ikm.db"
    if db_file is not None:
        shutil.copyfile(db_file, target)
        target.chmod(0o600)
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("IKM_COOKIE_KEY", "IKM_DEMO", "DATABASE_URL")}
    env.update({"IKM_DATA_DIR": str(folder), "DATABASE_URL": f"sqlite:///{target}",
                "PYTHONUNBUFFERED": "1"})
    log_path = folder / "server.log"
    runner = ["-m", "streamlit", "run"]
    if profile_dir is not None:
        runner = ["-m", "bench.profiled_streamlit"]
        env["IKM_PROFILE_DIR"] = str(profile_dir)
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, *runner, "app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false",
             "--secrets.files", str(folder / "no-secrets.toml")],  # demo mode, whatever is local
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", log_path, process, 0.0)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(server.base_url + "/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    server.started_s = time.perf_counter() - started
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server not healthy:\n{server.log_text()[-3000:]}")
        time.sleep(0.1)


# --- the browser -------------------------------------------------------------------------------

@dataclass
class Measure:
    seconds: float  # action to first paint
    server: float  # action to the last script_finished seen before the paint
    runs: int  # script runs finished from the action to QUIET_MS after the paint


@dataclass
class Tab:
    """One browser page that notes when the server reports a script run finished."""
    page: object
    finished_at: list[float] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return len(self.finished_at)

    def watch(self) -> None:
        from google.protobuf.message import DecodeError
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        def on_frame(payload) -> None:
            if isinstance(payload, str):
                return
            try:
                kind = ForwardMsg.FromString(payload).WhichOneof("type")
            except DecodeError:
                return
            if kind == "script_finished":
                self.finished_at.append(time.perf_counter())

        def on_socket(ws) -> None:
            if ws.url.endswith("/_stcore/stream"):  # the app's socket, not a component's
                ws.on("framereceived", on_frame)

        def on_console(msg) -> None:
            if msg.type == "error":
                where = (msg.location or {}).get("url", "")
                self.console_errors.append(f"{msg.text} ({where})" if where else msg.text)

        self.page.on("websocket", on_socket)
        self.page.on("console", on_console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def quiet(self, ms: int = QUIET_MS) -> None:
        """Wait until no script run has finished for `ms` and the app is not running."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            seen = self.finished
            self.page.wait_for_selector(
                '[data-testid="stApp"][data-test-script-state="notRunning"]',
                state="attached", timeout=TIMEOUT_MS)
            self.page.wait_for_timeout(ms)
            if self.finished == seen and self.page.locator(
                    '[data-testid="stApp"][data-test-script-state="notRunning"]').count():
                return
        raise TimeoutError("the app never came to rest")

    def timed(self, action, *, title: str | None, content: str | None = None,
              caption: str | None = None) -> Measure:
        """Time `action()` to first paint (see the module's doc)."""
        mark = self.finished
        started = time.perf_counter()
        action()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while self.finished <= mark:  # websocket events arrive while Playwright waits
            if time.monotonic() > deadline:
                raise TimeoutError("no script run finished")
            self.page.wait_for_timeout(POLL_MS)
        self.page.wait_for_function(_PAINTED, arg=[title, content, caption],
                                    polling=POLL_MS, timeout=TIMEOUT_MS)
        painted = time.perf_counter()
        server = max(t for t in self.finished_at[mark:] if t <= painted) - started
        self.quiet()
        return Measure(painted - started, server, self.finished - mark)


def nav_link(page, label: str):
    return page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]').filter(
        has=page.get_by_text(label, exact=True)).first


# --- one server, one user ------------------------------------------------------------------------

Samples = dict[tuple[str, str], dict[str, list]]  # (role, row) -> first/repeat/server_*/runs


def _add(samples: Samples, role: str, row: str, m: Measure, first: bool) -> None:
    cell = samples.setdefault((role, row), {"first": [], "repeat": [], "server_first": [],
                                            "server_repeat": [], "runs": []})
    cell["first" if first else "repeat"].append(m.seconds)
    cell["server_first" if first else "server_repeat"].append(m.server)
    cell["runs"].append(m.runs)


def _new_tab(browser, storage_state=None) -> Tab:
    context = browser.new_context(viewport=VIEWPORT, locale="id-ID", storage_state=storage_state)
    context.set_default_timeout(TIMEOUT_MS)
    tab = Tab(context.new_page())
    tab.watch()
    return tab


def log_in(browser, server: Server, username: str, role: str, samples: Samples) -> dict:
    """Log in with the real form (timed: "log in → Overview"); return the browser's state with
    the remember-me cookie, which logs the user in again on a fresh server that has the same
    cookie key in its data folder."""
    from ui.catalogue import CATALOGUE

    ids = CATALOGUE["id"]
    tab = _new_tab(browser)
    page = tab.page
    tab.timed(lambda: page.goto(server.base_url + "/"), title=ids["app.title"])
    page.get_by_label(ids["login.username"]).fill(username)
    page.get_by_label(ids["login.password"]).fill(PASSWORD)
    _add(samples, role, "log in → Overview", tab.timed(
        lambda: page.get_by_role("button", name=ids["login.submit"]).click(),
        title=ids[TITLE_KEYS["overview"]], content=CONTENT["overview"]), True)
    state = page.context.storage_state()
    page.context.close()
    return state


def session_run(browser, server: Server, state: dict, role: str, repeat: int,
                samples: Samples, extras: bool,
                filter_steps: list[tuple[str, str, str, int]] = (),
                failure_name: str = "session") -> list[str]:
    """On a fresh server: open the Account page by URL (the cookie logs in), then every page of
    the role by its sidebar link (first open, then `repeat` rounds); with `extras`, next page,
    language switch and `filter_steps` (see `filter_plan`) on Data IKM. Returns the console
    errors."""
    from services.permissions import pages_for
    from ui.catalogue import CATALOGUE

    tab = _new_tab(browser, state)
    page = tab.page
    ids, ens = CATALOGUE["id"], CATALOGUE["en"]

    def add(row: str, m: Measure, first: bool) -> None:
        _add(samples, role, row, m, first)

    def steps() -> None:
        # A fresh server: migration check, reference data, first imports, the cookie's login.
        add("open app by URL, remembered (fresh server)",
            tab.timed(lambda: page.goto(server.base_url + "/account"),
                      title=ids[TITLE_KEYS["account"]]), True)

        pages = pages_for(role)
        order = [p for p in pages if p.key != "account"] + \
            [p for p in pages if p.key == "account"]
        for round_no in range(repeat + 1):
            for spec in order:
                link = nav_link(page, ids[spec.title_key])
                add(spec.key, tab.timed(link.click,
                                        title=ids.get(TITLE_KEYS.get(spec.key, ""), None),
                                        content=CONTENT.get(spec.key)),
                    round_no == 0 and spec.key != "account")

        if extras and any(p.key == "data_ikm" for p in pages):
            spec = next(p for p in pages if p.key == "data_ikm")
            tab.timed(nav_link(page, ids[spec.title_key]).click, title=ids["page.data_ikm"],
                      content=CONTENT["data_ikm"])
            for n in range(repeat + 1):
                button = page.locator('[data-testid="stMain"]').get_by_role("button", name="›",
                                                                            exact=True)
                add("data_ikm: next page ›",
                    tab.timed(lambda b=button: b.click(), title=ids["page.data_ikm"],
                              content=CONTENT["data_ikm"], caption=f"{n + 2} / "), n == 0)
            for n in range(2 * max(1, (repeat + 1) // 2)):  # an even number: ends in Indonesian
                lang, catalogue = ("EN", ens) if n % 2 == 0 else ("ID", ids)
                control = page.locator('[data-testid="stSidebar"]').get_by_role(
                    "radio", name=lang, exact=True)
                add("data_ikm: language switch",
                    tab.timed(lambda c=control: c.click(), title=catalogue["page.data_ikm"],
                              content=CONTENT["data_ikm"]), n == 0)
            # Filters: every choice is a query not cached yet (a "first"), timed from the click on
            # the option to the grid showing the new count ("25.000 IKM · halaman 1 dari 500").
            for row, label, option, total in filter_steps:
                page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
                    has=page.get_by_text(label, exact=True)).first.click()
                choice = page.get_by_role("option", name=option, exact=True)
                caption = ids["ikm.count"].split("{total}")[0] + f"{total:,}".replace(",", ".") + \
                    ids["ikm.count"].split("{total}")[1].split("{page}")[0] + "1 "
                add(f"data_ikm: filter {row}",
                    tab.timed(lambda c=choice: c.click(), title=ids["page.data_ikm"],
                              content=CONTENT["data_ikm"], caption=caption), True)

    failure = None
    try:
        steps()
    except Exception as exc:  # noqa: BLE001  (a step that never painted: note it, go on)
        shot = RESULTS / f"first_paint_failure_{failure_name}.png"
        try:
            page.screenshot(path=str(shot))
        except Exception:  # noqa: BLE001
            shot = None
        failure = f"FAILED ({failure_name}): {type(exc).__name__}: {str(exc).splitlines()[0]}" \
                  + (f"; screenshot {shot}" if shot else "")
        print(failure, file=sys.stderr, flush=True)
    errors = list(tab.console_errors) + ([failure] if failure else [])
    page.context.close()
    return errors


def filter_plan(db_file: Path) -> list[tuple[str, str, str, int]]:
    """The Data IKM filter choices the bench makes, in order, as (row, label, option, total):
    each regency in turn, then the stage "trained" in the last one, then all regencies again."""
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from services.ikm import IkmFilter, list_ikm
    from services.reference import kabupaten_options
    from ui.catalogue import CATALOGUE

    ids = CATALOGUE["id"]
    engine = create_engine(f"sqlite:///{db_file}")
    steps = []
    with Session(engine) as session:
        regencies = kabupaten_options(session)
        for code, name in regencies.items():
            total = list_ikm(session, filters=IkmFilter(kabupaten_code=code), page_size=1)[1]
            steps.append(("regency", ids["col.kabupaten"], name, total))
        last = list(regencies)[-1]
        for row, kab, label, option in (
                ("stage trained, one regency", last, ids["ikm.stage"], ids["col.trained"]),
                ("stage trained, all regencies", None, ids["col.kabupaten"], ids["ikm.all"])):
            total = list_ikm(session, filters=IkmFilter(kabupaten_code=kab, stage="trained"),
                             page_size=1)[1]
            steps.append((row, label, option, total))
    engine.dispose()
    return steps


# --- the table ------------------------------------------------------------------------------------

def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(seconds: float | None, server: float | None = None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.2f} s" + (f" ({server:.2f})" if server is not None else "")


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"×{a / b:.2f}"


def server_errors(log: str) -> list[str]:
    """Tracebacks (their last line) and ERROR lines of a server log."""
    found = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            tail = next((lines[j] for j in range(i + 1, len(lines))
                         if lines[j] and not lines[j].startswith((" ", "Traceback"))), "?")
            found.append(f"traceback: {tail.strip()}")
        elif re.search(r"\bERROR\b", line):
            found.append(re.sub(r"^[\d:., -]+", "", line.strip()))
    return found


def report(results: dict[int, Samples], sizes: list[int], errors: dict[int, dict]) -> None:
    rows: list[tuple[str, str]] = []
    for size in sizes:
        for key in results[size]:
            if key not in rows:
                rows.append(key)
    rows.sort(key=lambda key: key[0] != "admin")  # admin first, order of first measurement
    print("\nFirst paint, medians; in brackets the part until the server reported the last run "
          "finished. First open: one per fresh server; repeat: the later opens. Ratios: to the "
          "same role's Overview at the same size.\n")
    print("| role | page / action | IKM | first open | repeat | first ÷ Overview | "
          "repeat ÷ Overview | runs |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for role, row in rows:
        for size in sizes:
            cell = results[size].get((role, row))
            if not cell:
                continue
            base = results[size].get((role, "overview"), {})
            first, again = _median(cell["first"]), _median(cell["repeat"])
            server_first = _median(cell["server_first"]) if first and cell["runs"][0] else None
            print(f"| {role} | {row} | {size:,} | {_fmt(first, server_first)} | "
                  f"{_fmt(again, _median(cell['server_repeat']))} | "
                  f"{_ratio(first, _median(base.get('first', [])))} | "
                  f"{_ratio(again, _median(base.get('repeat', [])))} | "
                  f"{max(cell['runs']) if any(cell['runs']) else '–'} |")
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        print(f"\nLargest ÷ smallest ({big:,} ÷ {small:,} IKM), medians:\n")
        print("| role | page / action | first open | repeat |")
        print("|---|---|---:|---:|")
        for role, row in rows:
            a, b = results[big].get((role, row)), results[small].get((role, row))
            if a and b:
                print(f"| {role} | {row} | {_ratio(_median(a['first']), _median(b['first']))} | "
                      f"{_ratio(_median(a['repeat']), _median(b['repeat']))} |")
    print("\nErrors (Chromium console and page errors; server log tracebacks and ERROR lines):\n")
    for size in sizes:
        console, server = errors[size]["console"], errors[size]["server"]
        print(f"- {size:,} IKM: {len(console)} console, {len(server)} server")
        counted: dict[str, int] = defaultdict(int)
        for text in console + server:
            counted[re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)[:200]] += 1
        for text, count in sorted(counted.items(), key=lambda kv: -kv[1])[:10]:
            print(f"    {count} × {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[480, 100_000])
    parser.add_argument("--repeat", type=int, default=5, help="repeat opens per fresh server")
    parser.add_argument("--starts", type=int, default=3,
                        help="fresh admin servers per size (first-open samples)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="profile every script run of the measured servers into "
                             "DIR/<size>-<user>-<n>/ (cProfile; skews the timings a little)")
    args = parser.parse_args()
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        sys.exit(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from bench.run import build

    files = {size: build(size) for size in args.sizes}
    filters = {size: filter_plan(files[size]) for size in args.sizes}
    results: dict[int, Samples] = {size: {} for size in args.sizes}
    errors = {size: {"console": [], "server": []} for size in args.sizes}
    users = {"admin": "admin", "tamu": "viewer"}
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="ikm-first-paint-") as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        states: dict[tuple[int, str], tuple[dict, Path]] = {}

        def serve(size: int, folder: Path, run, profile: bool = False) -> None:
            server = start_server(folder, files[size], args.profile / folder.name
                                  if profile and args.profile else None)
            try:
                run(server)
            finally:
                server.stop()
                errors[size]["server"] += server_errors(server.log_text())
                shutil.rmtree(folder, ignore_errors=True)  # 100,000 IKM: 275 MB a copy

        for size in args.sizes:
            for username, role in users.items():
                # Log in once; the cookie key of that data folder goes to the fresh servers.
                folder = Path(tmp) / f"{size}-{username}-login"

                def login(server, size=size, username=username, role=role, folder=folder):
                    state = log_in(browser, server, username, role, results[size])
                    key = (folder / "demo_cookie_key").read_text(encoding="utf-8")
                    states[(size, username)] = (state, key)

                serve(size, folder, login)
        plan = [(n, size, "admin") for n in range(args.starts) for size in args.sizes]
        plan += [(args.starts, size, "tamu") for size in args.sizes]
        for step, (n, size, username) in enumerate(plan, 1):
            role = users[username]
            state, key = states[(size, username)]
            folder = Path(tmp) / f"{size}-{username}-{n}"
            folder.mkdir(parents=True)
            (folder / "demo_cookie_key").write_text(key, encoding="utf-8")
            print(f"[{step}/{len(plan)}] {size:,} IKM, {username}, fresh server",
                  file=sys.stderr, flush=True)

            def run(server, size=size, role=role, state=state, extras=username == "admin",
                    name=f"{size}_{username}_{n}"):
                _add(results[size], role, "server start (health ok)",
                     Measure(server.started_s, 0.0, 0), True)
                errors[size]["console"] += session_run(
                    browser, server, state, role, args.repeat, results[size], extras,
                    filters[size], failure_name=name)

            serve(size, folder, run, profile=True)
        browser.close()
    report(results, args.sizes, errors)


if __name__ == "__main__":
    main()
