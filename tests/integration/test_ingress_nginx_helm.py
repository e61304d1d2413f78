"""The Helm flavour of the ingress_nginx role end to end on the real control plane (AKSNET_LAB_KUBE=real): the real
``helm`` binary (make lab-binaries), kubernetes.core from the ``ansible`` wheel (make setup), and the lab's stand-in
for the community chart (tests/charts/ingress-nginx, same values keys). Check mode, install, upgrade with changed
values, a second run with no change and uninstall, judged on the cluster's objects and on the Helm release.

The emulator cannot run this: helm needs the OpenAPI documents and the watch semantics of a real API server."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from .conftest import ROOT, assert_playbook_ok, run_playbook
from .test_real_control_plane import Api, in_pod_network

pytestmark = pytest.mark.skipif(os.environ.get("AKSNET_LAB_KUBE") != "real",
                                reason="needs the real control plane of the lab (AKSNET_LAB_KUBE=real)")

CHART = os.path.join(ROOT, "tests", "charts", "ingress-nginx")
BIN = os.path.dirname(sys.executable)
HEALTH_PROBE = "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path"
PLAYBOOK = """
- name: ingress_nginx with Helm, one pass
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The role
      ansible.builtin.include_role:
        name: aksnet.networking.ingress_nginx
    - name: Record what it did
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0600"
        content: >-
          {{ {'release': ingress_nginx__release | default(None), 'uninstall': ingress_nginx__uninstall | default(None),
              'values': ingress_nginx_values | default(None), 'result': ingress_nginx_result | default(None)} | to_json }}
      check_mode: false
