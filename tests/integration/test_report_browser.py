"""The demo's HTML report in a real browser: headless Chromium without network, driven over the
DevTools protocol (``--remote-debugging-pipe``: no port, no websocket dependency).

The report must render the run's header, its summary, the causes to fix first (one per entry of
report.json's ``causes``, with their consequences), the checks each step ran (and those that held),
one row per finding of report.json and the reachability pictures (inline SVG) - no cell of which
may contradict a finding - with no console error, no uncaught exception, no failed resource load
and no request leaving file:// (the page is self-contained). A full-page screenshot is kept as
tests/output/report-browser.png, and the top of the page as docs/report.png for the README when
AKSNET_UPDATE_SCREENSHOT=1. Without a startable Chromium (Debian package ``chromium``, or
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
README_SCREENSHOT = os.path.join(ROOT, "docs", "report.png")  # the README's picture (AKSNET_UPDATE_SCREENSHOT=1 rewrites it)
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
    def open(self, path, screenshot=None, top_shot=None):
        """Load ``path`` in a new tab; return what happened (see PageRun) and optionally save a full-page PNG
        (``screenshot``) and a small one of the top of the page (``top_shot``: ``(path, height, scale)``)."""
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
            if top_shot:
                target_path, height, scale = top_shot
                clip = {"x": 0, "y": 0, "width": 1280, "height": height, "scale": scale}
                data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}, session)["data"]
                os.makedirs(os.path.dirname(target_path), exist_ok=True)
                with open(target_path, "wb") as handle:
                    handle.write(base64.b64decode(data))
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
    header: [...document.querySelectorAll('table#run tr')].map((tr) => [
      (tr.querySelector('th') || {innerText: ''}).innerText.trim(), (tr.querySelector('td') || {innerText: ''}).innerText.trim()]),
    headerBox: document.getElementById('run') ? box(document.getElementById('run')) : null,
    causes: [...document.querySelectorAll('#causes li.cause')].map((li) => ({
      finding: Number(li.dataset.finding),
      code: (li.querySelector('code') || {textContent: ''}).textContent.trim(),
      consequences: [...li.querySelectorAll('li.consequence')].map((c) => Number(c.dataset.finding)),
      linked: !!document.getElementById('finding-' + li.dataset.finding),
      ...box(li),
    })),
    checks: [...document.querySelectorAll('#checks table.checks')].map((table) => ({
      step: Number(table.dataset.step),
      rows: [...table.querySelectorAll('tr.check')].map((tr) => ({
        status: tr.dataset.status, code: (tr.querySelector('code') || {textContent: ''}).textContent.trim(), text: tr.innerText.trim()})),
      ...box(table),
    })),
    cells: [...document.querySelectorAll('svg.policy-picture rect[data-verdict]')].map((r) => {
      const link = r.closest('a');
      const href = link ? link.getAttribute('href') : null;
      const target = href ? document.getElementById(href.slice(1)) : null;
      return {src: r.dataset.src, dst: r.dataset.dst, verdict: r.dataset.verdict, glyph: r.nextElementSibling ? r.nextElementSibling.textContent : '',
              link: href, linkTarget: target ? target.innerText : null};
    }),
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
    problems += header_problems(dom)
    problems += cause_problems(dom, report)
    problems += check_problems(dom, report)
    problems += cell_problems(dom, report)
    return problems


HEADER_LABELS = ("Cluster", "Resource group", "Subscription", "Kubernetes version", "Network profile", "Mode", "Source",
                 "Snapshot redacted", "Time taken", "Collection version")


def header_problems(dom):
    rows = dict(dom.get("header") or [])
    box = dom.get("headerBox") or {}
    problems = [f"header row {label!r} missing" for label in HEADER_LABELS if not rows.get(label)]
    if not (box.get("width") and box.get("height")):
        problems.append("header not rendered")
    return problems


def cause_problems(dom, report):
    """Every cause of report.json (but lone infos) drawn once, with its consequences, linking to its finding's row."""
    drawn = dom.get("causes") or []
    expected = [c for c in report.get("causes") or [] if c.get("severity") != "info" or c.get("consequences")]
    problems = []
    if [(c["finding"], sorted(c["consequences"])) for c in drawn] != [(c["finding"], sorted(x["finding"] for x in c["consequences"])) for c in expected]:
        problems.append(f"causes drawn {[(c['code'], c['consequences']) for c in drawn]} differ from report.json's causes")
    problems += [f"cause {c['code']} does not link to its finding" for c in drawn if not c["linked"]]
    problems += [f"cause {c['code']} not rendered" for c in drawn if not (c["width"] and c["height"])]
    return problems


