"""The demo's HTML report in a real browser: headless Chromium without network, driven over the
DevTools protocol (``--remote-debugging-pipe``: no port, no websocket dependency).

The report must render its summary, one row per finding of report.json and the reachability
pictures (inline SVG), with no console error, no uncaught exception, no failed resource load and
no request leaving file:// (the page is self-contained). A full-page screenshot is kept as
tests/output/report-browser.png. Without a startable Chromium (Debian package ``chromium``, or
AKSNET_CHROMIUM=/path/to/chrome) the tests are skipped with the reason.
"""

from __future__ import annotations

import base64
import collections
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._diag.report import render_html

from .conftest import ROOT

SCREENSHOT = os.path.join(ROOT, "tests", "output", "report-browser.png")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
START_TIMEOUT = 30
CALL_TIMEOUT = 20
# no network: every host resolves to nothing and every non-file URL goes to a dead proxy, loopback included
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--mute-audio",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--window-size=1280,900",
)
SELF_CONTAINED = ("file:", "data:", "about:")


class BrowserUnavailable(Exception):
    """Chromium is missing or does not start: the tests skip with this reason."""


def find_chromium():
    explicit = os.environ.get("AKSNET_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """A headless Chromium and a minimal DevTools client over its pipe (NUL-separated JSON; the
    browser reads commands from its fd 3 and writes replies and events to its fd 4)."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = str(workdir)
        self.log_path = os.path.join(self.workdir, "chromium.log")
        self.proc = None
        self._to_browser = self._from_browser = None
        self._buffer = b""
        self._next_id = 0
        self.events = []

    # process -------------------------------------------------------------------------------
    def start(self):
        profile = os.path.join(self.workdir, "profile")
        os.makedirs(profile, exist_ok=True)
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        # well above 4, so that the launcher's redirections to 3 and 4 cannot clobber them (bash: dash takes single digits only)
        child_r, child_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 20), fcntl.fcntl(out_w, fcntl.F_DUPFD, 20)
        os.close(cmd_r)
        os.close(out_w)
        script = f'exec "$0" "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-'
        env = dict(os.environ)
        env.update({"HOME": self.workdir, "XDG_CONFIG_HOME": profile, "XDG_CACHE_HOME": profile})
        try:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [shutil.which("bash") or "/bin/bash", "-c", script, self.binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=(child_r, child_w), env=env,
                    start_new_session=True,
                )
        except OSError as exc:
            os.close(cmd_w)
            os.close(out_r)
            raise BrowserUnavailable(f"cannot run {self.binary}: {exc}") from exc
        finally:
            os.close(child_r)
            os.close(child_w)
        self._to_browser, self._from_browser = cmd_w, out_r
        try:
            version = self.call("Browser.getVersion", timeout=START_TIMEOUT)
        except (TimeoutError, OSError, RuntimeError) as exc:
            self.close()
            raise BrowserUnavailable(f"{self.binary} did not start ({exc}); its output:\n{self.log_tail()}") from exc
        return version

    def log_tail(self, size=3000):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()[-size:]
        except OSError:
            return ""

    def close(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.send("Browser.close")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the session this test started, nothing else
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            if fd is not None:
                os.close(fd)
        self._to_browser = self._from_browser = None
        self.proc = None

    # protocol ------------------------------------------------------------------------------
    def send(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        return self._next_id

    def _read(self, deadline):
        """Next message from the browser; raises TimeoutError at ``deadline`` and RuntimeError when it exited."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the browser")
            if select.select([self._from_browser], [], [], left)[0]:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"the browser exited (rc {self.proc.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None, timeout=CALL_TIMEOUT):
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method, session, timeout=CALL_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            message = self._read(deadline)
            if "method" in message:
                self.events.append(message)

    # one page ------------------------------------------------------------------------------
    def open(self, path, screenshot=None):
        """Load ``path`` in a new tab; return what happened (see PageRun) and optionally save a full-page PNG."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.events = [e for e in self.events if e.get("sessionId") != session]
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable", session=session)
            self.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
            url = "file://" + os.path.abspath(path)
            nav = self.call("Page.navigate", {"url": url}, session)
            if nav.get("errorText"):
                raise AssertionError(f"navigating to {url} failed: {nav['errorText']}")
            self.wait_event("Page.loadEventFired", session)
            # let late errors arrive: two frames and a short timer after load
            self.evaluate(session, "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 200))))")
            dom = self.evaluate(session, DOM_PROBE)
            shot = None
            if screenshot:
                size = self.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
                clip = {"x": 0, "y": 0, "width": max(1, size["width"]), "height": min(max(1, size["height"]), 16000), "scale": 1}
                data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}, session)["data"]
                shot = base64.b64decode(data)
                for target_path in [screenshot] if isinstance(screenshot, str) else screenshot:
                    os.makedirs(os.path.dirname(target_path), exist_ok=True)
                    with open(target_path, "wb") as handle:
                        handle.write(shot)
            events = [e for e in self.events if e.get("sessionId") == session]
        finally:
            self.call("Target.closeTarget", {"targetId": target})
            self.events = []
        return PageRun(events, dom, shot)

    def evaluate(self, session, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session)
        if "exceptionDetails" in result:
            raise AssertionError(f"evaluating the DOM probe failed: {result['exceptionDetails']}")
        return result["result"].get("value")