"""


@functools.lru_cache(maxsize=1)
def helm_dir():
    from tests.lab.real_kube import binaries_dir

    directory = binaries_dir()
    return directory if os.access(os.path.join(directory, "helm"), os.X_OK) else None


def kubernetes_core_present():
    return os.path.isfile(os.path.join(ROOT, ".venv", "collections", "ansible_collections", "kubernetes", "core", "MANIFEST.json"))


class HelmRun:
    """Runs the role through ansible-playbook with the real helm on PATH, and the helm CLI for the assertions."""

    def __init__(self, lab, tmp_path):
        if not helm_dir():
            pytest.skip("the helm binary is not built: make lab-binaries")
        if not kubernetes_core_present():
            pytest.skip("kubernetes.core is not in .venv/collections: make setup (it takes it from the ansible wheel)")
        self.lab, self.tmp = lab, tmp_path
        self.playbook = tmp_path / "ingress_nginx.yml"
        self.playbook.write_text(PLAYBOOK)
        homes = {k: str(tmp_path / "helm" / k.split("_")[1].lower()) for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")}
        self.env = {"PATH": os.pathsep.join([BIN, helm_dir(), os.environ.get("PATH", "")]), **homes}
        self.runs = 0

    def role(self, check=False, **role_vars):
        """One run of the role; returns (seconds, what it recorded)."""
        self.runs += 1
        out = self.tmp / f"run{self.runs}.json"
        extra = self.tmp / f"vars{self.runs}.json"
        extra.write_text(json.dumps({"out": str(out), **role_vars}))
        started = time.monotonic()
        proc = run_playbook(self.lab, str(self.playbook), env=self.env, args=["-e", f"@{extra}"] + (["--check"] if check else []))
        seconds = time.monotonic() - started
        assert_playbook_ok(proc)
        return seconds, json.loads(out.read_text())

    def helm(self, *args):
        env = dict(os.environ, **self.env, KUBECONFIG=self.lab.env["K8S_AUTH_KUBECONFIG"])
        proc = subprocess.run([os.path.join(helm_dir(), "helm"), *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        return proc

    def releases(self, namespace):
        proc = self.helm("list", "--namespace", namespace, "--all", "--output", "json")
        assert proc.returncode == 0, proc.stderr
        return {r["name"]: r for r in json.loads(proc.stdout)}

    def cleanup(self, release, namespace, api):
        self.helm("uninstall", release, "--namespace", namespace, "--wait", "--timeout", "60s")
        api.call("DELETE", f"/api/v1/namespaces/{namespace}")


def get(api, path):
    response = api.call("GET", path)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}"
    return response.json()


def controller_pods(api, namespace, release):
    selector = f"app.kubernetes.io/instance={release},app.kubernetes.io/component=controller"
    return [p for p in api.ok("GET", f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)["items"]
            if not p["metadata"].get("deletionTimestamp")]


def test_helm_install_upgrade_unchanged_and_uninstall(fresh_lab, tmp_path):
    api = Api(fresh_lab)
    run = HelmRun(fresh_lab, tmp_path)
    release, namespace = "ingress-nginx", "ingress-nginx"
    base = {"ingress_nginx_provider": "helm", "ingress_nginx_chart_ref": CHART, "ingress_nginx_chart_repo_url": "",
            "ingress_nginx_wait_timeout": 120}
    deploy_path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{release}-controller"
    svc_path = f"/api/v1/namespaces/{namespace}/services/{release}-controller"
    class_path = "/apis/networking.k8s.io/v1/ingressclasses/nginx"
    timings = {}
    try:
        # check mode: would install, changes nothing
        timings["check"], checked = run.role(check=True, **base)
        assert checked["release"]["changed"] is True
        assert get(api, f"/api/v1/namespaces/{namespace}") is None
        assert get(api, class_path) is None

        # install: 2 replicas, public load balancer, the AKS health probe annotation, class nginx not the default
        timings["install"], installed = run.role(**base, ingress_nginx_replicas=2)
        assert installed["release"]["changed"] is True
        status = installed["result"]["release"]
        assert installed["result"]["changed"] is True and installed["result"]["state"] == "present"
        assert (status["name"], status["namespace"], status["status"], str(status["revision"])) == (release, namespace, "deployed", "1")
        assert status["chart"] == "ingress-nginx-4.12.1-lab.1"
        listed = run.releases(namespace)[release]
        assert (listed["status"], listed["revision"], listed["chart"]) == ("deployed", "1", "ingress-nginx-4.12.1-lab.1")
        values = json.loads(run.helm("get", "values", release, "--namespace", namespace, "--output", "json").stdout)
        assert values == installed["values"]  # the release holds exactly the values the filter computed
        deploy = api.ok("GET", deploy_path)
        assert deploy["spec"]["replicas"] == 2 and deploy["status"].get("readyReplicas") == 2  # helm --wait returned after the rollout
        assert deploy["spec"]["template"]["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
        pods = controller_pods(api, namespace, release)
        assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)  # scheduled and run by kwok
        nodes = {n["metadata"]["name"]: n for n in api.ok("GET", "/api/v1/nodes")["items"]}
        assert all(in_pod_network(p["status"]["podIP"], nodes[p["spec"]["nodeName"]]) for p in pods)
        svc = api.ok("GET", svc_path)
        assert svc["spec"]["type"] == "LoadBalancer"
        assert svc["metadata"]["annotations"][HEALTH_PROBE] == "/healthz"
        assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
        address = svc["status"]["loadBalancer"]["ingress"][0]["ip"]  # the lab's cloud provider; helm --wait waited for it
        assert address
        klass = api.ok("GET", class_path)
        assert klass["spec"]["controller"] == "k8s.io/ingress-nginx"
        assert "ingressclass.kubernetes.io/is-default-class" not in (klass["metadata"].get("annotations") or {})

        # upgrade with changed values: 3 replicas, client IPs kept, the default class
        changed_vars = dict(base, ingress_nginx_replicas=3, ingress_nginx_keep_client_ip=True, ingress_nginx_default_class=True)
        timings["upgrade"], upgraded = run.role(**changed_vars)
        assert upgraded["release"]["changed"] is True
        assert str(upgraded["result"]["release"]["revision"]) == "2" and upgraded["result"]["release"]["status"] == "deployed"
        deploy = api.ok("GET", deploy_path)
        assert deploy["spec"]["replicas"] == 3 and deploy["status"].get("readyReplicas") == 3
        assert len(controller_pods(api, namespace, release)) == 3
        svc = api.ok("GET", svc_path)
        assert svc["spec"]["externalTrafficPolicy"] == "Local"
        assert svc["status"]["loadBalancer"]["ingress"][0]["ip"] == address  # same Service, same frontend
        assert api.ok("GET", class_path)["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"

        # the same values again: nothing to do, no new revision
        timings["unchanged"], again = run.role(**changed_vars)
        assert again["release"]["changed"] is False and again["result"]["changed"] is False
        assert run.releases(namespace)[release]["revision"] == "2"
        # check mode of a changed value says changed and changes nothing
        four = dict(changed_vars)
        four["ingress_nginx_replicas"] = 4
        would = run.role(check=True, **four)[1]
        assert would["release"]["changed"] is True
        assert api.ok("GET", deploy_path)["spec"]["replicas"] == 3 and run.releases(namespace)[release]["revision"] == "2"

        # uninstall: the release and its objects are gone when the role returns (helm uninstall --wait)
        timings["uninstall"], removed = run.role(**base, ingress_nginx_state="absent")
        assert removed["uninstall"]["changed"] is True
        assert removed["result"] == {"provider": "helm", "state": "absent", "changed": True, "release": {}}
        assert removed["values"] is None  # not computed for absent
        assert release not in run.releases(namespace)
        assert get(api, deploy_path) is None
        assert get(api, svc_path) is None
        assert get(api, class_path) is None
        timings["uninstall_again"], nothing = run.role(**base, ingress_nginx_state="absent")
        assert nothing["uninstall"]["changed"] is False
    finally:
        run.cleanup(release, namespace, api)
        print("ingress_nginx helm timings (s):", {k: round(v, 1) for k, v in timings.items()})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log on stderr
        pass


def test_helm_chart_from_a_repository_url_with_the_default_chart_ref(fresh_lab, tmp_path):
    """ingress_nginx_chart_ref's default is the chart's name in ingress_nginx_chart_repo_url (helm --repo URL NAME): the
    community chart's layout, served here from a local chart repository made with helm package and helm repo index."""
    api = Api(fresh_lab)
    run = HelmRun(fresh_lab, tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    packaged = run.helm("package", CHART, "--destination", str(repo))
    assert packaged.returncode == 0, packaged.stderr
    indexed = run.helm("repo", "index", str(repo))
    assert indexed.returncode == 0, indexed.stderr
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(repo)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    release, namespace = "edge", "edge-ingress"
    try:
        installed = run.role(ingress_nginx_provider="helm", ingress_nginx_chart_repo_url=f"http://127.0.0.1:{server.server_address[1]}",
                             ingress_nginx_chart_version="4.12.1-lab.1", ingress_nginx_release=release,
                             ingress_nginx_namespace=namespace, ingress_nginx_ingress_class="edge", ingress_nginx_replicas=1,
                             ingress_nginx_wait_timeout=120)[1]
        assert installed["release"]["changed"] is True
        assert installed["result"]["release"]["chart"] == "ingress-nginx-4.12.1-lab.1"
        deploy = api.ok("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/edge-ingress-nginx-controller")
        assert deploy["status"].get("readyReplicas") == 1
        assert api.ok("GET", "/apis/networking.k8s.io/v1/ingressclasses/edge")["spec"]["controller"] == "k8s.io/ingress-nginx-edge"
    finally:
        run.cleanup(release, namespace, api)
        server.shutdown()
        shutil.rmtree(repo, ignore_errors=True)