def check_problems(dom, report):
    """Each step that ran lists its checks as in report.json; a step whose checks all held still shows them."""
    drawn = {t["step"]: t for t in dom.get("checks") or []}
    problems = []
    for step in report.get("steps") or []:
        checks = step.get("checks") or []
        table = drawn.get(step["step"])
        if not checks:
            if table:
                problems.append(f"step {step['step']} did not run but shows checks")
            continue
        if table is None or not (table["width"] and table["height"]):
            problems.append(f"step {step['step']}: checks not rendered")
            continue
        if [(r["code"], r["status"]) for r in table["rows"]] != [(c["code"], c["status"]) for c in checks]:
            problems.append(f"step {step['step']}: checks drawn {[(r['code'], r['status']) for r in table['rows']]} differ from report.json")
    return problems


def _column_of(evidence, resource):
    svc = evidence.get("service") or f"{resource.get('namespace')}/{resource.get('name')}"
    if "/" not in svc:
        svc = f"{resource.get('namespace')}/{svc}"
    return f"{svc}:{evidence.get('port')}/{(evidence.get('protocol') or 'TCP').upper()}"


def contradictions(cells, findings):
    """Cells of the pictures that say the opposite of a finding: traffic drawn as allowed to a Service port that a
    finding says no client may reach (blocked by policies, no backend pod, a targetPort no pod exposes)."""
    out = []
    for f in findings:
        code, ev, res = f.get("code"), f.get("evidence") or {}, f.get("resource") or {}
        if code in ("netpol.blocks_service_traffic", "service.target_port_mismatch"):
            column = _column_of(ev, res)
            bad = [c for c in cells if c["dst"] == column and c["verdict"] == "allowed"]
        elif code in ("service.selector_mismatch", "service.no_endpoints"):
            prefix = f"{res.get('namespace')}/{res.get('name')}:"
            bad = [c for c in cells if c["dst"].startswith(prefix) and c["verdict"] == "allowed"]
        else:
            continue
        out += [f"{c['src']} -> {c['dst']} drawn {c['verdict']}, but {code} on {res.get('kind')} {res.get('namespace')}/{res.get('name')}" for c in bad]
    return out


def cell_problems(dom, report):
    cells = dom.get("cells") or []
    problems = contradictions(cells, report.get("findings") or [])
    glyphs = {"allowed": "\u2713", "denied": "\u2717", "no_backend": "\u2205", "not_exposed": "!"}
    for c in cells:
        if glyphs.get(c["verdict"]) and c["glyph"] != glyphs[c["verdict"]]:
            problems.append(f"cell {c['src']} -> {c['dst']} ({c['verdict']}) shows {c['glyph']!r}: colour alone")
        if c["verdict"] == "denied" and not c["linkTarget"]:
            problems.append(f"denied cell {c['src']} -> {c['dst']} does not link to the policies deciding it ({c['link']})")
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
    top = os.environ.get("AKSNET_UPDATE_SCREENSHOT") == "1"
    run = browser.open(str(html_path), screenshot=shots, top_shot=(README_SCREENSHOT if top else str(tmp_path / "top.png"), 1500, 0.6))
    print(f"demo {demo_took:.1f}s, browser {time.monotonic() - started:.1f}s; screenshot: {SCREENSHOT} (and {shots[0]})")

    problems = report_problems(run, report)
    assert not problems, "the report does not render cleanly in Chromium:\n- " + "\n- ".join(problems)
    assert run.dom["title"] == "AKS network diagnostics"
    assert run.screenshot.startswith(b"\x89PNG\r\n\x1a\n") and len(run.screenshot) > 10000

    # the header identifies the run
    header = dict(run.dom["header"])
    assert header["Cluster"] == "lab-aks" and header["Resource group"] == "lab-rg" and header["Mode"] == "live"
    assert header["Network profile"] == "plugin azure (overlay), dataplane cilium, policy cilium"
    assert header["Collection version"].startswith("aksnet.networking ") and header["Time taken"].endswith(" s")
    assert header["Kubernetes version"] != "unknown" and header["Subscription"] != "unknown"
    # root causes first: the demo's faults with what follows from them
    findings = report["findings"]
    tree = {(findings[c["finding"]]["code"], findings[c["finding"]]["resource"]["name"]):
            {(findings[i]["code"], findings[i]["resource"]["name"]) for i in c["consequences"]} for c in run.dom["causes"]}
    assert tree[("service.selector_mismatch", "web")] == {("ingress.backend_no_endpoints", "storefront")}
    assert tree[("azure.static_ip_wrong_resource_group", "web-legacy")] == {("service.lb_pending", "web-legacy")}
    assert tree[("service.target_port_mismatch", "api")] == {("netpol.blocks_service_traffic", "api")}
    # a step that passed proves something: its checks are listed, and held
    pods = {r["code"]: r["status"] for t in run.dom["checks"] if t["step"] == 1 for r in t["rows"]}
    assert pods["pod.not_running"] == pods["pod.not_ready"] == "passed" and pods["pod.not_listening"] == "not_run"
    # the picture shows the Service port as its clients reach it: web -> api on 8081 is denied, as the finding says
    cells = {(c["src"], c["dst"]): c for c in run.dom["cells"]}
    web_api = cells[("shop/web", "shop/api:80/TCP")]
    assert web_api["verdict"] == "denied" and "shop/api-from-web" in web_api["linkTarget"]
    assert ("app-routing-system/nginx", "shop/shop-public:80/TCP") in cells  # the ingress controller is a client


