# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes kinds the collection reads for diagnostics, one LIST each (pure data, no SDK)."""

from __future__ import annotations

# Each entry: (api_version, kind, plural, namespaced, only_namespace, optional)
#  only_namespace: list only this namespace (e.g. kube-system workloads), None = all namespaces
#  optional: the kind may be absent from the cluster (CRDs); absence is recorded, not an error
DIAGNOSTIC_KINDS = (
    ("v1", "Namespace", "namespaces", False, None, False),
    ("v1", "Node", "nodes", False, None, False),
    ("v1", "Pod", "pods", True, None, False),
    ("v1", "Service", "services", True, None, False),
    ("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True, None, False),
    ("v1", "Endpoints", "endpoints", True, None, False),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True, None, False),
    ("networking.k8s.io/v1", "Ingress", "ingresses", True, None, False),
    ("networking.k8s.io/v1", "IngressClass", "ingressclasses", False, None, False),
    ("v1", "ConfigMap", "configmaps", True, "kube-system", False),
    ("apps/v1", "Deployment", "deployments", True, "kube-system", False),
    ("apps/v1", "DaemonSet", "daemonsets", True, "kube-system", False),
    ("v1", "Event", "events", True, None, False),
    ("cilium.io/v2", "CiliumNetworkPolicy", "ciliumnetworkpolicies", True, None, True),
    ("cilium.io/v2", "CiliumClusterwideNetworkPolicy", "ciliumclusterwidenetworkpolicies", False, None, True),
)

# A kind read only in place of another: v1 Endpoints is listed only when EndpointSlices could not be read or came
# back empty. EndpointSlice is GA since Kubernetes 1.21 and holds the same endpoints; v1 Endpoints is deprecated
# since 1.33, and the API server answers every read of it with a deprecation Warning (a second LIST as large).
FALLBACK_FOR = {"Endpoints": "EndpointSlice"}


def kind_key(api_version: str, kind: str) -> str:
    """A stable key for a kind, e.g. ``networking.k8s.io/v1/NetworkPolicy``."""
    return f"{api_version}/{kind}"