DOM_PROBE = r"""(() => {
  const box = (el) => { const b = el.getBoundingClientRect(); return {width: b.width, height: b.height}; };
  const summary = document.getElementById('summary');
  return {
    title: document.title,
    summary: summary ? {text: summary.innerText.trim(), ...box(summary)} : null,
    findings: [...document.querySelectorAll('div.finding')].map((row) => ({
      severity: [...row.classList].filter((c) => c !== 'finding').join(' '),
      code: (row.querySelector('code') || {textContent: ''}).textContent.trim(),
      ...box(row),
    })),
    pictures: [...document.querySelectorAll('svg.policy-picture')].map((svg) => ({
      label: svg.getAttribute('aria-label'),
      cells: svg.querySelectorAll('rect').length,
      labels: svg.querySelectorAll('text').length,
      ...box(svg),
    })),
  };
})()"""


class PageRun:
    """The DevTools events of one page load, the DOM probe's answer and the screenshot (PNG bytes or None)."""

    def __init__(self, events, dom, screenshot):
        self.events = events
        self.dom = dom or {}
        self.screenshot = screenshot

    def errors(self):
        """Console errors, uncaught exceptions, error log entries, failed loads and requests leaving file://."""
        found = []
        urls = {}
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
                found.append(f"console {params['type']}: {' '.join(str(a) for a in args)}")
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(f"page error: {details.get('exception', {}).get('description') or details.get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".rstrip())
            elif method == "Network.requestWillBeSent":
                url = params.get("request", {}).get("url", "")
                urls[params.get("requestId")] = url
                if not url.startswith(SELF_CONTAINED):
                    found.append(f"request leaving the page: {url}")
            elif method == "Network.loadingFailed":
                found.append(f"failed load: {urls.get(params.get('requestId'), params.get('requestId'))}: {params.get('errorText')}")
        return found


def report_problems(run, report, picture=True):
    """Everything wrong with a rendered report against its report.json; empty when it renders as it should."""
    problems = run.errors()
    dom = run.dom
    summary = dom.get("summary")
    counts = report.get("summary") or {}
    if not summary or not summary["text"] or not summary["width"] or not summary["height"]:
        problems.append(f"summary missing, empty or not rendered: {summary}")
    else:
        for key, word in (("errors", "error(s)"), ("warnings", "warning(s)"), ("infos", "info(s)")):
            if f"{counts.get(key, 0)} {word}" not in summary["text"]:
                problems.append(f"summary {summary['text']!r} does not say {counts.get(key, 0)} {word}")
    rows = dom.get("findings") or []
    findings = report.get("findings") or []
    if len(rows) != len(findings):
        problems.append(f"{len(rows)} finding rows rendered, report.json has {len(findings)} findings")
    rendered = collections.Counter((r["code"], r["severity"]) for r in rows)
    expected = collections.Counter((f.get("code"), f.get("severity")) for f in findings)
    if rendered != expected:
        problems.append(f"finding rows differ from report.json: rendered {dict(rendered)}, expected {dict(expected)}")
    problems += [f"finding row {r['code']} not rendered ({r['width']}x{r['height']})" for r in rows if not (r["width"] and r["height"])]
    pictures = dom.get("pictures") or []
    if picture and not pictures:
        problems.append("no policy picture (svg.policy-picture) rendered")
    for pic in pictures:
        if not pic["cells"] or not pic["labels"] or not (pic["width"] and pic["height"]):
            problems.append(f"policy picture {pic['label']!r} empty or not rendered: {pic}")
    return problems


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = find_chromium()
    if not binary:
        pytest.skip("Chromium not found: install the Debian package chromium (apt-get install chromium) or set AKSNET_CHROMIUM")
    chrome = Chromium(binary, tmp_path_factory.mktemp("chromium"))
    try:
        chrome.start()
    except BrowserUnavailable as exc:
        pytest.skip(str(exc))
    yield chrome
    chrome.close()


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.xdist_group("demo")
def test_demo_report_renders_in_chromium(broken_demo, browser, tmp_path):
    broken_demo.assert_ok()
    demo_took, out = broken_demo.seconds, broken_demo.out
    html_path, json_path = out / "report" / "report.html", out / "report" / "report.json"
    assert html_path.is_file() and json_path.is_file(), f"the demo wrote no report:\n{broken_demo.output[-4000:]}"
    report = _read_json(json_path)
    assert report.get("findings"), "the demo's scenario should produce findings to draw"

    started = time.monotonic()
    shots = [str(tmp_path / "report-browser.png"), SCREENSHOT]
    run = browser.open(str(html_path), screenshot=shots)
    print(f"demo {demo_took:.1f}s, browser {time.monotonic() - started:.1f}s; screenshot: {SCREENSHOT} (and {shots[0]})")

    problems = report_problems(run, report)
    assert not problems, "the report does not render cleanly in Chromium:\n- " + "\n- ".join(problems)
    assert run.dom["title"] == "AKS network diagnostics"
    assert run.screenshot.startswith(b"\x89PNG\r\n\x1a\n") and len(run.screenshot) > 10000