# The checker itself, against reports broken on purpose: it must catch each mistake.

DIAGNOSTICS = {
    "summary": {"errors": 2, "warnings": 1, "infos": 0, "steps": {"1": "failed", "2": "failed"}},
    "facts": {"namespaces": ["shop"], "source": "live", "server": "https://aks.example:443", "kubelet_versions": ["v1.32.7"],
              "cluster_facts": {"name": "aks", "resource_group": "rg", "id": "/subscriptions/s-1/resourceGroups/rg", "plugin": "azure",
                                "dataplane": "cilium", "policy": "cilium"},
              "run": {"collection_version": "0.1.0", "duration_seconds": 1.0}},
    "steps": [
        {"step": 1, "name": "pods", "status": "failed", "checked": 3,
         "checks": [{"code": "pod.not_running", "check": "every pod is Running", "status": "failed", "findings": 1},
                    {"code": "pod.not_ready", "check": "every running pod is Ready", "status": "passed", "findings": 0}]},
        {"step": 2, "name": "services", "status": "failed", "checked": 2,
         "checks": [{"code": "service.no_endpoints", "check": "every Service has endpoints", "status": "warning", "findings": 1},
                    {"code": "service.selector_mismatch", "check": "every Service selector matches a running pod", "status": "passed", "findings": 0}]},
    ],
    "findings": [
        {"code": "pod.not_running", "severity": "error", "step": 1, "resource": {"kind": "Pod", "namespace": "shop", "name": "api-0"},
         "message": "Pod api-0 is Pending", "remediation": "look at its events", "evidence": {"phase": "Pending"}},
        {"code": "netpol.blocks_service_traffic", "severity": "error", "step": 4, "resource": {"kind": "Service", "namespace": "shop", "name": "api"},
         "message": "no pod may reach shop/api", "remediation": "add a rule", "evidence": {"service": "shop/api", "port": 80, "protocol": "TCP"}},
        {"code": "service.no_endpoints", "severity": "warning", "step": 2, "resource": {"kind": "Service", "namespace": "shop", "name": "api"},
         "message": "Service api has no endpoints", "remediation": "fix its selector"},
    ],
    "causes": [
        {"finding": 0, "code": "pod.not_running", "severity": "error", "resource": {"kind": "Pod", "namespace": "shop", "name": "api-0"},
         "consequences": [{"finding": 2, "code": "service.no_endpoints", "severity": "warning", "because": "both concern Pod shop/api-0",
                           "resource": {"kind": "Service", "namespace": "shop", "name": "api"}}]},
        {"finding": 1, "code": "netpol.blocks_service_traffic", "severity": "error", "resource": {"kind": "Service", "namespace": "shop", "name": "api"},
         "consequences": []},
    ],
}
REACHABILITY = {"shop": {
    "clients": [{"id": "shop/frontend", "label": "frontend", "role": "namespace"}, {"id": "shop/api", "label": "api", "role": "namespace"}],
    "services": [{"id": "shop/api:80/TCP", "label": "api:80"}, {"id": "shop/frontend:80/TCP", "label": "frontend:80"}],
    "cells": [{"src": "shop/frontend", "dst": "shop/api:80/TCP", "verdict": "denied", "policies": ["shop/api-in"], "reason": "isolated"},
              {"src": "shop/api", "dst": "shop/api:80/TCP", "verdict": "denied", "policies": ["shop/api-in"], "reason": "isolated"},
              {"src": "shop/api", "dst": "shop/frontend:80/TCP", "verdict": "allowed", "policies": []}],
}}


