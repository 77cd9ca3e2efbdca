"""The web page in a real browser: Debian's Chromium, headless, driven by Selenium against
`rdds serve` on loopback, with a real SMTP server for the contact form.

Skipped when chromium or chromedriver is absent, except on CI (CI=true), where that is a
failure: CI installs them (`apt-get install -y chromium chromium-driver`). Screenshots of
every page go to a temporary directory, or to `$RDDS_WEB_SCREENSHOTS` when it is set (that
is how docs/web/ is made).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller

from tests import web_hostile
from tests.realclient.conftest import ROOT, free_port, require
from tests.web_support import Inbox

pytestmark = pytest.mark.realclient

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
WIDTHS = (360, 1280)
#: Screenshots show the whole page up to this height (the top of a long page).
SHOT_HEIGHT = {360: 2000, 1280: 1600}
#: What the demo's example.org registrant holds and the public must never see.
HIDDEN = ("Dara Ashdown", "exorg-1@mail.example", "EXORG-1")
SHOWCASE = {
    "example.coop": "example.coop",
    "unverified.coop": "unverified.coop",
    "example.org": "example.org",
    "consent.org": "consent.org",
    "journalist.org": "journalist.org",
    "suspended.cx": "suspended.cx",
    "pending.gs": "pending.gs",
    "مثال.عراق": "مثال.عراق",
    "ns1.example.coop": "ns1.example.coop",
    "9100": "Alder Registrar Ltd",
    "CXR1": "Island Names Registry Partner",
    "45.142.220.11": "45.142.220.11",
}


@dataclass(frozen=True)
class Served:
    base: str
    inbox: Inbox
    relay_log: Path


def _serve(replica: Path, tmp: Path, extra: str) -> tuple[subprocess.Popen[bytes], str, Any, Path]:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    cfg = tmp / "rdds.toml"
    cfg.write_text(f'[rdap]\nbase_url = "{base}"\n{extra}', encoding="utf-8")
    log_path = tmp / "serve.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rdds",
            "serve",
            "--replica",
            str(replica),
            "--config",
            str(cfg),
            "--rdap-port",
            str(port),
            "--whois-port",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log.close()
                pytest.fail(f"rdds serve did not start: {log_path.read_text()}")
            time.sleep(0.1)
    return proc, base, log, log_path


def _stop(proc: subprocess.Popen[bytes], log: Any, log_path: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    finally:
        log.close()
    assert code == 0, log_path.read_text()
    assert "Traceback" not in log_path.read_text()


@pytest.fixture(scope="module")
def served(demo_replica: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`rdds serve` with the page and the contact form, relaying to a real SMTP server."""
    tmp = tmp_path_factory.mktemp("web")
    box = Inbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    relay_log = tmp / "relay.jsonl"
    extra = (
        "[web]\n"
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {box.port}\n"
        "smtp_starttls = false\n"
        'sender = "Registry contact form <contact-form@registry.example>"\n'
        f'relay_log = "{relay_log}"\n'
        "form_min_seconds = 0\n"
        "lookups_per_minute = 0\n"
    )
    proc, base, log, log_path = _serve(demo_replica, tmp, extra)
    try:
        yield Served(base, box, relay_log)
    finally:
        try:
            _stop(proc, log, log_path)
        finally:
            controller.stop()


