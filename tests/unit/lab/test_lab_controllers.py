"""The lab's coupling of ARM and Kubernetes: the Azure cloud provider's LoadBalancer behaviour and the add-on manager."""

from __future__ import annotations

import pytest

from tests.lab.arm import ArmSimulator
from tests.lab.kube import KubeEmulator
from tests.lab.lab_controllers import INTERNAL, IPV4, PIP_RESOURCE_GROUP, wire

RG, CLUSTER = "lab-rg", "lab-aks"
SUB = "00000000-0000-0000-0000-000000000000"
NODE_RG = "MC_lab-rg_lab-aks_westeurope"


@pytest.fixture()
def lab():
    kube = KubeEmulator(token="t", ready_delay=0)
    arm = ArmSimulator(kube_url="https://127.0.0.1:1", kube_ca_pem="", kube_token="t")
    wire(arm, kube, RG, CLUSTER)
    return arm, kube


def service(kube, name, annotations=None, **spec):
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
            "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}], **spec}}
    with kube._lock:
        kube._create_internal(body, instant=True)
    return kube.get_object("services", name, "default")


def lb(arm, name):
    return arm.get_resource(f"/subscriptions/{SUB}/resourceGroups/{NODE_RG}/providers/Microsoft.Network/loadBalancers/{name}")


def warnings(kube, name):
    return [e["message"] for e in kube.objects("events", "default") if e["involvedObject"]["name"] == name and e["type"] == "Warning"]


def test_public_service_gets_a_new_address_and_a_rule(lab):
    arm, kube = lab
    svc = service(kube, "web")
    address = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    fe = "a" + svc["metadata"]["uid"].replace("-", "")
    public = lb(arm, "kubernetes")
    frontend = next(f for f in public["properties"]["frontendIPConfigurations"] if f["name"] == fe)
    pip = arm.get_resource(frontend["properties"]["publicIPAddress"]["id"])
    assert pip["properties"]["ipAddress"] == address
    assert pip["properties"]["ipConfiguration"]["id"] == frontend["id"]
    rule = next(r for r in public["properties"]["loadBalancingRules"] if r["name"] == f"{fe}-TCP-80")
    assert rule["properties"]["frontendPort"] == 80


def test_static_ip_only_from_the_node_group_or_the_annotated_group(lab):
    arm, kube = lab
    other = arm._create_public_ip(RG, "shared", "westeurope", {"location": "westeurope", "sku": {"name": "Standard"}})
    address = other["properties"]["ipAddress"]
    pending = service(kube, "wrong", {IPV4: address})
    assert not pending["status"]["loadBalancer"]
    assert "findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address" in warnings(kube, "wrong")[0]
    assert "SyncLoadBalancerFailed" in [e["reason"] for e in kube.objects("events", "default")]
    ok = service(kube, "right", {IPV4: address, PIP_RESOURCE_GROUP: RG})
    assert ok["status"]["loadBalancer"]["ingress"][0]["ip"] == address


def test_internal_service_gets_a_subnet_address_and_a_requested_one_must_fit(lab):
    arm, kube = lab
    dynamic = service(kube, "api", {INTERNAL: "true"})
    assert dynamic["status"]["loadBalancer"]["ingress"][0]["ip"] == "10.224.0.7"  # after the three nodes
    static = service(kube, "api2", {INTERNAL: "true", IPV4: "10.224.5.5"})
    assert static["status"]["loadBalancer"]["ingress"][0]["ip"] == "10.224.5.5"
    outside = service(kube, "api3", {INTERNAL: "true", IPV4: "10.50.0.1"})
    assert not outside["status"]["loadBalancer"]
    assert "PrivateIPAddressNotInSubnet" in warnings(kube, "api3")[0]
    taken = service(kube, "api4", {INTERNAL: "true", IPV4: "10.224.5.5"})
    assert not taken["status"]["loadBalancer"] and "PrivateIPAddressInUse" in warnings(kube, "api4")[0]
    assert len(lb(arm, "kubernetes-internal")["properties"]["frontendIPConfigurations"]) == 2


