"""deploy/nginx.conf.example, run for real: Debian's nginx in front of the app on loopback.

The example's TLS server block is used as shipped (locations, headers, proxy settings, TLS),
with a self-signed certificate made for the test and a free port. Skipped when nginx or openssl
is not installed (apt-get install nginx-light).
"""

import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    COOKIE_NAME,
    DEMO_PASSWORD,
    ROOT,
    _missing,
    error_texts,
    goto,
    login,
    start_server,
    wait_for_run,
    watch_runs,
)

pytestmark = pytest.mark.e2e
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EXAMPLE = ROOT / "deploy" / "nginx.conf.example"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tls_config(folder: Path, listen: int, app_port: int) -> Path:
    """nginx.conf for a private nginx: the example's TLS server block on a free port."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    text = EXAMPLE.read_text(encoding="utf-8")
    snippet = "\n".join(line[4:] for line in text.splitlines() if line.startswith("#   "))
    snippet = snippet[snippet.index("proxy_pass"):].replace("8501", str(app_port))
    (folder / "ikm-proxy.conf").write_text(snippet + "\n", encoding="utf-8")
    body = text[text.index("map $http_upgrade"):text.index("# --- /etc/nginx/snippets")]
    servers = body.split("server {")
    main = "server {" + servers[2]  # the TLS server block
    main = re.sub(r"\n\s*listen .*", "", main)
    main = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain.pem", str(folder / "cert.pem"), main)
    main = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey.pem", str(folder / "key.pem"), main)
    main = main.replace("server {", f"server {{\n    listen 127.0.0.1:{listen} ssl http2;", 1)
    main = main.replace("/etc/nginx/snippets/ikm-proxy.conf", str(folder / "ikm-proxy.conf"))
    conf = folder / "nginx.conf"
    conf.write_text(f"""daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    {servers[0]}
    {main}
}}
""", encoding="utf-8")
    return conf


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """(nginx base URL, app server) with the app trusting nginx on loopback, as README says."""
    if not Path(NGINX).exists() or not shutil.which("openssl"):
        _missing("nginx or openssl is not installed (apt-get install nginx-light)")
    app = start_server(tmp_path_factory.mktemp("behind-nginx"),
                       FORWARDED_ALLOW_IPS="127.0.0.1,::1",
                       IKM_TRUSTED_PROXIES="127.0.0.1,::1")
    folder = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    conf = tls_config(folder, port, int(app.base_url.rsplit(":", 1)[1]))
    nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(conf)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2,
                                            context=UNVERIFIED) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, OSError):
                if nginx.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "error.log").read_text() if (folder / "error.log").exists() \
                        else ""
                    pytest.fail(f"nginx did not start: {log}")
                time.sleep(0.2)
        yield base, app
    finally:
        nginx.terminate()
        nginx.wait(10)
        app.stop()


UNVERIFIED = ssl._create_unverified_context()  # the test's own self-signed certificate


def headers_of(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10, context=UNVERIFIED) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


def test_pages_may_not_be_framed_and_metrics_are_closed(proxied):
    base, _app = proxied
    status, headers = headers_of(base + "/")
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert headers_of(base + "/_stcore/metrics")[0] == 404
    assert headers_of(base + "/_stcore/metrics?families=session_events")[0] == 404
    # Straight to the app (what nginx hides) the metrics are open: that is why it hides them.
    assert headers_of(_app.url("/_stcore/metrics"))[0] == 200


def test_login_through_nginx_records_the_real_address_not_the_spoofed_one(proxied, browser):
    base, app = proxied

    class Through:  # goto() needs only .url()
        @staticmethod
        def url(path: str = "/") -> str:
            return base + path

    context = browser.new_context(extra_http_headers={"X-Forwarded-For": "6.6.6.6"},
                                  ignore_https_errors=True)
    try:
        page = context.new_page()
        for n in range(1, 6):
            goto(page, Through)
            assert not login(page, "kepala", f"salah-{n}-xx")
        goto(page, Through)
        assert not login(page, "kepala", DEMO_PASSWORD)
        assert error_texts(page)[0].startswith("Terlalu banyak percobaan gagal")
        with sqlite3.connect(f"file:{app.db_path}?mode=ro", uri=True) as db:
            ips = {ip for (ip,) in db.execute("SELECT ip FROM loginattempt")}
        assert ips == {"127.0.0.1"}  # nginx's $remote_addr, never the header the client sent
    finally:
        context.close()
    # The remember-me cookie works through the proxy (the component may be framed by the app),
    # carries Secure over HTTPS, and logout still deletes it.
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        goto(page, Through)
        assert login(page, "tamu")
        page.wait_for_timeout(1500)
        cookie = next(c for c in context.cookies() if c["name"] == COOKIE_NAME)
        assert (cookie["secure"], cookie["sameSite"], cookie["httpOnly"]) == (True, "Strict",
                                                                              False)
        watch_runs(page)
        page.get_by_role("button", name="Keluar").click()
        wait_for_run(page)
        expect(page.get_by_label("Kata sandi")).to_be_visible()
        page.wait_for_timeout(1500)
        assert COOKIE_NAME not in {c["name"] for c in context.cookies()}
    finally:
        context.close()
