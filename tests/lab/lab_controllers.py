"""What couples the lab's two servers, as AKS couples Azure and the cluster.

* :class:`AzureCloudProvider` plays cloud-provider-azure's service controller: a Service of type
  LoadBalancer gets a frontend, rules and a health probe on the ``kubernetes`` (public) or
  ``kubernetes-internal`` load balancer of the node resource group in the ARM simulator, and its
  ``status.loadBalancer.ingress`` address; when that cannot be done the Service stays pending and a
  Warning Event ``SyncLoadBalancerFailed`` (the cloud provider's wording) says why.
  Rules it follows (those people otherwise learn from a broken rollout):

  - a public Service without a requested address gets a new Standard public IP
    ``kubernetes-a<uid>`` in the node resource group;
  - a requested public address (``service.beta.kubernetes.io/azure-load-balancer-ipv4``, or the
    deprecated ``spec.loadBalancerIP``) must be an existing public IP of the node resource group, or
    of the group named by ``service.beta.kubernetes.io/azure-load-balancer-resource-group``;
    it must be a Standard SKU address like the cluster's load balancer;
  - an internal Service (``azure-load-balancer-internal: "true"``) gets a private address of the
    node subnet (or of ``azure-load-balancer-internal-subnet`` in the same VNet); a requested private
    address must lie in that subnet, not be one of the five Azure reserves, and be free;
  - the probe is TCP on the node port, HTTP on the node port with the
    ``azure-load-balancer-health-probe-request-path`` annotation, and HTTP ``/healthz`` on the
    health-check node port with ``externalTrafficPolicy: Local``.

* :class:`AddonManager` plays the AKS add-on manager: when a managed cluster's create/update
  finishes, the enabled add-ons get their read-only fields in ARM (identity, effective gateway id)
  and their controllers in the cluster (AGIC: ``kube-system/ingress-appgw-deployment``; web app
  routing: ``app-routing-system/nginx`` and the ``webapprouting.kubernetes.azure.com`` IngressClass);
  disabled add-ons' controllers are removed.

Locking: the cloud provider runs inside the Kubernetes emulator's lock and takes the ARM lock; the
add-on manager runs inside the ARM lock and hands its Kubernetes work to the emulator's loop, so
the two locks are never taken in the opposite order.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
from typing import Any, Optional

from . import arm_network as net
from .arm_common import build_id, new_etag, parse_resource_id, stable_hex, stable_uuid

ANNOTATION = "service.beta.kubernetes.io/"
INTERNAL = ANNOTATION + "azure-load-balancer-internal"
INTERNAL_SUBNET = ANNOTATION + "azure-load-balancer-internal-subnet"
IPV4 = ANNOTATION + "azure-load-balancer-ipv4"
PIP_RESOURCE_GROUP = ANNOTATION + "azure-load-balancer-resource-group"
PROBE_PATH = ANNOTATION + "azure-load-balancer-health-probe-request-path"
CLUSTER_NAME_TAG = "kubernetes"  # cloud-provider-azure's default --cluster-name
PUBLIC_LB, INTERNAL_LB = "kubernetes", "kubernetes-internal"
PIP_TYPE = "microsoft.network/publicipaddresses"

AGIC_DEPLOYMENT, AGIC_LABEL = "ingress-appgw-deployment", {"app": "ingress-appgw"}
APP_ROUTING_NAMESPACE, APP_ROUTING_DEPLOYMENT = "app-routing-system", "nginx"
APP_ROUTING_CLASS = "webapprouting.kubernetes.azure.com"
AGIC_CLASS = "azure-application-gateway"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SyncFailed(Exception):
    """The cloud provider could not ensure the load balancer; the message is the event's tail."""


