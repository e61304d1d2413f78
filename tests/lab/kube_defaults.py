"""The default state of the lab cluster: what a fresh AKS cluster (Azure CNI overlay) holds.

Only the top-level objects are listed here; the emulator's controllers create the ReplicaSets,
Pods, Endpoints and EndpointSlices that follow from them (ready at once for the default state).
"""

from __future__ import annotations

from typing import Any

KUBERNETES_VERSION = "v1.32.7"
NODE_POOL = "system"
NODE_VMSS_ID = "41253874"
NODE_COUNT = 3
NODE_SUBNET_PREFIX = "10.224.0."
FIRST_NODE_HOST = 4
POD_CIDR_PREFIX = "10.244."
SERVICE_CIDR = "10.0.0.0/16"
DNS_SERVICE_IP = "10.0.0.10"
API_SERVER_IP = "10.224.0.250"

COREFILE = """.:53 {
    errors
    ready
    health {
      lameduck 5s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
      ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import custom/*.override
}
import custom/*.server
"""


def node_name(index: int) -> str:
    return f"aks-{NODE_POOL}-{NODE_VMSS_ID}-vmss{index:06d}"


def node_ip(index: int) -> str:
    return f"{NODE_SUBNET_PREFIX}{FIRST_NODE_HOST + index}"


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _node(index: int, *, location: str, subscription_id: str, node_resource_group: str) -> dict[str, Any]:
    name = node_name(index)
    zone = f"{location}-{index % 3 + 1}"
    vmss = f"aks-{NODE_POOL}-{NODE_VMSS_ID}-vmss"
    conditions = [
        ("NetworkUnavailable", "False", "NoRouteCreated", "Node network is available"),
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "agentpool": NODE_POOL,
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.azure.com/agentpool": NODE_POOL,
                "kubernetes.azure.com/cluster": node_resource_group,
                "kubernetes.azure.com/mode": "system",
                "kubernetes.azure.com/network-subnet": "aks-subnet",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/role": "agent",
                "node.kubernetes.io/instance-type": "Standard_D4ds_v5",
                "topology.kubernetes.io/region": location,
                "topology.kubernetes.io/zone": zone,
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {
            "providerID": (
                f"azure:///subscriptions/{subscription_id}/resourceGroups/{node_resource_group.lower()}/providers/"
                f"Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{index}"
            ),
        },
        "status": {
            "addresses": [{"type": "InternalIP", "address": node_ip(index)}, {"type": "Hostname", "address": name}],
            "allocatable": {"cpu": "3860m", "ephemeral-storage": "119703055367", "memory": "12880408Ki", "pods": "250"},
            "capacity": {"cpu": "4", "ephemeral-storage": "129886128Ki", "memory": "16375832Ki", "pods": "250"},
            "conditions": [
                {
                    "type": ctype,
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": "2025-01-01T00:00:00Z",
                    "lastTransitionTime": "2025-01-01T00:00:00Z",
                }
                for ctype, status, reason, message in conditions
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": f"0b6d3a5e-7c1f-4b8e-9a2d-{index:012d}",
                "machineID": f"{index:032x}",
                "systemUUID": f"6f1c4b2a-3d5e-4f60-8a7b-{index:012d}",
                "containerRuntimeVersion": "containerd://1.7.27-1",
                "kernelVersion": "5.15.0-1089-azure",
                "kubeProxyVersion": KUBERNETES_VERSION,
                "kubeletVersion": KUBERNETES_VERSION,
                "operatingSystem": "linux",
                "osImage": "Ubuntu 22.04.5 LTS",
            },
        },
    }


def _container(name: str, image: str, ports: list[tuple[str, int, str]] | None = None, **extra: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image}
    if ports:
        container["ports"] = [{"name": pname, "containerPort": number, "protocol": proto} for pname, number, proto in ports]
    container.update(extra)
    return container


def _workload(kind: str, name: str, labels: dict[str, str], containers: list[dict[str, Any]], *, replicas: int | None = None,
              host_network: bool = False, volumes: list[dict[str, Any]] | None = None, service_account: str | None = None) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {
        "containers": containers,
        "priorityClassName": "system-node-critical" if kind == "DaemonSet" else "system-cluster-critical",
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
    }
    if host_network:
        pod_spec["hostNetwork"] = True
        pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    if volumes:
        pod_spec["volumes"] = volumes
    if service_account:
        pod_spec["serviceAccountName"] = service_account
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "kube-system", "labels": {**labels, "kubernetes.azure.com/managedby": "aks"}},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }
    if replicas is not None:
        obj["spec"]["replicas"] = replicas
    return obj


def _service(name: str, namespace: str, cluster_ip: str, ports: list[dict[str, Any]], selector: dict[str, str] | None,
             labels: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "ClusterIP", "clusterIP": cluster_ip, "ports": ports}
    if selector:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


