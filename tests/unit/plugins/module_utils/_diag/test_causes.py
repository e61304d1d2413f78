# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root causes: findings that follow from one fault are shown under it, ordered fix-first."""

from __future__ import annotations

from diag_fixtures import endpoint_slice, ingress, ingress_class, namespace, pod, service

from ansible_collections.aksnet.networking.plugins.module_utils._diag.causes import CHAINS, TIER, link_causes
from ansible_collections.aksnet.networking.plugins.module_utils._diag.correlate import merge_findings
from ansible_collections.aksnet.networking.plugins.module_utils._diag.engine import run_diagnostics
from ansible_collections.aksnet.networking.plugins.module_utils._diag.findings import finding


def f(code, severity, step, kind, ns, name, evidence=None):
    return finding(code, severity, step, kind, ns, name, f"{code} on {kind} {ns}/{name}", "fix it", evidence)


# The demo's seven errors (scripts/demo.sh, demo/faults.yml), with the evidence the analyzers give.
DEMO = [
    f("service.selector_mismatch", "error", 2, "Service", "shop", "web", {"selector": {"app": "wbe"}}),
    f("service.lb_pending", "error", 2, "Service", "shop", "web-legacy", {"load_balancer_ip": None}),
    f("netpol.egress_blocks_dns", "error", 4, "Namespace", None, "billing",
      {"namespace": "billing", "pods": ["billing/invoices-1"], "policies": ["billing/egress-to-shop-only"]}),
    f("netpol.blocks_service_traffic", "error", 4, "Service", "shop", "api",
      {"service": "shop/api", "backend": "shop/api-1", "target_port": 8081,
       "policies": ["shop/allow-scrapes", "shop/api-from-web", "shop/default-deny-ingress"]}),
    f("ingress.backend_service_missing", "error", 6, "Ingress", "shop", "admin", {"service": "admin-ui", "port": 80}),
    f("ingress.backend_no_endpoints", "error", 6, "Ingress", "shop", "storefront", {"service": "web", "port": 80}),
    f("azure.static_ip_wrong_resource_group", "error", 8, "Service", "shop", "web-legacy", {"public_ip": "web-legacy-ip"}),
    f("service.target_port_mismatch", "warning", 2, "Service", "shop", "api", {"target_port": 8081, "pods_lacking": ["api-1"]}),
    f("netpol.isolated_without_allow", "warning", 4, "Namespace", None, "billing",
      {"namespace": "billing", "pods": ["billing/invoices-1"], "policies": ["billing/default-deny-ingress"]}),
    f("netpol.namespace_selector_no_match", "warning", 4, "NetworkPolicy", "shop", "allow-scrapes", {"policy": "shop/allow-scrapes"}),
    f("netpol.default_deny", "info", 4, "NetworkPolicy", "billing", "default-deny-ingress", {"policy": "billing/default-deny-ingress"}),
    f("netpol.default_deny", "info", 4, "NetworkPolicy", "shop", "default-deny-ingress", {"policy": "shop/default-deny-ingress"}),
]


def _tree(causes, findings):
    return [(findings[c["finding"]]["code"], findings[c["finding"]]["resource"]["name"],
             [(findings[x["finding"]]["code"], findings[x["finding"]]["resource"]["name"]) for x in c["consequences"]]) for c in causes]


def test_the_demo_faults_group_into_their_causes_fix_first():
    causes = link_causes(DEMO)
    tree = _tree(causes, DEMO)
    # the selector typo explains the Ingress backend without endpoints; the static IP the pending LoadBalancer;
    # the targetPort no pod exposes the Service traffic the policies block
    assert tree[:3] == [
        ("service.selector_mismatch", "web", [("ingress.backend_no_endpoints", "storefront")]),
        ("service.target_port_mismatch", "api", [("netpol.blocks_service_traffic", "api")]),
        ("azure.static_ip_wrong_resource_group", "web-legacy", [("service.lb_pending", "web-legacy")]),
    ]
    errors = [c for c in causes if "error" in [c["severity"]] + [x["severity"] for x in c["consequences"]]]
    assert len(errors) == 5  # 7 errors, 5 things to fix (2 of them standalone)
    assert causes[0]["consequences"][0]["because"] == "the backend Service has no ready endpoints because of it"