def _drop_first_finding(page):
    return re.sub(r'<div class="finding .*?(?=<div class="finding |<h[23]>)', "", page, count=1, flags=re.DOTALL)


BROKEN = {
    "console-error": (lambda p: p.replace("</body>", '<script>console.error("injected failure")</script></body>'), "console error: injected failure"),
    "page-error": (lambda p: p.replace("</body>", "<script>null.boom()</script></body>"), "page error: TypeError"),
    "no-picture": (lambda p: re.sub(r"<svg.*?</svg>", "", p, flags=re.DOTALL), "no policy picture"),
    "empty-picture": (lambda p: re.sub(r"<rect.*?</rect>", "", p, flags=re.DOTALL), "empty or not rendered"),
    "finding-row-missing": (_drop_first_finding, "2 finding rows rendered, report.json has 3 findings"),
    "empty-summary": (lambda p: re.sub(r'(<div class="summary" id="summary">).*?(</div>)', r"\1\2", p, flags=re.DOTALL), "summary missing"),
    "external-asset": (
        lambda p: p.replace("</body>", '<img src="https://example.com/logo.png"></body>'), "request leaving the page: https://example.com/logo.png"
    ),
    "missing-local-asset": (lambda p: p.replace("</head>", '<link rel="stylesheet" href="missing.css"></head>'), "failed load: file://"),
    "no-header": (lambda p: re.sub(r'<table class="run" id="run">.*?</table>', "", p, flags=re.DOTALL), "header row 'Cluster' missing"),
    "cause-missing": (lambda p: re.sub(r'<li class="cause error" data-finding="1">.*?</li>', "", p, count=1, flags=re.DOTALL),
                      "differ from report.json's causes"),
    "consequence-missing": (lambda p: re.sub(r'<ul class="consequences">.*?</ul>', "", p, count=1, flags=re.DOTALL),
                            "differ from report.json's causes"),
    "checks-missing": (lambda p: re.sub(r'<table class="checks" data-step="1">.*?</table>', "", p, count=1, flags=re.DOTALL),
                       "step 1: checks not rendered"),
    "check-held-dropped": (lambda p: p.replace('<tr class="check" data-status="passed">', '<tr data-status="passed">', 1),
                           "step 1: checks drawn"),
    "contradicting-cell": (lambda p: p.replace('data-dst="shop/api:80/TCP" data-verdict="denied"', 'data-dst="shop/api:80/TCP" data-verdict="allowed"', 1),
                           "shop/frontend -> shop/api:80/TCP drawn allowed, but netpol.blocks_service_traffic"),
    "colour-only": (lambda p: p.replace(">\u2717</text>", "></text>", 1), "colour alone"),
    "denied-cell-unlinked": (lambda p: re.sub(r'<li id="deny-shop-1"', '<li id="elsewhere"', p), "does not link to the policies"),
}


def _write_report(directory, page):
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return str(path)


def test_checker_passes_a_sound_report(browser, tmp_path):
    run = browser.open(_write_report(tmp_path, render_html(DIAGNOSTICS, REACHABILITY)), screenshot=str(tmp_path / "sound.png"))
    assert report_problems(run, DIAGNOSTICS) == []
    assert len(run.dom["findings"]) == 3 and run.dom["pictures"][0]["cells"] == 4
    assert len(run.dom["causes"]) == 2 and [len(t["rows"]) for t in run.dom["checks"]] == [2, 2]
    assert {c["verdict"] for c in run.dom["cells"]} == {"allowed", "denied", "not_evaluated"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_checker_catches_a_broken_report(browser, tmp_path, name):
    breaker, expected = BROKEN[name]
    sound = render_html(DIAGNOSTICS, REACHABILITY)
    broken = breaker(sound)
    assert broken != sound, f"{name}: the breaker changed nothing, update it to report.py's markup"
    problems = report_problems(browser.open(_write_report(tmp_path, broken)), DIAGNOSTICS)
    assert any(expected in p for p in problems), f"{name}: expected a problem containing {expected!r}, got {problems}"
