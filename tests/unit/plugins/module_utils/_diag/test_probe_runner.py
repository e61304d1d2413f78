"""The probe run against the lab emulator: the checks, and the debug pod deleted on every path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.aksnet.networking.plugins.module_utils._diag import probe_plan as plan
from ansible_collections.aksnet.networking.plugins.module_utils._diag.probe_runner import ProbeError, ProbeRefused, run_probe_session
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient
from ansible_collections.aksnet.networking.plugins.module_utils._kube.podexec import PodExec
from tests.lab.kube_exec import NEVER_READY_IMAGE

TOKEN = "probe-runner-token"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 5))
SHOP = [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
     "spec": {"nodeName": "aks-system-41253874-vmss000001",
              "containers": [{"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080}]}]},
     "status": {"phase": "Running", "podIP": "10.244.1.10", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "web", "ready": True, "state": {"running": {}}}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"clusterIP": "10.0.12.7", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
    {"apiVersion": "lab.aksnet.io/v1", "kind": "LabDataPlane", "metadata": {"name": "shop"},
     "spec": {"dns": {"mcr.microsoft.com": "20.1.2.3"}, "tcp": {"10.244.1.10:8080": {"http_status": 200}}}},
]


@pytest.fixture(scope="module")
def server(fast_kube_emulator):
    return fast_kube_emulator


@pytest.fixture()
def emu(server):
    server.reset()
    server.load_objects(SHOP)
    return server


@pytest.fixture()
def client(emu):
    return KubeClient({"host": emu.url, "api_key": TOKEN, "ca_cert": emu.certs["ca"]})


def debug_pods(emu):
    return [p["metadata"]["name"] for p in emu.objects("pods") if (p["metadata"].get("labels") or {}).get(plan.MANAGED_BY_LABEL) == plan.MANAGED_BY]


def test_checks_run_and_the_pod_is_gone(emu, client):
    opts = {"services": [{"namespace": "shop", "name": "web"}], "external_name": "mcr.microsoft.com"}
    session = run_probe_session(client, PodExec(client.configuration), opts)
    by_check = {(r["check"], r["target"]): r for r in session["results"]}
    assert by_check[("dns", "web.shop.svc.cluster.local")]["ok"] is True
    assert by_check[("service", "10.0.12.7")]["ok"] is True and by_check[("service", "10.0.12.7")]["command"].startswith("curl ")
    assert by_check[("pod", "10.244.1.10")]["name"] == "web-1" and by_check[("pod", "10.244.1.10")]["port"] == 8080
    assert session["findings"] == [] and session["summary"]["failed"] == 0
    assert debug_pods(emu) == [] and session["deleted"] == [f"default/{session['debug_pod']['name']}"]
    pod_create = next(r for r in emu.requests if r["method"] == "POST" and r["path"] == "/api/v1/namespaces/default/pods")["body"]
    security = pod_create["spec"]["containers"][0]["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]} and security["allowPrivilegeEscalation"] is False and security["runAsNonRoot"] is True
    assert not pod_create["spec"]["hostNetwork"]


def test_timeout_waiting_for_the_pod_deletes_it(emu, client):
    with pytest.raises(ProbeError) as info:
        run_probe_session(client, PodExec(client.configuration), {"image": NEVER_READY_IMAGE, "wait_timeout": 1, "dns": ["x"]})
    assert "wait_timeout=1" in str(info.value) and "ImagePullBackOff" in str(info.value)
    assert debug_pods(emu) == [] and info.value.session["deleted"]


def test_missing_service_fails_before_anything_is_created(emu, client):
    with pytest.raises(ProbeError, match="shop/nope not found"):
        run_probe_session(client, PodExec(client.configuration), {"services": [{"namespace": "shop", "name": "nope"}]})
    assert not [r for r in emu.requests if r["method"] == "POST"]


def test_keyboard_interrupt_mid_run_deletes_the_pod(emu, client):
    class Interrupting(PodExec):
        def run(self, *args, **kwargs):
            raise KeyboardInterrupt()

    with pytest.raises(KeyboardInterrupt):
        run_probe_session(client, Interrupting(client.configuration), {"dns": ["web.shop.svc.cluster.local"]})
    assert debug_pods(emu) == []


def test_stale_pods_of_earlier_runs_are_deleted_recent_ones_kept(emu, client):
    def stale(name, created):
        labels = {plan.MANAGED_BY_LABEL: plan.MANAGED_BY, plan.RUN_LABEL: name}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "creationTimestamp": created, "labels": labels},
                "spec": {"nodeName": "aks-system-41253874-vmss000000", "containers": [{"name": "probe", "image": "nicolaka/netshoot"}]},
                "status": {"phase": "Running"}}

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    emu.load_objects([stale("old-run", "2024-01-01T00:00:00Z"), stale("other-run", now)])
    session = run_probe_session(client, PodExec(client.configuration), {"dns": ["web.shop.svc.cluster.local"]})
    assert session["stale_deleted"] == ["default/old-run"]
    assert debug_pods(emu) == ["other-run"]
    lists = [r for r in emu.requests if r["method"] == "GET" and r["path"] == "/api/v1/pods"]
    assert len(lists) == 1 and lists[0]["query"]["labelSelector"] == plan.selector()


def test_sigterm_while_waiting_deletes_the_pod(emu):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeClient
        from ansible_collections.aksnet.networking.plugins.module_utils._kube.podexec import PodExec
        from ansible_collections.aksnet.networking.plugins.module_utils._diag.probe_runner import ProbeInterrupted, run_probe_session
        client = KubeClient({{"host": {emu.url!r}, "api_key": {TOKEN!r}, "ca_cert": {emu.certs['ca']!r}}})
        try:
            run_probe_session(client, PodExec(client.configuration), {{"image": {NEVER_READY_IMAGE!r}, "wait_timeout": 60, "dns": ["x"]}})
        except ProbeInterrupted as exc:
            print("interrupted", exc.session["deleted"])
            sys.exit(3)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not debug_pods(emu):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 3, out + err
    assert "interrupted" in out and debug_pods(emu) == []


# ------------------------------------------------------------------ refusals (RBAC, quota, admission)


def test_a_view_only_identity_gets_a_refusal_with_the_fix_and_nothing_to_clean(emu, client):
    emu.forbid("create", "pods")
    with pytest.raises(ProbeRefused) as info:
        run_probe_session(client, PodExec(client.configuration), {"services": [{"namespace": "shop", "name": "web"}]})
    assert "may not create pods in namespace default" in str(info.value) and "create on pods and pods/exec" in str(info.value)
    assert info.value.session["deleted"] == [] and not [r for r in emu.requests if r["method"] == "DELETE"]


@pytest.mark.parametrize(("status", "message", "needle"), [
    (403, 'pods "x" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=10, limited: pods=10', "ResourceQuota"),
    (403, 'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged', "Pod Security"),
    (400, 'admission webhook "validate.kyverno.svc" denied the request: image not allowed', "admission refused"),
])
def test_quota_and_admission_refusals_say_which(emu, client, status, message, needle):
    emu.faults.add({"match": {"method": "POST", "resource": "pods", "name": "aksnet-probe-*"}, "status": status, "message": message})
    with pytest.raises(ProbeRefused) as info:
        run_probe_session(client, PodExec(client.configuration), {"dns": ["web.shop.svc.cluster.local"]})
    assert needle in str(info.value)


def test_a_refused_node_debug_pod_keeps_the_probe_results(emu, client):
    emu.faults.add({"match": {"method": "POST", "resource": "pods", "name": "aksnet-node-*"}, "status": 403,
                    "message": 'pods "aksnet-node-x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'})
    session = run_probe_session(client, PodExec(client.configuration), {"services": [{"namespace": "shop", "name": "web"}], "node_debug": True})
    assert session["summary"]["passed"] >= 2 and session["kube_proxy"] == []
    assert "admission refused" in session["node_debug_skipped"]
    assert debug_pods(emu) == []