# The checker itself, against reports broken on purpose: it must catch each mistake.

DIAGNOSTICS = {
    "summary": {"errors": 1, "warnings": 1, "infos": 0, "steps": {"1": "failed", "2": "passed"}},
    "facts": {"namespaces": ["shop"]},
    "steps": [
        {"step": 1, "name": "pods", "status": "failed", "checked": 3},
        {"step": 2, "name": "services", "status": "passed", "checked": 2},
    ],
    "findings": [
        {"code": "pod.not_running", "severity": "error", "step": 1, "resource": {"kind": "Pod", "namespace": "shop", "name": "api-0"},
         "message": "Pod api-0 is Pending", "remediation": "look at its events", "evidence": {"phase": "Pending"}},
        {"code": "service.no_endpoints", "severity": "warning", "step": 2, "resource": {"kind": "Service", "namespace": "shop", "name": "api"},
         "message": "Service api has no endpoints", "remediation": "fix its selector"},
    ],
}
REACHABILITY = {"shop": {"nodes": ["frontend", "api"], "edges": [["frontend", "api", True], ["api", "frontend", False]]}}


def _drop_first_finding(page):
    return re.sub(r'<div class="finding .*?(?=<div class="finding |<h[23]>)', "", page, count=1, flags=re.DOTALL)


BROKEN = {
    "console-error": (lambda p: p.replace("</body>", '<script>console.error("injected failure")</script></body>'), "console error: injected failure"),
    "page-error": (lambda p: p.replace("</body>", "<script>null.boom()</script></body>"), "page error: TypeError"),
    "no-picture": (lambda p: re.sub(r"<svg.*?</svg>", "", p, flags=re.DOTALL), "no policy picture"),
    "empty-picture": (lambda p: re.sub(r"<rect.*?</rect>", "", p, flags=re.DOTALL), "empty or not rendered"),
    "finding-row-missing": (_drop_first_finding, "1 finding rows rendered, report.json has 2 findings"),
    "empty-summary": (lambda p: re.sub(r'(<div class="summary" id="summary">).*?(</div>)', r"\1\2", p, flags=re.DOTALL), "summary missing"),
    "external-asset": (
        lambda p: p.replace("</body>", '<img src="https://example.com/logo.png"></body>'), "request leaving the page: https://example.com/logo.png"
    ),
    "missing-local-asset": (lambda p: p.replace("</head>", '<link rel="stylesheet" href="missing.css"></head>'), "failed load: file://"),
}


def _write_report(directory, page):
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return str(path)


def test_checker_passes_a_sound_report(browser, tmp_path):
    run = browser.open(_write_report(tmp_path, render_html(DIAGNOSTICS, REACHABILITY)), screenshot=str(tmp_path / "sound.png"))
    assert report_problems(run, DIAGNOSTICS) == []
    assert len(run.dom["findings"]) == 2 and run.dom["pictures"][0]["cells"] == 4


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_checker_catches_a_broken_report(browser, tmp_path, name):
    breaker, expected = BROKEN[name]
    sound = render_html(DIAGNOSTICS, REACHABILITY)
    broken = breaker(sound)
    assert broken != sound, f"{name}: the breaker changed nothing, update it to report.py's markup"
    problems = report_problems(browser.open(_write_report(tmp_path, broken)), DIAGNOSTICS)
    assert any(expected in p for p in problems), f"{name}: expected a problem containing {expected!r}, got {problems}"
