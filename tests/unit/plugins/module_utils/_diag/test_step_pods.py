# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Step 1 (pods): each code fires on its case and stays quiet on the near miss."""

from __future__ import annotations

from diag_fixtures import codes, event, findings_of, healthy_system, pod


def test_healthy_pods_have_no_findings():
    objs = [*healthy_system(), pod("web-0", labels={"app": "web"})]
    assert codes(objs, 1) == []


def test_not_running_names_the_waiting_reason():
    statuses = [{"name": "app", "ready": False, "restartCount": 0,
                 "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"app:typo\""}}}]
    objs = [pod("web-0", phase="Pending", statuses=statuses)]
    [f] = findings_of(objs, 1, "pod.not_running")
    assert f["severity"] == "error"
    assert "ImagePullBackOff" in f["message"] and "app:typo" in f["message"]
    assert f["evidence"]["reason"] == "ImagePullBackOff"
    assert "registry" in f["remediation"]


def test_not_running_unschedulable_and_failed_job_pod_is_a_warning():
    unsched = pod("big-0", phase="Pending", statuses=[], conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient cpu."}])
    job_pod = pod("migrate-x", phase="Failed", owner=("Job", "migrate"), statuses=[
        {"name": "app", "ready": False, "restartCount": 0, "state": {"terminated": {"reason": "Error", "exitCode": 2}}}])
    found = {f["resource"]["name"]: f for f in findings_of([unsched, job_pod], 1, "pod.not_running")}
    assert "Insufficient cpu" in found["big-0"]["message"]
    assert found["migrate-x"]["severity"] == "warning" and "exit code 2" in found["migrate-x"]["message"]


def test_succeeded_and_terminating_pods_are_not_reported():
    done = pod("job-1", phase="Succeeded", ready=False, owner=("Job", "j"))
    leaving = pod("old-1", phase="Pending")
    leaving["metadata"]["deletionTimestamp"] = "2024-05-01T10:00:00Z"
    assert codes([done, leaving], 1) == []


def test_not_ready_carries_the_readiness_probe_event():
    p = pod("web-0", ready=False, readiness_probe={"httpGet": {"path": "/healthz", "port": 8080}})
    ev = event("Pod", "default", "web-0", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=12)
    liveness = event("Pod", "default", "web-0", "Unhealthy", "Liveness probe failed: timeout", ts="2024-05-01T11:00:00Z")
    [f] = findings_of([p, ev, liveness], 1, "pod.not_ready")
    assert "statuscode: 503" in f["message"]
    assert f["evidence"]["readiness_event"]["count"] == 12
    assert f["evidence"]["readiness_probes"]["app"] == {"type": "httpGet", "path": "/healthz", "port": 8080}


def test_not_ready_without_event_still_reported_and_ready_pod_not():
    assert [c for c, _s, _n in codes([pod("web-0", ready=False)], 1)] == ["pod.not_ready"]
    assert codes([pod("web-0", ready=True)], 1) == []


def test_crash_looping_error_and_restart_warning():
    crashing = pod("api-0", ready=False, statuses=[{
        "name": "app", "ready": False, "restartCount": 7,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}])
    [f] = findings_of([crashing], 1, "pod.crash_looping")
    assert f["severity"] == "error"
    assert "7 restarts" in f["message"] and "OOMKilled" in f["message"]
    assert "--previous" in f["remediation"]

    flapping = pod("api-1", statuses=[{"name": "app", "ready": True, "restartCount": 9, "state": {"running": {}},
                                       "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}])
    [w] = findings_of([flapping], 1, "pod.crash_looping")
    assert w["severity"] == "warning"


def test_few_restarts_are_not_crash_looping():
    p = pod("api-0", statuses=[{"name": "app", "ready": True, "restartCount": 2, "state": {"running": {}},
                                "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}])
    assert codes([p], 1) == []


def test_sandbox_failed_ip_exhaustion_and_cni_error():
    p1 = pod("web-0", phase="Pending")
    e1 = event("Pod", "default", "web-0", "FailedCreatePodSandBox",
               'Failed to create pod sandbox: plugin type="azure-vnet" failed (add): Failed to allocate address: '
               "no IPs available in subnet", count=40)
    p2 = pod("web-1", phase="Pending")
    e2 = event("Pod", "default", "web-1", "FailedCreatePodSandBox",
               "Failed to create pod sandbox: rpc error: networkPlugin cni failed to set up pod network: cilium agent unreachable")
    found = {f["resource"]["name"]: f for f in findings_of([p1, e1, p2, e2], 1, "pod.sandbox_failed")}
    assert found["web-0"]["evidence"]["cause"] == "ip_exhaustion"
    assert "subnet" in found["web-0"]["remediation"] and "x40" in found["web-0"]["message"]
    assert found["web-1"]["evidence"]["cause"] == "cni_error"
    # the more specific finding replaces pod.not_running for the same pod
    assert not findings_of([p1, e1], 1, "pod.not_running")


def test_old_sandbox_event_on_running_pod_is_ignored():
    p = pod("web-0")
    e = event("Pod", "default", "web-0", "FailedCreatePodSandBox", "OutOfIPs: subnet full")
    assert codes([p, e], 1) == []


def test_not_listening_only_from_probe_results():
    p = pod("web-0")
    probes = [{"check": "listening", "namespace": "default", "name": "web-0", "port": 8080, "ok": False, "detail": "only 127.0.0.1:8080"},
              {"check": "listening", "namespace": "default", "name": "web-0", "port": 9090, "ok": True}]
    [f] = findings_of([p], 1, "pod.not_listening", probe_results=probes)
    assert "8080/TCP" in f["message"] and "127.0.0.1" in f["message"]
    assert codes([p], 1) == []


def test_namespace_filter_limits_pod_findings():
    objs = [pod("a", "team-a", phase="Pending"), pod("b", "team-b", phase="Pending")]
    assert [n for _c, _s, n in codes(objs, 1, namespaces=["team-b"])] == ["team-b/b"]