def default_objects(*, location: str = "westeurope", subscription_id: str = "00000000-0000-0000-0000-000000000000",
                    node_resource_group: str = "MC_rg-lab_aks-lab_westeurope", dataplane: str = "azure") -> list[dict[str, Any]]:
    """The lab's default cluster: namespaces, 3 Ready nodes and the kube-system add-ons of AKS.

    ``dataplane="cilium"`` (Azure CNI powered by Cilium): the ``cilium`` agent DaemonSet and the
    ``cilium-operator`` Deployment replace kube-proxy, which such clusters do not run.
    """
    objects: list[dict[str, Any]] = [_namespace(n) for n in ("default", "kube-system", "kube-public", "kube-node-lease")]
    objects += [_node(i, location=location, subscription_id=subscription_id, node_resource_group=node_resource_group) for i in range(NODE_COUNT)]
    objects.append(_service("kubernetes", "default", "10.0.0.1", [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}], None,
                            {"component": "apiserver", "provider": "kubernetes"}))
    objects.append({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": API_SERVER_IP}], "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}],
    })
    objects.append({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [API_SERVER_IP], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
    })
    dns_labels = {"k8s-app": "kube-dns"}
    objects.append(_workload(
        "Deployment", "coredns", {**dns_labels, "version": "v20"},
        [_container(
            "coredns", "mcr.microsoft.com/oss/v2/kubernetes/coredns:v1.12.1-1",
            [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")],
            args=["-conf", "/etc/coredns/Corefile"],
            readinessProbe={"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}},
            livenessProbe={"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}},
            volumeMounts=[{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True},
                          {"name": "custom-config-volume", "mountPath": "/etc/coredns/custom", "readOnly": True}],
        )],
        replicas=2, service_account="coredns",
        volumes=[{"name": "config-volume", "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}},
                 {"name": "custom-config-volume", "configMap": {"name": "coredns-custom", "optional": True}}],
    ))
    objects[-1]["metadata"]["labels"].update({"kubernetes.io/cluster-service": "true", "addonmanager.kubernetes.io/mode": "Reconcile"})
    objects[-1]["spec"]["template"]["spec"]["dnsPolicy"] = "Default"  # CoreDNS resolves upstream through the node, as on AKS
    objects.append(_service(
        "kube-dns", "kube-system", DNS_SERVICE_IP,
        [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}, {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}],
        dns_labels, {**dns_labels, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS", "addonmanager.kubernetes.io/mode": "Reconcile"},
    ))
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system",
                    "labels": {"addonmanager.kubernetes.io/mode": "Reconcile", "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"}},
                    "data": {"Corefile": COREFILE}})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns-custom", "namespace": "kube-system",
                    "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists", "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true"}}})
    metrics_labels = {"k8s-app": "metrics-server"}
    objects.append(_workload(
        "Deployment", "metrics-server", metrics_labels,
        [_container("metrics-server", "mcr.microsoft.com/oss/v2/kubernetes/metrics-server:v0.7.2-7", [("https", 4443, "TCP")],
                    args=["--secure-port=4443", "--kubelet-preferred-address-types=InternalIP"])],
        replicas=2, service_account="metrics-server",
    ))
    objects.append(_service("metrics-server", "kube-system", "10.0.84.23", [{"port": 443, "protocol": "TCP", "targetPort": "https"}],
                            metrics_labels, {**metrics_labels, "kubernetes.io/name": "Metrics-server"}))
    if dataplane == "cilium":
        objects += _cilium_objects()
    else:
        objects.append(_workload(
            "DaemonSet", "kube-proxy", {"component": "kube-proxy", "tier": "node"},
            [_container("kube-proxy", f"mcr.microsoft.com/oss/kubernetes/kube-proxy:{KUBERNETES_VERSION}", command=["kube-proxy", "--conntrack-max-per-core=0",
                        "--metrics-bind-address=0.0.0.0:10249"], securityContext={"privileged": True})],
            host_network=True,
        ))
    objects.append(_workload(
        "DaemonSet", "azure-cns", {"k8s-app": "azure-cns"},
        [_container("cns-container", "mcr.microsoft.com/containernetworking/azure-cns:v1.6.25", [("api", 10090, "TCP"), ("metrics", 10092, "TCP")],
                    securityContext={"capabilities": {"add": ["NET_ADMIN"]}})],
        host_network=True, service_account="azure-cns",
    ))
    objects.append(_workload(
        "DaemonSet", "azure-ip-masq-agent", {"k8s-app": "azure-ip-masq-agent", "tier": "node"},
        [_container("azure-ip-masq-agent", "mcr.microsoft.com/aks/ip-masq-agent-v2:v0.1.15", securityContext={"privileged": True})],
        host_network=True,
    ))
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "azure-ip-masq-agent-config-reconciled", "namespace": "kube-system"},
                    "data": {"ip-masq-agent-reconciled": "nonMasqueradeCIDRs:\n  - 10.244.0.0/16\n  - 10.224.0.0/12\nmasqLinkLocal: true\n"}})
    for account in ("coredns", "metrics-server", "azure-cns"):
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": "kube-system"}})
    return objects


CILIUM_IMAGE = "mcr.microsoft.com/containernetworking/cilium/cilium:v1.17.7-250909"


def _cilium_objects() -> list[dict[str, Any]]:
    """What AKS installs for Azure CNI powered by Cilium: the agent on every node and its operator."""
    agent = _workload(
        "DaemonSet", "cilium", {"k8s-app": "cilium"},
        [_container("cilium-agent", CILIUM_IMAGE, [("health", 9879, "TCP")], command=["cilium-agent"], args=["--config-dir=/tmp/cilium/config-map"],
                    securityContext={"privileged": True},
                    readinessProbe={"httpGet": {"host": "127.0.0.1", "path": "/healthz", "port": 9879, "scheme": "HTTP"}})],
        host_network=True, service_account="cilium",
    )
    operator = _workload(
        "Deployment", "cilium-operator", {"io.cilium/app": "operator", "name": "cilium-operator"},
        [_container("cilium-operator", "mcr.microsoft.com/containernetworking/operator-generic:v1.17.7-250909", command=["cilium-operator-generic"],
                    args=["--config-dir=/tmp/cilium/config-map"])],
        replicas=2, host_network=True, service_account="cilium-operator",
    )
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config", "namespace": "kube-system"},
              "data": {"kube-proxy-replacement": "true", "routing-mode": "native", "enable-policy": "default", "ipam": "delegated-plugin"}}
    accounts = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "kube-system"}}
                for name in ("cilium", "cilium-operator")]
    return [agent, operator, config, *accounts]