def test_deleting_the_service_removes_frontend_rules_and_created_address(lab):
    arm, kube = lab
    svc = service(kube, "web")
    fe = "a" + svc["metadata"]["uid"].replace("-", "")
    pip_id = next(f for f in lb(arm, "kubernetes")["properties"]["frontendIPConfigurations"] if f["name"] == fe)["properties"]["publicIPAddress"]["id"]
    with kube._lock:
        obj = kube._get("", "services", "default", "web")
        kube._remove("", "services", obj)
        kube._after_delete("", "services", obj, api=True)
    public = lb(arm, "kubernetes")
    assert all(f["name"] != fe for f in public["properties"]["frontendIPConfigurations"])
    assert all(not r["name"].startswith(fe) for r in public["properties"]["loadBalancingRules"])
    assert arm.get_resource(pip_id) is None


def test_addons_create_and_remove_their_controllers(lab):
    arm, kube = lab
    body = arm.cluster(RG, CLUSTER)
    props = body["properties"]
    props["addonProfiles"] = {"ingressApplicationGateway": {"enabled": True, "config": {"applicationGatewayName": "gw", "subnetCIDR": "10.226.0.0/24"}}}
    props["ingressProfile"] = {"webAppRouting": {"enabled": True}}
    updated = arm.add_cluster(RG, CLUSTER, {"location": body["location"], "properties": props})
    agic = updated["properties"]["addonProfiles"]["ingressApplicationGateway"]
    assert agic["config"]["effectiveApplicationGatewayId"].endswith(f"/resourceGroups/{NODE_RG}/providers/Microsoft.Network/applicationGateways/gw")
    assert agic["identity"]["resourceId"].endswith("ingressapplicationgateway-lab-aks")
    assert kube.get_object("deployments", "ingress-appgw-deployment", "kube-system", group="apps") is not None
    assert [p["metadata"]["name"] for p in kube.objects("pods", "kube-system") if p["metadata"]["labels"].get("app") == "ingress-appgw"]
    assert kube.get_object("deployments", "nginx", "app-routing-system", group="apps") is not None
    assert kube.get_object("ingressclasses", "webapprouting.kubernetes.azure.com", group="networking.k8s.io") is not None
    props = arm.cluster(RG, CLUSTER)["properties"]
    props["addonProfiles"]["ingressApplicationGateway"]["enabled"] = False
    props["ingressProfile"]["webAppRouting"]["enabled"] = False
    arm.add_cluster(RG, CLUSTER, {"location": body["location"], "properties": props})
    assert kube.get_object("deployments", "ingress-appgw-deployment", "kube-system", group="apps") is None
    assert kube.get_object("deployments", "nginx", "app-routing-system", group="apps") is None
    assert [p for p in kube.objects("pods", "kube-system") if p["metadata"]["labels"].get("app") == "ingress-appgw"] == []


def nsg_rules(arm):
    nsg = next(r for k, r in arm._resources.items() if "/networksecuritygroups/" in k and k.count("/") == 8)
    return arm.get_resource(nsg["id"])["properties"]["securityRules"]


def test_public_service_opens_the_cluster_nsg_and_its_removal_closes_it(lab):
    arm, kube = lab
    svc = service(kube, "web", ports=[{"port": 80, "targetPort": 8080}, {"name": "tls", "port": 443, "targetPort": 8443}])
    address = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    fe = "a" + svc["metadata"]["uid"].replace("-", "")
    rules = {r["name"]: r["properties"] for r in nsg_rules(arm)}
    assert set(rules) == {f"{fe}-TCP-80-Internet", f"{fe}-TCP-443-Internet"}
    http = rules[f"{fe}-TCP-80-Internet"]
    assert (http["access"], http["direction"], http["sourceAddressPrefix"], http["destinationAddressPrefix"], http["destinationPortRange"]) == \
        ("Allow", "Inbound", "Internet", address, "80")
    assert sorted(r["priority"] for r in rules.values()) == [500, 501]
    ranged = service(kube, "partners", loadBalancerSourceRanges=["203.0.113.0/24", "198.51.100.7/32"])
    partner_rule = next(r["properties"] for r in nsg_rules(arm) if r["name"].startswith("a" + ranged["metadata"]["uid"].replace("-", "")))
    assert partner_rule["sourceAddressPrefixes"] == ["203.0.113.0/24", "198.51.100.7/32"] and partner_rule["priority"] == 502
    service(kube, "private", {INTERNAL: "true"})
    assert len(nsg_rules(arm)) == 3  # internal Services rely on AllowVnetInBound
    with kube._lock:
        obj = kube._get("", "services", "default", "web")
        kube._remove("", "services", obj)
        kube._after_delete("", "services", obj, api=True)
    assert [r["name"] for r in nsg_rules(arm) if r["name"].startswith(fe)] == []