@pytest.fixture(scope="module")
def hostile_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rdds serve` on a replica imported from a deposit full of markup."""
    tmp = tmp_path_factory.mktemp("hostile")
    proc, base, log, log_path = _serve(web_hostile.write(tmp), tmp, "")
    try:
        yield base
    finally:
        _stop(proc, log, log_path)


def _driver(*, javascript: bool) -> Any:
    chromium = require("chromium")
    chromedriver = require("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tempfile.mkdtemp(prefix='rdds-chromium-')}",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    # An explicit driver path: Selenium Manager never downloads anything.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = _driver(javascript=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def nojs() -> Iterator[Any]:
    driver = _driver(javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = os.environ.get("RDDS_WEB_SCREENSHOTS")
    path = Path(out) if out else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_h1(driver: Any, text: str) -> str:
    """Wait for the page a click led to (its h1 says `text`), and return the h1."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 15).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def lookup_url(base: str, q: str) -> str:
    return f"{base}lookup?q={quote(q)}"


def console_errors(driver: Any) -> list[str]:
    """Severe console entries, less the one Chrome logs for a page answered with an error
    status on purpose (404 not found, 400 invalid): a CSP violation or a failed asset stays."""
    own = driver.current_url + " - Failed to load resource: the server responded with a status"
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and not e["message"].startswith(own)
    ]


def axe(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    script = AXE.read_text(encoding="utf-8")
    result = driver.execute_async_script(
        script
        + """
        ;const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
        """
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def check_page(driver: Any, shots: Path, name: str) -> None:
    """At both widths: no horizontal scrolling, no serious/critical axe violation, no console
    error (a CSP violation is one); then a full-page screenshot."""
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        violations = axe(driver)
        assert violations == [], (name, width, violations)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), SHOT_HEIGHT[width]))
        driver.save_screenshot(str(shots / f"{name}-{width}.png"))
    assert console_errors(driver) == [], name
    driver.set_window_size(1280, 900)


def test_type_a_name_and_read_the_answer(served: Served, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(served.base)
    assert browser.title == "Registration data lookup"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    check_page(browser, shots, "home")
    box = browser.find_element(By.ID, "q-main")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=q-main]").text
    box.send_keys("Example.ORG", Keys.ENTER)
    wait_h1(browser, "example.org")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Withheld for privacy" in body and "Registered and active" in body
    assert "Locked against transfer by the registrar" in body
    for secret in HIDDEN:
        assert secret not in browser.page_source
    assert "at risk" not in body.lower()
    check_page(browser, shots, "example-org")


@pytest.mark.parametrize("q", list(SHOWCASE))
def test_every_showcase_object(served: Served, browser: Any, shots: Path, q: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(lookup_url(served.base, q))
    h1 = browser.find_element(By.TAG_NAME, "h1").text
    assert SHOWCASE[q] in h1 or SHOWCASE[q] in browser.find_element(By.TAG_NAME, "body").text
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Something went wrong" not in text and "No match" not in text
    name = "idn" if q.startswith("مثال") else q.replace(".", "-")
    check_page(browser, shots, name)


def test_right_to_left_name_is_laid_out_right_to_left(served: Served, browser: Any) -> None:
    browser.get(lookup_url(served.base, "xn--mgbh0fb.xn--mgbtx2b"))
    first, last, direction = browser.execute_script(
        """
        const t = document.querySelector('h1 bdi').firstChild, r = document.createRange();
        r.setStart(t, 0); r.setEnd(t, 1); const first = r.getBoundingClientRect().x;
        r.setStart(t, t.length - 1); r.setEnd(t, t.length);
        return [first, r.getBoundingClientRect().x, getComputedStyle(t.parentNode).direction];
        """
    )
    assert direction == "rtl" and first > last  # the first letter is the rightmost


@pytest.mark.parametrize(
    ("name", "path", "words"),
    [
        ("notfound", "lookup?q=nothing-here.org", "Nothing matches"),
        ("invalid", "lookup?q=exa_mple.org", "not allowed"),
        ("empty", "lookup?q=", "Type a domain name"),
    ],
)
def test_error_pages(
    served: Served, browser: Any, shots: Path, name: str, path: str, words: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(served.base + path)
    assert words in browser.find_element(By.TAG_NAME, "body").text
    check_page(browser, shots, name)


def test_headers_of_every_page(served: Served) -> None:
    for path in (
        "",
        "lookup?q=example.org",
        "lookup?q=nothing-here.org",
        "contact?domain=example.org&role=registrant",
    ):
        try:
            resp = urllib.request.urlopen(served.base + path)
        except urllib.error.HTTPError as err:
            resp = err
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        if not path.startswith("contact"):
            assert resp.headers.get("Set-Cookie") is None, path  # no cookies for lookups


def test_without_javascript(served: Served, nojs: Any) -> None:
    """The whole page works with JavaScript off: search, result, contact form, sent."""
    from selenium.webdriver.common.by import By

    # GIVEN a browser that really runs no script
    nojs.get("data:text/html,<p id=x>off</p><script>x.textContent='on'</script>")
    assert nojs.find_element(By.ID, "x").text == "off"
    nojs.get(served.base)
    box = nojs.find_element(By.ID, "q-main")
    box.send_keys("consent.org")
    nojs.find_element(By.CSS_SELECTOR, "form.search-big button").click()
    wait_h1(nojs, "consent.org")
    assert "Lena Birchley" in nojs.find_element(By.TAG_NAME, "body").text
    for width in WIDTHS:
        nojs.set_window_size(width, 900)
        nojs.get(lookup_url(served.base, "journalist.org"))
        assert "Withheld for privacy" in nojs.find_element(By.TAG_NAME, "body").text


def test_contact_form_end_to_end_without_javascript(
    served: Served, nojs: Any, shots: Path, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    before = len(served.inbox.messages)
    nojs.set_window_size(1280, 900)
    nojs.get(lookup_url(served.base, "example.org"))
    nojs.find_element(By.LINK_TEXT, "Send a message through the contact form").click()
    wait_h1(nojs, "Write to the registrant of")
    browser.get(nojs.current_url)
    check_page(browser, shots, "contact")
    nojs.find_element(By.ID, "sender").send_keys("writer@mail.example")
    nojs.find_element(By.ID, "subject").send_keys("Your domain")
    nojs.find_element(By.ID, "message").send_keys("Hello,\nis example.org for sale?")
    nojs.find_element(By.CSS_SELECTOR, "form.contact-form button").click()
    assert wait_h1(nojs, "Message sent") == "Message sent"
    for secret in HIDDEN:
        assert secret.lower() not in nojs.page_source.lower()
    deadline = time.monotonic() + 10
    while len(served.inbox.messages) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    got = served.inbox.messages[-1]
    assert got.rcpt_tos == ["exorg-1@mail.example"]
    assert got.message["Reply-To"] == "writer@mail.example"
    assert "is example.org for sale?" in got.message.get_content()
    assert "writer@mail.example" not in served.relay_log.read_text()
    # The sent page, checked like the others (the browser posts its own form).
    browser.find_element(By.ID, "sender").send_keys("reader@mail.example")
    browser.find_element(By.ID, "subject").send_keys("Hello")
    browser.find_element(By.ID, "message").send_keys("A second message.")
    browser.find_element(By.CSS_SELECTOR, "form.contact-form button").click()
    assert wait_h1(browser, "Message sent") == "Message sent"
    check_page(browser, shots, "sent")


def test_hostile_values_are_text_in_the_browser(
    hostile_base: str, browser: Any, shots: Path
) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    browser.get(lookup_url(hostile_base, "suspended.example"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert web_hostile.ORG in body and web_hostile.REGISTRAR in body  # shown as text
    assert browser.find_elements(By.CSS_SELECTOR, "img, script, form[action^='https://evil']") == []
    assert browser.find_elements(By.CSS_SELECTOR, "a[href^='javascript:']") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - no script ran
    check_page(browser, shots, "hostile")