def test_every_finding_appears_once_and_findings_are_kept():
    causes = link_causes(DEMO)
    seen = [c["finding"] for c in causes] + [x["finding"] for c in causes for x in c["consequences"]]
    assert sorted(seen) == list(range(len(DEMO)))
    for c in causes:
        assert c["code"] == DEMO[c["finding"]]["code"] and c["resource"] == DEMO[c["finding"]]["resource"]


def test_infos_never_cause_and_same_tier_findings_stay_apart():
    # the default deny (info) names the policy the isolation warning names, but an info is context, not a fault;
    # the two billing findings share their namespace but are faults of the same tier
    causes = link_causes(DEMO)
    roots = {(DEMO[c["finding"]]["code"], DEMO[c["finding"]]["resource"]["name"]) for c in causes}
    assert ("netpol.isolated_without_allow", "billing") in roots and ("netpol.egress_blocks_dns", "billing") in roots
    assert ("netpol.default_deny", "default-deny-ingress") in roots


def test_shared_object_links_upstream_fault_to_its_symptom():
    findings = [
        f("service.not_ready_endpoints", "error", 2, "Service", "shop", "api", {"not_ready": ["api-1"], "ready": []}),
        f("pod.crash_looping", "error", 1, "Pod", "shop", "api-1"),
        f("pod.crash_looping", "error", 1, "Pod", "shop", "other"),
    ]
    tree = _tree(link_causes(findings), findings)
    assert ("pod.crash_looping", "api-1", [("service.not_ready_endpoints", "api")]) in tree
    assert ("pod.crash_looping", "other", []) in tree


def test_chains_are_followed_to_the_root_and_flattened():
    findings = [
        f("connectivity.service_unreachable", "error", 3, "Service", "shop", "api", {"check": "service"}),
        f("service.not_ready_endpoints", "error", 2, "Service", "shop", "api", {"not_ready": ["api-1"]}),
        f("pod.crash_looping", "error", 1, "Pod", "shop", "api-1"),
    ]
    [cause] = link_causes(findings)
    assert cause["code"] == "pod.crash_looping"
    assert [x["code"] for x in cause["consequences"]] == ["connectivity.service_unreachable", "service.not_ready_endpoints"]
    assert "(via service.not_ready_endpoints)" in cause["consequences"][0]["because"]


def test_known_chains_point_upstream():
    # a chain from a later tier to an earlier one could make a loop; every declared chain goes downstream
    for consequence, links in CHAINS.items():
        for codes, _how, _why in links:
            for code in codes:
                assert TIER[code] < TIER[consequence], (code, consequence)


def test_run_diagnostics_and_merge_findings_carry_causes():
    objects = [namespace("shop"), pod("web-1", "shop", {"app": "web"}, ports=[("http", 8080, "TCP")]),
               service("web", "shop", {"app": "wbe"}), endpoint_slice("web", "shop"), ingress_class("nginx"),
               pod("ingress-nginx-1", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
               ingress("storefront", "shop", class_name="nginx", backends=(("web", 80),))]
    diag = run_diagnostics(objects, steps=[1, 2, 6])
    codes = {x["code"]: i for i, x in enumerate(diag["findings"])}
    [cause] = [c for c in diag["causes"] if c["code"] == "service.selector_mismatch"]
    assert [x["finding"] for x in cause["consequences"]] == [codes["ingress.backend_no_endpoints"]]
    # findings added later (active probes) are linked too, at their new positions
    merge_findings(diag, [f("connectivity.service_unreachable", "error", 3, "Service", "shop", "web", {"check": "service"})])
    [cause] = [c for c in diag["causes"] if c["code"] == "service.selector_mismatch"]
    linked = {diag["findings"][x["finding"]]["code"] for x in cause["consequences"]}
    assert linked == {"ingress.backend_no_endpoints", "connectivity.service_unreachable"}