def ingress(kube, name, klass):
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name, "namespace": "default"},
            "spec": {"ingressClassName": klass, "rules": [{"http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}
    with kube._lock:
        kube._create_internal(body, instant=True)


def test_application_routing_publishes_its_address_on_the_ingresses_of_its_class(lab):
    arm, kube = lab
    ingress(kube, "early", "webapprouting.kubernetes.azure.com")
    assert not (kube.get_object("ingresses", "early", "default", group="networking.k8s.io").get("status") or {}).get("loadBalancer")
    body = arm.cluster(RG, CLUSTER)
    props = body["properties"]
    props["ingressProfile"] = {"webAppRouting": {"enabled": True}}
    arm.add_cluster(RG, CLUSTER, {"location": body["location"], "properties": props})
    nginx_ip = kube.get_object("services", "nginx", "app-routing-system")["status"]["loadBalancer"]["ingress"]
    ingress(kube, "late", "webapprouting.kubernetes.azure.com")
    ingress(kube, "other", "nginx")
    status = {name: ((kube.get_object("ingresses", name, "default", group="networking.k8s.io").get("status") or {}).get("loadBalancer") or {})
              for name in ("early", "late", "other")}
    assert status["early"]["ingress"] == nginx_ip and status["late"]["ingress"] == nginx_ip
    assert status["other"].get("ingress") is None  # no controller serves class nginx


def test_a_lab_without_a_cluster_gets_the_nodes_and_add_ons_of_the_created_clusters_dataplane():
    kube = KubeEmulator(token="t", ready_delay=0, defaults=list)
    arm = ArmSimulator(kube_url="https://127.0.0.1:1", kube_ca_pem="", kube_token="t", with_cluster=False)
    wire(arm, kube, RG, CLUSTER)
    assert arm.cluster(RG, CLUSTER) is None and arm.resource_group(RG) is not None
    assert kube.objects("nodes") == [] and kube.objects("pods") == []
    subnet = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/lab-vnet/subnets/aks-nodes"
    body = {"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {
        "dnsPrefix": CLUSTER, "agentPoolProfiles": [{"name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "mode": "System", "osType": "Linux",
                                                     "type": "VirtualMachineScaleSets", "vnetSubnetID": subnet}],
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium", "networkPolicy": "cilium",
                           "podCidr": "192.168.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10"}}}
    arm.add_cluster(RG, CLUSTER, body)
    assert len(kube.objects("nodes")) == 3
    daemonsets = {d["metadata"]["name"] for d in kube.objects("daemonsets", "kube-system", group="apps")}
    assert "cilium" in daemonsets and "kube-proxy" not in daemonsets
    agents = [p for p in kube.objects("pods", "kube-system") if p["metadata"]["labels"].get("k8s-app") == "cilium"]
    assert len(agents) == 3
    coredns = [p for p in kube.objects("pods", "kube-system") if p["metadata"]["labels"].get("k8s-app") == "kube-dns"]
    assert coredns and all(p["status"]["podIP"].startswith("192.168.") for p in coredns)  # from the cluster's podCidr
    assert {c["metadata"]["name"] for c in kube.objects("customresourcedefinitions", group="apiextensions.k8s.io")} >= {
        "ciliumnetworkpolicies.cilium.io", "ciliumclusterwidenetworkpolicies.cilium.io"}
    pods = sorted(p["metadata"]["name"] for p in kube.objects("pods", "kube-system"))
    arm.add_cluster(RG, CLUSTER, body)  # an update does not bootstrap twice
    assert len(kube.objects("nodes")) == 3 and sorted(p["metadata"]["name"] for p in kube.objects("pods", "kube-system")) == pods