class AzureCloudProvider:
    """The service controller of cloud-provider-azure for the lab cluster (``lb_hook`` of the emulator)."""

    def __init__(self, arm: Any, kube: Any, resource_group: str, cluster: str) -> None:
        self.arm = arm
        self.kube = kube
        self.resource_group = resource_group
        self.cluster = cluster

    # ----------------------------------------------------------------- hooks

    def ensure(self, service: dict[str, Any]) -> Optional[list[dict[str, Any]]]:
        """``status.loadBalancer.ingress`` for ``service``, or None (pending, with a Warning event)."""
        self._event(service, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
        try:
            with self.arm._lock:
                address = self._ensure(service)
        except SyncFailed as exc:
            self._event(service, "Warning", "SyncLoadBalancerFailed", f"Error syncing load balancer: failed to ensure load balancer: {exc}")
            return None
        self._event(service, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")
        return [{"ip": address, "ipMode": "VIP"}]

    def release(self, service: dict[str, Any]) -> None:
        """The Service is gone: its frontend, rules and probes go, an address created for it is deleted."""
        with self.arm._lock:
            cluster = self._cluster()
            if cluster is not None:
                self._remove_frontends(cluster["properties"]["nodeResourceGroup"], _frontend_name(service), keep_lb=None)

    # ----------------------------------------------------------------- ARM side (ARM lock held)

    def _cluster(self) -> Optional[dict[str, Any]]:
        return self.arm._resources.get(self.arm.cluster_id(self.resource_group, self.cluster).lower())

    def _ensure(self, service: dict[str, Any]) -> str:
        cluster = self._cluster()
        if cluster is None:
            raise SyncFailed(f"the managed cluster {self.resource_group}/{self.cluster} does not exist")
        props = cluster["properties"]
        node_rg, location = props["nodeResourceGroup"], cluster["location"]
        annotations = (service.get("metadata") or {}).get("annotations") or {}
        spec = service.get("spec") or {}
        fe_name = _frontend_name(service)
        internal = str(annotations.get(INTERNAL, "")).lower() == "true"
        requested = annotations.get(IPV4) or spec.get("loadBalancerIP") or None
        lb_name = INTERNAL_LB if internal else PUBLIC_LB
        lb = self._load_balancer(node_rg, lb_name, location)
        frontend_id = f"{lb['id']}/frontendIPConfigurations/{fe_name}"
        if internal:
            subnet = self._internal_subnet(props, annotations)
            address = self._private_address(subnet, requested, frontend_id)
            fe_props: dict[str, Any] = {"privateIPAddress": address, "privateIPAllocationMethod": "Static" if requested else "Dynamic",
                                        "subnet": {"id": subnet["id"]}, "privateIPAddressVersion": "IPv4"}
        else:
            pip = self._public_ip(service, node_rg, location, annotations, requested, frontend_id)
            address = pip["properties"]["ipAddress"]
            fe_props = {"privateIPAllocationMethod": "Dynamic", "publicIPAddress": {"id": pip["id"]}}
        # a Service moving between public and internal, or to another address, leaves nothing behind
        self._remove_frontends(node_rg, fe_name, keep_lb=lb_name)
        self._detach_other_pips(frontend_id, (fe_props.get("publicIPAddress") or {}).get("id"))
        self._write_frontend(lb, fe_name, fe_props, service, annotations)
        self._write_security_rules(node_rg, fe_name, None if internal else address, spec)
        owner = f"{lb['id']}/frontendIPConfigurations/{fe_name}".lower()
        for owners in self.arm._ipconfigs.values():
            owners.pop(owner, None)
        if internal:
            self.arm._ipconfigs.setdefault(fe_props["subnet"]["id"].lower(), {})[owner] = [frontend_id]
        return address

    def _load_balancer(self, node_rg: str, name: str, location: str) -> dict[str, Any]:
        key = build_id(self.arm.subscription_id, node_rg, net.NETWORK, ["loadBalancers"], [name]).lower()
        lb = self.arm._resources.get(key)
        if lb is None:
            lb = net.load_balancer(self.arm.subscription_id, node_rg, name, location, None)
            self.arm._resources[key] = lb
        return lb

    def _vnet_of(self, subnet_id: str) -> tuple[Optional[dict[str, Any]], Optional[str]]:
        parsed = parse_resource_id(subnet_id)
        if parsed is None or len(parsed.names) != 2:
            return None, None
        vnet_key = build_id(parsed.subscription, parsed.resource_group, parsed.namespace, parsed.types[:1], parsed.names[:1]).lower()
        return self.arm._resources.get(vnet_key), parsed.names[1]

    def _node_subnet_id(self, props: dict[str, Any]) -> Optional[str]:
        for pool in props.get("agentPoolProfiles") or []:
            if pool.get("vnetSubnetID"):
                return pool["vnetSubnetID"]
        prefix = f"/subscriptions/{self.arm.subscription_id}/resourcegroups/{props['nodeResourceGroup'].lower()}/providers/microsoft.network/virtualnetworks/"
        for key, res in self.arm._resources.items():
            if key.startswith(prefix) and key.count("/") == prefix.count("/") and res["properties"].get("subnets"):
                return res["properties"]["subnets"][0]["id"]
        return None

    def _internal_subnet(self, props: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
        node_subnet = self._node_subnet_id(props)
        vnet, node_subnet_name = self._vnet_of(node_subnet or "")
        if vnet is None:
            raise SyncFailed(f"ensure(internal load balancer): failed to get subnet: {node_subnet}")
        wanted = annotations.get(INTERNAL_SUBNET) or node_subnet_name
        for subnet in vnet["properties"].get("subnets") or []:
            if subnet["name"].lower() == str(wanted).lower():
                return subnet
        raise SyncFailed(f"ensure(internal load balancer): failed to get subnet: {vnet['name']}/{wanted}")

    def _private_address(self, subnet: dict[str, Any], requested: Optional[str], frontend_id: str) -> str:
        cidr = ipaddress.ip_network(subnet["properties"]["addressPrefix"])
        used = self._private_addresses_in_use(subnet["id"], exclude=frontend_id)
        reserved = {cidr.network_address + i for i in range(4)} | {cidr.broadcast_address}
        if requested:
            try:
                address = ipaddress.ip_address(requested)
            except ValueError:
                raise SyncFailed(f"the requested load balancer IP {requested!r} is not a valid IP address") from None
            if address not in cidr:
                raise SyncFailed(_network_error(400, "PrivateIPAddressNotInSubnet",
                                                f"Private static IP address {address} does not belong to the range of subnet prefix {cidr}."))
            if address in reserved:
                raise SyncFailed(_network_error(400, "PrivateIPAddressIsReserved",
                                                f"Private static IP address {address} falls within reserved IP range of subnet prefix {cidr}."))
            if str(address) in used:
                raise SyncFailed(_network_error(400, "PrivateIPAddressInUse",
                                                f"IP configuration {frontend_id} is using the private IP address {address} which is already allocated "
                                                f"to resource {used[str(address)]}."))
            return str(address)
        # Azure hands out the lowest free address; node NICs hold the first ones of the subnet
        node_count = sum(len(ids) for owner, ids in self.arm._ipconfigs.get(subnet["id"].lower(), {}).items() if "/frontendipconfigurations/" not in owner)
        for offset in range(4 + node_count, cidr.num_addresses - 1):
            candidate = cidr.network_address + offset
            if str(candidate) not in used:
                return str(candidate)
        raise SyncFailed(_network_error(400, "SubnetIsFull", f"Subnet {subnet['name']} with address prefix {cidr} does not have enough capacity."))

    def _private_addresses_in_use(self, subnet_id: str, exclude: str) -> dict[str, str]:
        used: dict[str, str] = {}
        for res in self.arm._resources.values():
            if res["type"].lower() != "microsoft.network/loadbalancers":
                continue
            for fe in res["properties"].get("frontendIPConfigurations") or []:
                fprops = fe.get("properties") or {}
                if fe["id"].lower() != exclude.lower() and (fprops.get("subnet") or {}).get("id", "").lower() == subnet_id.lower():
                    used[fprops.get("privateIPAddress")] = fe["id"]
        for node in self.kube._items("", "nodes"):
            for addr in (node.get("status") or {}).get("addresses") or []:
                if addr.get("type") == "InternalIP":
                    used.setdefault(addr.get("address"), f"node {node['metadata']['name']}")
        return used

    def _public_ip(self, service: dict[str, Any], node_rg: str, location: str, annotations: dict[str, str], requested: Optional[str],
                   frontend_id: str) -> dict[str, Any]:
        if requested:
            group = annotations.get(PIP_RESOURCE_GROUP) or node_rg
            for res in self.arm._resources.values():
                parsed = parse_resource_id(res["id"])
                if res["type"].lower() == PIP_TYPE and parsed and parsed.resource_group.lower() == group.lower() \
                        and res["properties"].get("ipAddress") == requested:
                    if str((res.get("sku") or {}).get("name", "")).lower() != "standard":
                        raise SyncFailed(_network_error(400, "PublicIPAndLBSkuDoNotMatch",
                                                        f"Standard sku load balancer {self._lb_id(node_rg, PUBLIC_LB)} cannot reference Basic sku "
                                                        f"publicIP {res['id']}."))
                    res["properties"]["ipConfiguration"] = {"id": frontend_id}
                    return res
            raise SyncFailed(f"findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address {requested} in resource group {group.lower()}")
        meta = service.get("metadata") or {}
        name = f"{CLUSTER_NAME_TAG}-{_frontend_name(service)}"
        key = build_id(self.arm.subscription_id, node_rg, net.NETWORK, ["publicIPAddresses"], [name]).lower()
        pip = self.arm._resources.get(key)
        if pip is None:
            body = {"location": location, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"},
                    "tags": {"k8s-azure-service": f"{meta.get('namespace', 'default')}/{meta.get('name')}", "k8s-azure-cluster-name": CLUSTER_NAME_TAG}}
            pip = self.arm._create_public_ip(node_rg, name, location, body)
        pip["properties"]["ipConfiguration"] = {"id": frontend_id}
        return pip

    def _lb_id(self, node_rg: str, name: str) -> str:
        return build_id(self.arm.subscription_id, node_rg, net.NETWORK, ["loadBalancers"], [name])

    def _detach_other_pips(self, frontend_id: str, keep_pip: Optional[str]) -> None:
        for key, res in list(self.arm._resources.items()):
            if res["type"].lower() != PIP_TYPE or (keep_pip and res["id"].lower() == keep_pip.lower()):
                continue
            if ((res["properties"].get("ipConfiguration") or {}).get("id") or "").lower() == frontend_id.lower():
                res["properties"].pop("ipConfiguration", None)
                if (res.get("tags") or {}).get("k8s-azure-service"):
                    del self.arm._resources[key]  # the cloud provider deletes the addresses it created

    def _cluster_nsgs(self, node_rg: str) -> list[dict[str, Any]]:
        prefix = f"/subscriptions/{self.arm.subscription_id}/resourcegroups/{node_rg}/providers/{net.NETWORK}/networksecuritygroups/".lower()
        return [res for key, res in self.arm._resources.items() if key.startswith(prefix) and key.count("/") == prefix.count("/")]

    def _write_security_rules(self, node_rg: str, fe_name: str, address: Optional[str], spec: dict[str, Any]) -> None:
        """cloud-provider-azure's reconcileSecurityGroup: a public Service's ports are allowed from its source ranges
        (``Internet`` by default) to its frontend address, in the cluster's NSG, from priority 500 up; internal
        Services rely on the default AllowVnetInBound rule here."""
        for nsg in self._cluster_nsgs(node_rg):
            rules = [r for r in nsg["properties"]["securityRules"] if not r["name"].startswith(fe_name + "-")]
            if address:
                sources = list(spec.get("loadBalancerSourceRanges") or []) or ["Internet"]
                used = {r["properties"].get("priority") for r in rules}
                for port in spec.get("ports") or []:
                    protocol = str(port.get("protocol") or "TCP").upper()
                    priority = next(p for p in range(500, 4097) if p not in used)
                    used.add(priority)
                    source = {"sourceAddressPrefix": sources[0]} if len(sources) == 1 else {"sourceAddressPrefixes": sources}
                    rules.append(net.security_rule(
                        nsg["id"], "securityRules", f"{fe_name}-{protocol}-{port['port']}-{'Internet' if sources == ['Internet'] else 'sourceRanges'}",
                        protocol=protocol.capitalize(), sourcePortRange="*", destinationPortRange=str(port["port"]), destinationAddressPrefix=address,
                        access="Allow", priority=priority, direction="Inbound", **source))
            if rules != nsg["properties"]["securityRules"]:
                nsg["properties"]["securityRules"] = rules
                nsg["etag"] = new_etag()

    def _remove_frontends(self, node_rg: str, fe_name: str, keep_lb: Optional[str]) -> None:
        if keep_lb is None:
            self._write_security_rules(node_rg, fe_name, None, {})
        for lb_name in (PUBLIC_LB, INTERNAL_LB):
            if lb_name == keep_lb:
                continue
            lb = self.arm._resources.get(self._lb_id(node_rg, lb_name).lower())
            if lb is None:
                continue
            props = lb["properties"]
            gone = [fe["id"] for fe in props["frontendIPConfigurations"] if fe["name"] == fe_name]
            if not gone:
                continue
            props["frontendIPConfigurations"] = [fe for fe in props["frontendIPConfigurations"] if fe["name"] != fe_name]
            props["loadBalancingRules"] = [r for r in props["loadBalancingRules"] if not r["name"].startswith(fe_name + "-")]
            props["probes"] = [p for p in props["probes"] if not p["name"].startswith(fe_name + "-")]
            lb["etag"] = new_etag()
            for frontend_id in gone:
                self._detach_other_pips(frontend_id, None)
                for owners in self.arm._ipconfigs.values():
                    owners.pop(frontend_id.lower(), None)
            if lb_name == INTERNAL_LB and not props["frontendIPConfigurations"]:
                del self.arm._resources[lb["id"].lower()]  # the cloud provider deletes an empty internal load balancer

    def _write_frontend(self, lb: dict[str, Any], fe_name: str, fe_props: dict[str, Any], service: dict[str, Any],
                        annotations: dict[str, str]) -> None:
        props = lb["properties"]
        lb_id = lb["id"]
        frontend_id = f"{lb_id}/frontendIPConfigurations/{fe_name}"
        pool_id = f"{lb_id}/backendAddressPools/kubernetes"
        spec = service.get("spec") or {}
        local = spec.get("externalTrafficPolicy") == "Local"
        path = annotations.get(PROBE_PATH)
        rules, probes = [], []
        for port in spec.get("ports") or []:
            protocol = str(port.get("protocol") or "TCP").capitalize()
            name = f"{fe_name}-{protocol.upper()}-{port['port']}"
            probe_props: dict[str, Any] = {"intervalInSeconds": 5, "numberOfProbes": 2, "probeThreshold": 1}
            if local and spec.get("healthCheckNodePort"):
                probe_props.update({"protocol": "Http", "port": spec["healthCheckNodePort"], "requestPath": "/healthz"})
            elif path:
                probe_props.update({"protocol": "Http", "port": port.get("nodePort"), "requestPath": path})
            else:
                probe_props.update({"protocol": "Tcp", "port": port.get("nodePort")})
            probe_props["loadBalancingRules"] = [{"id": f"{lb_id}/loadBalancingRules/{name}"}]
            probes.append({"id": f"{lb_id}/probes/{name}", "name": name, "etag": new_etag(), "type": f"{net.NETWORK}/loadBalancers/probes",
                           "properties": {"provisioningState": "Succeeded", **probe_props}})
            rules.append({
                "id": f"{lb_id}/loadBalancingRules/{name}", "name": name, "etag": new_etag(), "type": f"{net.NETWORK}/loadBalancers/loadBalancingRules",
                "properties": {"provisioningState": "Succeeded", "frontendIPConfiguration": {"id": frontend_id},
                               "backendAddressPool": {"id": pool_id}, "backendAddressPools": [{"id": pool_id}], "probe": {"id": f"{lb_id}/probes/{name}"},
                               "protocol": protocol, "frontendPort": port["port"], "backendPort": port["port"], "enableFloatingIP": True,
                               "idleTimeoutInMinutes": 4, "enableTcpReset": True, "disableOutboundSnat": True, "loadDistribution": "Default"},
            })
        frontend = {"id": frontend_id, "name": fe_name, "etag": new_etag(), "type": f"{net.NETWORK}/loadBalancers/frontendIPConfigurations",
                    "properties": {"provisioningState": "Succeeded", **fe_props, "loadBalancingRules": [{"id": r["id"]} for r in rules]}}
        props["frontendIPConfigurations"] = [fe for fe in props["frontendIPConfigurations"] if fe["name"] != fe_name] + [frontend]
        props["loadBalancingRules"] = [r for r in props["loadBalancingRules"] if not r["name"].startswith(fe_name + "-")] + rules
        props["probes"] = [p for p in props["probes"] if not p["name"].startswith(fe_name + "-")] + probes
        lb["etag"] = new_etag()

    # ----------------------------------------------------------------- Kubernetes side (kube lock held)

    def _event(self, service: dict[str, Any], etype: str, reason: str, message: str) -> None:
        meta = service.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        name = f"{meta.get('name')}.{stable_hex(meta.get('uid', '') + reason + message, 16)}"
        now = _now()
        existing = self.kube._get("", "events", namespace, name)
        if existing is not None:
            updated = copy.deepcopy(existing)
            updated["count"] = int(updated.get("count") or 1) + 1
            updated["lastTimestamp"] = now
            self.kube._put("", "events", updated, "MODIFIED")
            return
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": "Service", "namespace": namespace, "name": meta.get("name"), "uid": meta.get("uid"), "apiVersion": "v1",
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message, "type": etype, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
            "source": {"component": "service-controller"}, "reportingComponent": "service-controller", "reportingInstance": "",
        }
        self.kube._create_internal(event, instant=True, hooks=False)


def _frontend_name(service: dict[str, Any]) -> str:
    """cloud-provider-azure's name of a Service's frontend, rules and probes: ``a`` + the uid without dashes."""
    return "a" + str((service.get("metadata") or {}).get("uid", "")).replace("-", "")


def _network_error(status: int, code: str, message: str) -> str:
    """How cloud-provider-azure quotes an Azure network error in its event."""
    return f'Retriable: false, RetryAfter: 0s, HTTPStatusCode: {status}, RawError: {{"error": {{"code": "{code}", "message": "{message}"}}}}'


# ------------------------------------------------------------------------------------ add-ons


class AddonManager:
    """Fills the add-ons' read-only ARM fields and runs their controllers in the cluster."""

    def __init__(self, arm: Any, kube: Any, resource_group: str, cluster: str) -> None:
        self.arm = arm
        self.kube = kube
        self.cluster_key = arm.cluster_id(resource_group, cluster).lower()

    def cluster_changed(self, cluster: dict[str, Any]) -> None:
        """ARM hook (ARM lock held): a create/update of ``cluster`` finished."""
        props = cluster["properties"]
        sub, node_rg, name = self.arm.subscription_id, props["nodeResourceGroup"], cluster["name"]
        agic = (props.get("addonProfiles") or {}).get("ingressApplicationGateway") or {}
        agic_state: Optional[dict[str, str]] = None
        if agic.get("enabled"):
            config = agic.setdefault("config", {})
            gateway_id = config.get("applicationGatewayId")
            if not gateway_id:
                gateway = config.get("applicationGatewayName") or "applicationgateway" + stable_hex(cluster["id"])
                gateway_id = build_id(sub, node_rg, net.NETWORK, ["applicationGateways"], [gateway])
                self._create_gateway(gateway_id, cluster["location"], config)
            config["effectiveApplicationGatewayId"] = gateway_id
            agic["identity"] = self._identity(node_rg, f"ingressapplicationgateway-{name}")
            agic_state = {"APPGW_RESOURCE_ID": gateway_id, "WATCH_NAMESPACE": config.get("watchNamespace", "")}
        elif agic:
            agic.pop("identity", None)
        routing = ((props.get("ingressProfile") or {}).get("webAppRouting")) or {}
        if routing.get("enabled"):
            routing["identity"] = self._identity(node_rg, f"webapprouting-{name}")
        else:
            routing.pop("identity", None)
        if cluster["id"].lower() != self.cluster_key:
            return  # only the lab cluster has a Kubernetes emulator
        dataplane = str((props.get("networkProfile") or {}).get("networkDataplane", "") or "azure").lower()
        location, pod_cidr = cluster["location"], (props.get("networkProfile") or {}).get("podCidr")
        self.kube._schedule(lambda: self._bootstrap(location, node_rg, dataplane, pod_cidr))
        if dataplane == "cilium":
            # Azure CNI powered by Cilium installs the cilium.io CRDs; other clusters do not serve them.
            self.kube._schedule(self.kube.register_cilium_crds)
        enabled_routing = bool(routing.get("enabled"))
        self.kube._schedule(lambda: self._reconcile(agic_state, enabled_routing))

    def _bootstrap(self, location: str, node_rg: str, dataplane: str, pod_cidr: Optional[str]) -> None:
        """A cluster created in a lab started without one: its nodes and kube-system add-ons appear (kube lock held),
        and overlay pods get addresses from its podCidr (a /8 to /16 network: node N's pods in <prefix>N.0/24)."""
        if self.kube._items("", "nodes"):
            return
        from .kube_defaults import default_objects

        if pod_cidr:
            network = ipaddress.ip_network(pod_cidr, strict=False)
            if network.version == 4 and network.prefixlen <= 16:
                self.kube.pod_cidr_prefix = ".".join(str(network.network_address).split(".")[:2]) + "."

        for obj in default_objects(location=location, subscription_id=self.arm.subscription_id, node_resource_group=node_rg, dataplane=dataplane):
            self.kube._create_internal(obj, instant=True)

    def ingress_status(self, ingress: dict[str, Any]) -> Optional[list[dict[str, Any]]]:
        """Kubernetes hook (kube lock held): the address the managed NGINX publishes on an Ingress of its class
        (its LoadBalancer Service's, like ``--publish-service``), or None when no such controller serves it."""
        spec = ingress.get("spec") or {}
        annotations = (ingress.get("metadata") or {}).get("annotations") or {}
        if (spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")) != APP_ROUTING_CLASS:
            return None
        if self.kube._get("apps", "deployments", APP_ROUTING_NAMESPACE, APP_ROUTING_DEPLOYMENT) is None:
            return None
        service = self.kube._get("", "services", APP_ROUTING_NAMESPACE, APP_ROUTING_DEPLOYMENT)
        published = (((service or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress")
        return copy.deepcopy(published) if published else None

    def _publish_ingresses(self) -> None:
        for ingress in self.kube._items("networking.k8s.io", "ingresses"):
            address = self.ingress_status(ingress)
            if address is not None and address != ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                updated = copy.deepcopy(ingress)
                updated.setdefault("status", {})["loadBalancer"] = {"ingress": address}
                self.kube._put("networking.k8s.io", "ingresses", updated, "MODIFIED")

    def _identity(self, node_rg: str, name: str) -> dict[str, str]:
        rid = f"/subscriptions/{self.arm.subscription_id}/resourcegroups/{node_rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        return {"resourceId": rid, "clientId": stable_uuid(rid + "/client"), "objectId": stable_uuid(rid + "/object")}

    def _create_gateway(self, gateway_id: str, location: str, config: dict[str, str]) -> None:
        key = gateway_id.lower()
        if key in self.arm._resources:
            return
        parsed = parse_resource_id(gateway_id)
        self.arm._ensure_group(parsed.resource_group, location)
        self.arm._resources[key] = {
            "id": gateway_id, "name": parsed.name, "type": f"{net.NETWORK}/applicationGateways", "location": location, "etag": new_etag(),
            "tags": {"created-by": "ingress-appgw"},
            "properties": {"provisioningState": "Succeeded", "operationalState": "Running", "resourceGuid": stable_uuid(gateway_id),
                           "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
                           "gatewayIPConfigurations": [{
                               "name": "appGatewayIpConfig",
                               "properties": {"subnet": {"id": config.get("subnetId") or "", "addressPrefix": config.get("subnetCIDR")}},
                           }]},
        }

    def _reconcile(self, agic: Optional[dict[str, str]], routing: bool) -> None:
        """Kubernetes side (kube lock held, on the emulator's loop)."""
        kube = self.kube
        if agic is not None:
            self._apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ingress-appgw-cm", "namespace": "kube-system"}, "data": agic})
            self._apply(_ingress_class(AGIC_CLASS, "azure/application-gateway"))
            self._apply(_deployment("kube-system", AGIC_DEPLOYMENT, AGIC_LABEL, "ingress-appgw-container",
                                    "mcr.microsoft.com/azure-application-gateway/kubernetes-ingress:1.8.1", 1))
        else:
            gone = (("apps", "deployments", "kube-system", AGIC_DEPLOYMENT), ("", "configmaps", "kube-system", "ingress-appgw-cm"),
                    ("networking.k8s.io", "ingressclasses", None, AGIC_CLASS))
            for group, plural, namespace, name in gone:
                self._delete(group, plural, namespace, name)
        if routing:
            kube._ensure_namespace(APP_ROUTING_NAMESPACE)
            self._apply(_ingress_class(APP_ROUTING_CLASS, "webapprouting.kubernetes.azure.com/nginx"))
            self._apply(_deployment(APP_ROUTING_NAMESPACE, APP_ROUTING_DEPLOYMENT, {"app": "nginx"}, "controller",
                                    "mcr.microsoft.com/oss/kubernetes/ingress/nginx-ingress-controller:v1.11.5", 2))
            self._apply({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": APP_ROUTING_DEPLOYMENT, "namespace": APP_ROUTING_NAMESPACE,
                                      "labels": {"app.kubernetes.io/managed-by": "aks-app-routing-operator"}},
                         "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "externalTrafficPolicy": "Local",
                                  "ports": [{"name": "http", "port": 80, "targetPort": 80}, {"name": "https", "port": 443, "targetPort": 443}]}})
            self._publish_ingresses()
        else:
            self._delete("", "services", APP_ROUTING_NAMESPACE, APP_ROUTING_DEPLOYMENT)
            self._delete("apps", "deployments", APP_ROUTING_NAMESPACE, APP_ROUTING_DEPLOYMENT)
            self._delete("networking.k8s.io", "ingressclasses", None, APP_ROUTING_CLASS)

    def _apply(self, obj: dict[str, Any]) -> None:
        group, _version, plural, _info = self.kube._resolve_kind(obj)
        meta = obj["metadata"]
        if self.kube._get(group, plural, meta.get("namespace"), meta["name"]) is None:
            self.kube._create_internal(obj, instant=False)

    def _delete(self, group: str, plural: str, namespace: Optional[str], name: str) -> None:
        obj = self.kube._get(group, plural, namespace, name)
        if obj is not None:
            self.kube._remove(group, plural, obj)
            self.kube._after_delete(group, plural, obj, api=False)


def _ingress_class(name: str, controller: str) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "aks"}}, "spec": {"controller": controller}}


def _deployment(namespace: str, name: str, labels: dict[str, str], container: str, image: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {**labels, "kubernetes.azure.com/managedby": "aks"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                       "containers": [{"name": container, "image": image}]}}},
    }


def wire(arm: Any, kube: Any, resource_group: str, cluster: str) -> tuple[AzureCloudProvider, AddonManager]:
    """Connect the servers: the emulator's load-balancer hooks and the simulator's cluster hook."""
    provider = AzureCloudProvider(arm, kube, resource_group, cluster)
    addons = AddonManager(arm, kube, resource_group, cluster)
    kube.lb_hook = provider.ensure
    kube.lb_delete_hook = provider.release
    kube.ingress_hook = addons.ingress_status
    arm.cluster_hooks.append(addons.cluster_changed)
    return provider, addons
