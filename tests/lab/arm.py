"""ARM simulator: a stand-in for Azure Resource Manager on loopback, for the collection's tests and demo.

It serves what azure-mgmt-containerservice 41 (API 2026-08-01), azure-mgmt-network 33 and azure-identity
call, and obeys ARM's rules: bearer tokens from its managed-identity endpoint (App Service protocol),
``api-version`` on every call, ARM error bodies, ``x-ms-request-id`` on every response, long-running
operations with ``Azure-AsyncOperation`` + ``Retry-After``, 404 ``ResourceGroupNotFound`` /
``ResourceNotFound``, ``nextLink`` paging, and the AKS validation rules of :mod:`tests.lab.arm_aks_rules`.
For the resources the modules write (managed clusters, public IPs) it also answers like the real services: 409
``InvalidResourceLocation`` for a PUT in another region; ``If-Match`` / ``If-None-Match`` preconditions (412) against
the cluster's ``eTag`` / the public IP's ``etag``; a write while an operation on the resource runs, 409
``OperationNotAllowed`` (AKS) or 429 ``AnotherOperationInProgress`` (network RP); enum values the network RP cannot
deserialize, 400 ``InvalidRequestFormat`` (:func:`tests.lab.arm_network.check_public_ip_enums`).

Lab routes (never logged, no ARM token needed):
  GET  /_lab/identity?api-version=2019-08-01&resource=R   token endpoint (header X-IDENTITY-HEADER)
  GET  /_lab/requests                                   request log [{method, path, query, body, status}]
  POST /_lab/reset                                      default state, empty log, no faults
  POST /_lab/faults                                     {"match": {"method", "path_contains"}, "status", "retry_after",
                                                         "count", "code", "message"} or {"match", "operation_fails": {code, message}}
  GET  /_lab/faults, DELETE /_lab/faults                list / clear pending faults
  GET  /_lab/azure?id=ID                                one stored resource (child resources too)
  POST /_lab/azure                                      {"id", "body"} add/replace, {"id", "patch"} JSON merge patch,
                                                        {"id", "delete": true}: any resource by id (see arm_network.NodeNetworkMixin)
  GET, POST /_lab/settings                              {"lro_polls", "lro_complete_after"}: LRO speed until the next reset

Usage::

    sim = ArmSimulator(kube_url=..., kube_ca_pem=..., kube_token=...)
    url = sim.start(certs["cert"], certs["key"])
    env IDENTITY_ENDPOINT = url + "/_lab/identity", IDENTITY_HEADER = sim.identity_header
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

from . import arm_aks_rules as rules
from . import arm_network as net
from .arm_common import ArmError, bad_request, build_id, check_resource_name, new_etag, parse_cidr, parse_resource_id, stable_hex, stable_uuid, usable_addresses

CONTAINER_SERVICE = "Microsoft.ContainerService"
MC_TYPE = f"{CONTAINER_SERVICE}/managedClusters"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT_ID = stable_uuid("aksnet-lab-tenant")
DEFAULT_LOCATION = "westeurope"
LAB_RG, LAB_VNET, LAB_CLUSTER = "lab-rg", "lab-vnet", "lab-aks"
IDENTITY_API_VERSION = "2019-08-01"
TOKEN_LIFETIME = 24 * 3600
_API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-privatepreview)?$")
_NOT_FOUND_HINT = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Fault:
    """One injected fault, consumed per matching request (status faults) or per matching LRO (operation_fails)."""

    id: str
    method: Optional[str]
    path_contains: Optional[str]
    remaining: int
    status: Optional[int] = None
    retry_after: Optional[int] = None
    code: Optional[str] = None
    message: Optional[str] = None
    operation_fails: Optional[dict[str, Any]] = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path_contains and self.path_contains.lower() not in path.lower())

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id, "match": {"method": self.method, "path_contains": self.path_contains}, "count": self.remaining,
            "status": self.status, "retry_after": self.retry_after, "code": self.code, "message": self.message,
            "operation_fails": self.operation_fails,
        }


@dataclass
class Operation:
    """An ARM long-running operation, answered at .../locations/{loc}/operations/{id}."""

    id: str
    namespace: str
    location: str
    resource_key: str
    kind: str  # create | update | delete
    on_success: Callable[[], None]
    on_failure: Callable[[dict[str, Any]], None]
    fail_error: Optional[dict[str, Any]] = None
    started: float = field(default_factory=time.monotonic)
    start_time: str = field(default_factory=_now_iso)
    end_time: Optional[str] = None
    polls: int = 0
    status: str = "InProgress"
    error: Optional[dict[str, Any]] = None
    result: Any = None  # body of a POST action's final answer (effectiveRouteTable, ...)

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.id, "status": self.status, "startTime": self.start_time}
        if self.end_time:
            doc["endTime"] = self.end_time
        if self.error:
            doc["error"] = self.error
        return doc


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ArmSimulator(net.NodeNetworkMixin):
    """Thread-safe in-memory ARM with an HTTPS front end (see the module docstring)."""

    def __init__(
        self,
        *,
        kube_url: str,
        kube_ca_pem: str,
        kube_token: str,
        subscription_id: str = DEFAULT_SUBSCRIPTION,
        lro_polls: int = 1,
        retry_after: int = 1,
        lro_complete_after: Optional[float] = 5.0,
        page_size: int = 100,
        with_cluster: bool = True,
    ) -> None:
        if retry_after < 1:
            raise ValueError("retry_after must be >= 1: azure-core treats Retry-After: 0 as absent and then waits 30 s")
        self.kube_url = kube_url
        self.kube_ca_pem = kube_ca_pem
        self.kube_token = kube_token
        self.subscription_id = subscription_id
        self.lro_polls = lro_polls
        self.retry_after = retry_after
        self.lro_complete_after = lro_complete_after
        self.page_size = page_size
        self.with_cluster = with_cluster  # False: lab-rg and lab-vnet only, for a demo that provisions the cluster itself
        self._default_lro = (lro_polls, lro_complete_after)  # restored by reset(); changed per test by POST /_lab/settings
        self.identity_header = secrets.token_urlsafe(24)
        self.base_url = ""
        self._lock = threading.RLock()
        self._tokens: dict[str, tuple[float, str]] = {}
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        # called (lock held) with a managed cluster whose create/update finished: the lab's add-on manager
        self.cluster_hooks: list[Callable[[dict[str, Any]], None]] = []
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def start(self, certfile: str, keyfile: str, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve HTTPS on ``host:port`` (0 = any free port) in a daemon thread; returns the base URL."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        server = _Server((host, port), _Handler)
        server.sim = self
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        bound_host, bound_port = server.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.base_url = f"https://{shown}:{bound_port}"
        self._thread = threading.Thread(target=server.serve_forever, name="arm-simulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Back to the default state: lab-rg, lab-vnet, lab-aks and its node resource group; empty log, no faults."""
        with self._lock:
            self.lro_polls, self.lro_complete_after = self._default_lro
            self._groups: dict[str, dict[str, Any]] = {}
            self._resources: dict[str, dict[str, Any]] = {}
            self._ipconfigs: dict[str, dict[str, list[str]]] = {}  # subnet key -> owner key -> ipConfiguration ids
            self._operations: dict[str, Operation] = {}
            self._faults: list[Fault] = []
            self._log: list[dict[str, Any]] = []
            self._build_default_state()

    # ------------------------------------------------------------------ public state accessors

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def inject_fault(
        self,
        match: Optional[dict[str, Any]] = None,
        *,
        status: Optional[int] = None,
        retry_after: Optional[int] = None,
        count: int = 1,
        code: Optional[str] = None,
        message: Optional[str] = None,
        operation_fails: Optional[dict[str, Any]] = None,
    ) -> str:
        """Queue a fault for requests matching ``{"method", "path_contains"}``; returns its id."""
        if (status is None) == (operation_fails is None):
            raise ValueError("a fault needs exactly one of status or operation_fails")
        if status is not None and not 400 <= int(status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if operation_fails is not None and not {"code", "message"} <= set(operation_fails):
            raise ValueError("operation_fails needs code and message")
        if count < 1:
            raise ValueError("count must be >= 1")
        match = match or {}
        fault = Fault(
            id=uuid.uuid4().hex[:12], method=match.get("method"), path_contains=match.get("path_contains"), remaining=int(count),
            status=int(status) if status is not None else None, retry_after=retry_after, code=code, message=message,
            operation_fails=dict(operation_fails) if operation_fails else None,
        )
        with self._lock:
            self._faults.append(fault)
        return fault.id

    def get_resource(self, resource_id: str) -> Optional[dict[str, Any]]:
        """The stored resource as a GET would return it, or None."""
        with self._lock:
            res = self._resources.get(resource_id.lower())
            return self._render(res) if res else None

    def cluster_id(self, resource_group: str, name: str) -> str:
        return build_id(self.subscription_id, resource_group, CONTAINER_SERVICE, ["managedClusters"], [name])

    def cluster(self, resource_group: str, name: str) -> Optional[dict[str, Any]]:
        return self.get_resource(self.cluster_id(resource_group, name))

    def resource_group(self, name: str) -> Optional[dict[str, Any]]:
        with self._lock:
            group = self._groups.get(name.lower())
            return copy.deepcopy(group) if group else None

    def add_resource_group(self, name: str, location: str = DEFAULT_LOCATION, managed_by: Optional[str] = None) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._ensure_group(name, location, managed_by))

    def add_virtual_network(self, resource_group: str, name: str, prefixes: list[str], subnets: list[tuple[str, str]],
                            location: str = DEFAULT_LOCATION) -> dict[str, Any]:
        with self._lock:
            self._ensure_group(resource_group, location)
            vnet = net.virtual_network(self.subscription_id, resource_group, name, location, prefixes, subnets)
            self._resources[vnet["id"].lower()] = vnet
            return self._render(vnet)

    def add_cluster(self, resource_group: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a managed cluster directly (validated like a PUT, finished at once). Raises ArmError when invalid."""
        with self._lock:
            cluster_key = self.cluster_id(resource_group, name).lower()
            self._put_cluster(resource_group, name, body, start_operation=False)
            return self._render(self._resources[cluster_key])

    def subnet_used_ips(self, subnet_id: str) -> int:
        with self._lock:
            return sum(len(v) for v in self._ipconfigs.get(subnet_id.lower(), {}).values())

    # ------------------------------------------------------------------ default state

    def _build_default_state(self) -> None:
        sub = self.subscription_id
        self._ensure_group(LAB_RG, DEFAULT_LOCATION)
        vnet = net.virtual_network(sub, LAB_RG, LAB_VNET, DEFAULT_LOCATION, ["10.224.0.0/12"], [("aks-nodes", "10.224.0.0/16"), ("aks-pods", "10.225.0.0/16")])
        self._resources[vnet["id"].lower()] = vnet
        if not self.with_cluster:
            return
        nodes_subnet = f"{vnet['id']}/subnets/aks-nodes"
        body = {
            "location": DEFAULT_LOCATION,
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "kubernetesVersion": "1.33.3",
                "dnsPrefix": LAB_CLUSTER,
                "agentPoolProfiles": [{
                    "name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "maxPods": 250, "osType": "Linux", "mode": "System",
                    "type": "VirtualMachineScaleSets", "vnetSubnetID": nodes_subnet,
                }],
                "networkProfile": {
                    "networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16",
                    "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer", "loadBalancerSku": "standard", "networkPolicy": "none",
                    "networkDataplane": "azure",
                },
            },
        }
        self._put_cluster(LAB_RG, LAB_CLUSTER, body, start_operation=False, nsg_name="aks-agentpool-nsg")

    def _ensure_group(self, name: str, location: str, managed_by: Optional[str] = None) -> dict[str, Any]:
        key = name.lower()
        if key not in self._groups:
            group: dict[str, Any] = {
                "id": f"/subscriptions/{self.subscription_id}/resourceGroups/{name}",
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "properties": {"provisioningState": "Succeeded"},
            }
            if managed_by:
                group["managedBy"] = managed_by
            self._groups[key] = group
        return self._groups[key]

    # ------------------------------------------------------------------ HTTP entry point

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body_bytes: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = unquote(parts.path) or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self._tick()
            if path.lower().startswith("/_lab/") or path.lower() == "/_lab":
                return self._lab(method, path, query, headers, body_bytes)
            body = _parse_json(body_bytes)
            entry = {"method": method, "path": path, "query": query, "body": body if body is not _INVALID else None, "status": None}
            self._log.append(entry)
            try:
                response = self._arm(method, path, query, headers, body)
            except ArmError as err:
                response = Response(err.status, err.body(), dict(err.headers))
            entry["status"] = response.status
            return response

    def _arm(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Response:
        if path.rstrip("/").lower() == "/metadata/endpoints":
            return self._metadata(query)
        self._authenticate(headers)
        api_version = query.get("api-version")
        if not api_version:
            raise bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        if not _API_VERSION_RE.match(api_version):
            raise bad_request("InvalidApiVersionParameter", f"The api-version '{api_version}' is invalid. The supported versions are in the format YYYY-MM-DD.")
        self._status_fault(method, path)
        if body is _INVALID:
            raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: the body is not valid JSON.")
        return self._route(method, path, query, body, headers)

    # ------------------------------------------------------------------ auth, faults, lab routes

    def _issue_token(self, resource: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        expires_on = int(time.time()) + TOKEN_LIFETIME
        self._tokens[token] = (float(expires_on), resource)
        return {"access_token": token, "expires_on": str(expires_on), "resource": resource, "token_type": "Bearer",
                "client_id": stable_uuid("lab-identity")}

    def _accepted_audiences(self) -> set[str]:
        return {self.base_url.rstrip("/").lower(), "https://management.azure.com", "https://management.core.windows.net"}

    def _authenticate(self, headers: dict[str, str]) -> None:
        challenge = {"WWW-Authenticate": f'Bearer authorization_uri="{self.base_url}/_lab/identity", error="invalid_token"'}
        auth = headers.get("authorization")
        if not auth:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", headers=challenge)
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           headers=challenge)
        issued = self._tokens.get(token.strip())
        if issued is None:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", headers=challenge)
        expires_on, resource = issued
        if expires_on <= time.time():
            raise ArmError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.", headers=challenge)
        if resource.rstrip("/").lower() not in self._accepted_audiences():
            raise ArmError(401, "InvalidAuthenticationTokenAudience", f"The access token has been obtained for wrong audience or resource '{resource}'.",
                           headers=challenge)

    def _status_fault(self, method: str, path: str) -> None:
        for fault in self._faults:
            if fault.status is None or not fault.matches(method, path):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            default_code = {429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
                            504: "GatewayTimeout", 409: "Conflict"}.get(fault.status, "InjectedFault")
            default_message = {
                429: "The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:01:00.",
                500: "An internal server error occurred. Please try again later.",
            }.get(fault.status, f"Injected fault with status {fault.status}.")
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            raise ArmError(fault.status, fault.code or default_code, fault.message or default_message, headers=extra)

    def _operation_fault(self, method: str, path: str) -> Optional[dict[str, Any]]:
        for fault in self._faults:
            if fault.operation_fails is None or not fault.matches(method, path):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return dict(fault.operation_fails)
        return None

    def _lab(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body_bytes: bytes) -> Response:
        route = path.rstrip("/").lower()
        if route == "/_lab/identity" and method == "GET":
            secret = headers.get("x-identity-header")
            if secret is None:
                return Response(400, {"error": {"code": "BadRequest", "message": "The X-IDENTITY-HEADER header is required."}})
            if not secrets.compare_digest(secret, self.identity_header):
                return Response(401, {"error": {"code": "Unauthorized", "message": "The X-IDENTITY-HEADER header does not match."}})
            if query.get("api-version") != IDENTITY_API_VERSION:
                return Response(400, {"error": {"code": "BadRequest", "message": f"api-version must be {IDENTITY_API_VERSION}."}})
            if not query.get("resource"):
                return Response(400, {"error": {"code": "BadRequest", "message": "The resource query parameter is required."}})
            return Response(200, self._issue_token(query["resource"]))
        if route == "/_lab/requests" and method == "GET":
            return Response(200, copy.deepcopy(self._log))
        if route == "/_lab/settings" and method in ("GET", "POST"):
            # {"lro_polls": N, "lro_complete_after": seconds or null}: how slow long-running operations are (until reset).
            spec = _parse_json(body_bytes) if method == "POST" else {}
            if not isinstance(spec, dict) or not set(spec) <= {"lro_polls", "lro_complete_after"}:
                return Response(400, {"error": {"code": "BadRequest", "message": "settings: a JSON object with lro_polls and/or lro_complete_after."}})
            if "lro_polls" in spec:
                self.lro_polls = int(spec["lro_polls"])
            if "lro_complete_after" in spec:
                self.lro_complete_after = None if spec["lro_complete_after"] is None else float(spec["lro_complete_after"])
            return Response(200, {"lro_polls": self.lro_polls, "lro_complete_after": self.lro_complete_after})
        if route == "/_lab/reset" and method == "POST":
            self.reset()
            return Response(200, {"reset": True})
        if route == "/_lab/azure":
            return self._lab_azure(method, query, _parse_json(body_bytes))
        if route == "/_lab/faults":
            if method == "GET":
                return Response(200, [f.describe() for f in self._faults])
            if method == "DELETE":
                self._faults.clear()
                return Response(204)
            if method == "POST":
                spec = _parse_json(body_bytes)
                if not isinstance(spec, dict):
                    return Response(400, {"error": {"code": "BadRequest", "message": "The fault must be a JSON object."}})
                try:
                    fault_id = self.inject_fault(
                        spec.get("match"), status=spec.get("status"), retry_after=spec.get("retry_after"), count=int(spec.get("count", 1)),
                        code=spec.get("code"), message=spec.get("message"), operation_fails=spec.get("operation_fails"),
                    )
                except (ValueError, TypeError) as exc:
                    return Response(400, {"error": {"code": "BadRequest", "message": str(exc)}})
                return Response(201, {"id": fault_id})
        return Response(404, {"error": {"code": "NotFound", "message": f"No lab route {method} {path}."}})

    def _metadata(self, query: dict[str, str]) -> Response:
        if not query.get("api-version"):
            raise bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
        base = self.base_url + "/"
        if query["api-version"] == "2015-01-01":
            return Response(200, {"galleryEndpoint": "", "graphEndpoint": "https://graph.windows.net/", "portalEndpoint": "https://portal.azure.com/",
                                  "authentication": {"loginEndpoint": f"{self.base_url}/_lab/", "audiences": [base]}})
        return Response(200, [{
            "name": "AzureLabCloud", "portal": "https://portal.azure.com", "resourceManager": base,
            "authentication": {"loginEndpoint": f"{self.base_url}/_lab/", "audiences": [base], "tenant": "common", "identityProvider": "AAD"},
            "graph": "https://graph.windows.net/", "graphAudience": "https://graph.windows.net/", "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "activeDirectoryDataLake": "https://datalake.azure.net/", "batch": "https://batch.core.windows.net/", "media": "https://rest.media.azure.net",
            "sqlManagement": "https://management.core.windows.net:8443/", "gallery": "", "vmImageAliasDoc": "",
            "suffixes": {"acrLoginServer": "azurecr.io", "keyVaultDns": "vault.azure.net", "storage": "core.windows.net",
                         "sqlServerHostname": "database.windows.net"},
        }])

    # ------------------------------------------------------------------ operations

    def _tick(self) -> None:
        """Finish operations that have run longer than lro_complete_after (for clients that do not poll)."""
        if self.lro_complete_after is None:
            return
        now = time.monotonic()
        for op in list(self._operations.values()):
            if op.status == "InProgress" and now - op.started >= self.lro_complete_after:
                self._finish(op)

    def _finish(self, op: Operation) -> None:
        op.end_time = _now_iso()
        if op.fail_error:
            op.status = "Failed"
            op.error = {"code": op.fail_error["code"], "message": op.fail_error["message"]}
            op.on_failure(op.error)
        else:
            op.status = "Succeeded"
            op.on_success()

    def _start_operation(self, namespace: str, location: str, resource_key: str, kind: str, method: str, path: str,
                         on_success: Callable[[], None], on_failure: Callable[[dict[str, Any]], None]) -> Operation:
        op = Operation(id=str(uuid.uuid4()), namespace=namespace, location=location, resource_key=resource_key, kind=kind,
                       on_success=on_success, on_failure=on_failure, fail_error=self._operation_fault(method, path))
        self._operations[op.id] = op
        return op

    def _lro_headers(self, op: Operation, api_version: str, with_location: bool = False) -> dict[str, str]:
        base = f"{self.base_url}/subscriptions/{self.subscription_id}/providers/{op.namespace}/locations/{op.location}"
        headers = {"Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={api_version}", "Retry-After": str(self.retry_after)}
        if with_location:
            headers["Location"] = f"{base}/operationresults/{op.id}?api-version={api_version}"
        return headers

    def _in_progress(self, resource_key: str) -> Optional[Operation]:
        for op in self._operations.values():
            if op.resource_key == resource_key and op.status == "InProgress":
                return op
        return None

    def _operation_status(self, method: str, kind: str, op_id: str, query: dict[str, str]) -> Response:
        if method != "GET":
            raise _method_not_allowed(method)
        op = self._operations.get(op_id)
        if op is None:
            raise ArmError(404, "NotFound", f"Operation {op_id} was not found.")
        if op.status == "InProgress":
            op.polls += 1
            if op.polls > self.lro_polls:
                self._finish(op)
        retry = {"Retry-After": str(self.retry_after)} if op.status == "InProgress" else {}
        if kind == "operations":
            return Response(200, op.document(), retry)
        # operationresults: 202 while running; afterwards the resource (create/update) or 204 (delete)
        if op.status == "InProgress":
            location = f"{self.base_url}/subscriptions/{self.subscription_id}/providers/{op.namespace}/locations/{op.location}"
            return Response(202, None, {**retry, "Location": f"{location}/operationresults/{op.id}?api-version={query.get('api-version', '')}"})
        if op.status != "Succeeded":
            raise ArmError(400, op.error["code"] if op.error else "Failed", op.error["message"] if op.error else "The operation failed.")
        if op.result is not None:
            return Response(200, copy.deepcopy(op.result))
        res = self._resources.get(op.resource_key)
        return Response(200, self._render(res)) if res and op.kind != "delete" else Response(204)

    # ------------------------------------------------------------------ routing

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Optional[dict[str, str]] = None) -> Response:
        segs = [s for s in path.split("/") if s]
        low = [s.lower() for s in segs]
        if low == ["subscriptions"] and method == "GET":
            return Response(200, {"value": [self._subscription()]})
        if len(low) < 2 or low[0] != "subscriptions":
            raise ArmError(404, "NotFound", f"The requested path {path} is not served by Azure Resource Manager.")
        if low[1] != self.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{segs[1]}' could not be found.")
        rest, rest_low = segs[2:], low[2:]
        if not rest:
            if method != "GET":
                raise _method_not_allowed(method)
            return Response(200, self._subscription())
        if rest_low[0] == "providers":
            return self._subscription_provider(method, rest, rest_low, query)
        if rest_low[0] == "resourcegroups":
            if len(rest) == 1:
                if method != "GET":
                    raise _method_not_allowed(method)
                return self._page(path, query, [copy.deepcopy(g) for g in self._groups.values()])
            rg = rest[1]
            if len(rest) == 2:
                return self._resource_group(method, rg, body)
            group = self._groups.get(rg.lower())
            if group is None:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            if rest_low[2] == "resources" and len(rest) == 3 and method == "GET":
                prefix = f"/subscriptions/{self.subscription_id}/resourcegroups/{rg.lower()}/providers/"
                items = [self._summary(r) for k, r in self._resources.items() if k.startswith(prefix)]
                return self._page(path, query, items)
            if rest_low[2] == "providers" and len(rest) >= 5:
                return self._provider_resource(method, group["name"], rest[3:], query, body, path, headers or {})
        raise ArmError(404, "NotFound", f"The requested path {path} is not served by Azure Resource Manager.")

    def _subscription(self) -> dict[str, Any]:
        return {"id": f"/subscriptions/{self.subscription_id}", "subscriptionId": self.subscription_id, "tenantId": TENANT_ID,
                "displayName": "aksnet lab", "state": "Enabled"}

    def _subscription_provider(self, method: str, rest: list[str], low: list[str], query: dict[str, str]) -> Response:
        # providers/{ns}/locations/{loc}/operations|operationresults/{id}
        if len(low) == 6 and low[2] == "locations" and low[4] in ("operations", "operationresults"):
            return self._operation_status(method, low[4], rest[5], query)
        if len(low) == 3 and method == "GET":
            full_type = f"{rest[1]}/{rest[2]}".lower()
            items = [self._render(r) for r in self._resources.values() if r["type"].lower() == full_type]
            return self._page("/subscriptions/" + self.subscription_id + "/" + "/".join(rest), query, items)
        raise ArmError(404, "NotFound", f"The requested path /{'/'.join(rest)} is not served by Azure Resource Manager.")

    def _resource_group(self, method: str, name: str, body: Any) -> Response:
        group = self._groups.get(name.lower())
        if method in ("GET", "HEAD"):
            if group is None:
                if method == "HEAD":
                    return Response(404)
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
            return Response(200, copy.deepcopy(group)) if method == "GET" else Response(204)
        if method == "PUT":
            if not isinstance(body, dict) or not body.get("location"):
                raise bad_request("LocationRequired", "The location property is required for this definition.")
            created = group is None
            group = self._ensure_group(name, body["location"])
            if body.get("tags") is not None:
                group["tags"] = dict(body["tags"])
            return Response(201 if created else 200, copy.deepcopy(group))
        raise _method_not_allowed(method)

    def _provider_resource(self, method: str, rg: str, tail: list[str], query: dict[str, str], body: Any, path: str,
                           headers: Optional[dict[str, str]] = None) -> Response:
        namespace, rtype = tail[0], tail[1]
        full = f"{namespace}/{rtype}".lower()
        api_version = query["api-version"]
        if len(tail) == 2:
            if method != "GET":
                raise _method_not_allowed(method)
            prefix = f"/subscriptions/{self.subscription_id}/resourcegroups/{rg.lower()}/providers/{full}/"
            items = [self._render(r) for k, r in self._resources.items() if k.startswith(prefix) and k.count("/") == prefix.count("/")]
            return self._page(path, query, items)
        name, extra = tail[2], tail[3:]
        if method == "PUT":
            check_resource_name(full, name)
            if len(extra) == 2:
                check_resource_name(f"{full}/{extra[0]}", extra[1])
        key = build_id(self.subscription_id, rg, namespace, [rtype], [name]).lower()
        if full == MC_TYPE.lower():
            return self._managed_cluster(method, rg, name, key, extra, query, body, path, api_version, headers or {})
        if full == "microsoft.network/publicipaddresses" and not extra:
            return self._public_ip(method, rg, name, key, body, path, api_version, headers or {})
        if not extra:
            return self._generic(method, rg, namespace, rtype, name, key, body)
        res = self._resources.get(key)
        if res is None:
            raise _not_found(f"{namespace}/{rtype}/{name}", rg)
        if full == "microsoft.network/virtualnetworks" and [e.lower() for e in extra] == ["usages"] and method == "GET":
            return self._page(path, query, self._vnet_usages(res))
        if full == "microsoft.compute/virtualmachinescalesets":
            return self._vmss_network(method, rg, res, extra, query, path)
        if full == "microsoft.network/networkinterfaces" and len(extra) == 1 and extra[0].lower() in ("effectiveroutetable", "effectivenetworksecuritygroups"):
            return self._nic_action(method, res, extra[0].lower(), api_version)
        collections = {c.lower(): c for c in net.CHILD_COLLECTIONS.get(rtype.lower(), ())}
        if method == "GET" and extra[0].lower() in collections and len(extra) in (1, 2):
            children = self._render(res)["properties"].get(collections[extra[0].lower()], [])
            if len(extra) == 1:
                return self._page(path, query, children)
            for child in children:
                if child["name"].lower() == extra[1].lower():
                    return Response(200, child)
            raise _not_found(f"{namespace}/{rtype}/{name}/{collections[extra[0].lower()]}/{extra[1]}", rg)
        raise ArmError(404, "NotFound", f"The requested path {path} is not served by Azure Resource Manager.")

    def _page(self, path: str, query: dict[str, str], items: list[Any]) -> Response:
        try:
            skip = max(int(query.get("$skiptoken", "0")), 0)
        except ValueError as exc:
            raise bad_request("InvalidSkipToken", "The $skiptoken value is invalid.") from exc
        page: dict[str, Any] = {"value": items[skip:skip + self.page_size]}
        if skip + self.page_size < len(items):
            page["nextLink"] = f"{self.base_url}{path}?api-version={query.get('api-version', '')}&$skiptoken={skip + self.page_size}"
        return Response(200, page)

    # ------------------------------------------------------------------ rendering

    def _render(self, res: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(res)
        if out["type"].lower() == "microsoft.network/virtualnetworks":
            for sub in out["properties"].get("subnets", []):
                ids = [i for owner in self._ipconfigs.get(sub["id"].lower(), {}).values() for i in owner]
                if ids:
                    sub["properties"]["ipConfigurations"] = [{"id": i} for i in ids]
        self._network_backrefs(out)
        return out

    def _summary(self, res: dict[str, Any]) -> dict[str, Any]:
        keep = ("id", "name", "type", "location", "tags", "sku", "kind", "managedBy", "identity")
        return {k: copy.deepcopy(res[k]) for k in keep if k in res}

    # ------------------------------------------------------------------ generic resources

    def _generic(self, method: str, rg: str, namespace: str, rtype: str, name: str, key: str, body: Any) -> Response:
        """Any other resource type: stored as given (PUT 201/200), GET, DELETE (200/204). Later work specialises types."""
        res = self._resources.get(key)
        if method == "GET":
            if res is None:
                raise _not_found(f"{namespace}/{rtype}/{name}", rg)
            return Response(200, self._render(res))
        if method == "PUT":
            if not isinstance(body, dict):
                raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: a JSON object is required.")
            stored = copy.deepcopy(body)
            stored.update({"id": build_id(self.subscription_id, rg, namespace, [rtype], [name]), "name": name, "type": f"{namespace}/{rtype}"})
            stored.setdefault("location", self._groups[rg.lower()]["location"])
            stored.setdefault("properties", {})["provisioningState"] = "Succeeded"
            if namespace.lower() == "microsoft.network":
                stored["etag"] = new_etag()
            self._resources[key] = stored
            return Response(201 if res is None else 200, self._render(stored))
        if method == "DELETE":
            if res is None:
                return Response(204)
            del self._resources[key]
            return Response(200)
        raise _method_not_allowed(method)

    # ------------------------------------------------------------------ Microsoft.Network

    def _vnet_usages(self, vnet: dict[str, Any]) -> list[dict[str, Any]]:
        usages = []
        for sub in vnet["properties"].get("subnets", []):
            cidr = parse_cidr(sub["properties"].get("addressPrefix"))
            usages.append({
                "id": sub["id"], "currentValue": sum(len(v) for v in self._ipconfigs.get(sub["id"].lower(), {}).values()),
                "limit": usable_addresses(cidr) if cidr else 0, "unit": "Count",
                "name": {"value": "Subnet size and usage", "localizedValue": "Subnet size and usage"},
            })
        return usages

    def _subnet_view(self, subnet_id: str, exclude_owner: str) -> Optional[rules.SubnetView]:
        parsed = parse_resource_id(subnet_id)
        if parsed is None or len(parsed.names) != 2:
            return None
        vnet_key = build_id(parsed.subscription, parsed.resource_group, parsed.namespace, parsed.types[:1], parsed.names[:1]).lower()
        vnet = self._resources.get(vnet_key)
        if vnet is None or parsed.subscription.lower() != self.subscription_id.lower():
            return None
        subnets = vnet["properties"].get("subnets", [])
        match = next((s for s in subnets if s["name"].lower() == parsed.names[1].lower()), None)
        if match is None:
            return None
        used = sum(len(ids) for owner, ids in self._ipconfigs.get(match["id"].lower(), {}).items() if owner != exclude_owner)
        return rules.SubnetView(
            id=match["id"], name=match["name"], address_prefix=match["properties"].get("addressPrefix", ""), vnet_name=vnet["name"],
            vnet_address_prefixes=list(vnet["properties"]["addressSpace"]["addressPrefixes"]),
            vnet_subnets=[(s["name"], s["properties"].get("addressPrefix", "")) for s in subnets], used_ips=used,
        )

    def _taken_public_ips(self) -> set[str]:
        return {r["properties"].get("ipAddress") for r in self._resources.values()
                if r["type"].lower() == "microsoft.network/publicipaddresses" and r.get("properties", {}).get("ipAddress")}

    def _create_public_ip(self, rg: str, name: str, location: str, body: dict[str, Any]) -> dict[str, Any]:
        rid = build_id(self.subscription_id, rg, net.NETWORK, ["publicIPAddresses"], [name])
        existing = self._resources.get(rid.lower())
        address = existing["properties"]["ipAddress"] if existing else net.allocate_public_ip(rid, self._taken_public_ips())
        pip = net.public_ip(self.subscription_id, rg, name, location, body, address)
        if existing and existing["properties"].get("ipConfiguration"):
            pip["properties"]["ipConfiguration"] = existing["properties"]["ipConfiguration"]
        self._resources[rid.lower()] = pip
        return pip

    def _public_ip(self, method: str, rg: str, name: str, key: str, body: Any, path: str, api_version: str,
                   headers: Optional[dict[str, str]] = None) -> Response:
        res = self._resources.get(key)
        if method == "GET":
            if res is None:
                raise _not_found(f"Microsoft.Network/publicIPAddresses/{name}", rg)
            return Response(200, self._render(res))
        if method == "PUT":
            if not isinstance(body, dict):
                raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: a JSON object is required.")
            location = body.get("location")
            if not location:
                raise bad_request("LocationRequired", "The location property is required for this definition.")
            if res is not None:
                _check_location(name, rg, res["location"], location)  # ARM, before the resource provider sees the request
            net.check_public_ip_enums(body)  # the network RP deserializes the body first
        if method in ("PUT", "DELETE") and (res is not None or method == "PUT"):
            _check_preconditions(headers or {}, res.get("etag") if res else None, "PreconditionFailed", f"public IP address {name}")
        running = self._in_progress(key) if method in ("PUT", "DELETE") else None
        if running is not None:
            raise self._network_busy(running, api_version)
        if method == "PUT":
            sku = ((body.get("sku") or {}).get("name") or "Standard").lower()
            method_ = ((body.get("properties") or {}).get("publicIPAllocationMethod") or "Static").lower()
            if sku == "standard" and method_ != "static":
                raise bad_request("StandardSkuPublicIPAddressesCanOnlyHaveStaticAllocation",
                                  "Standard sku publicIp addresses must have publicIPAllocationMethod set to Static.", "publicIPAllocationMethod")
            created = res is None
            pip = self._create_public_ip(rg, name, location, body)
            pip["properties"]["provisioningState"] = "Updating"

            def done() -> None:
                pip["properties"]["provisioningState"] = "Succeeded"

            def failed(_err: dict[str, Any]) -> None:
                pip["properties"]["provisioningState"] = "Failed"

            op = self._start_operation(net.NETWORK, location, key, "create" if created else "update", method, path, done, failed)
            return Response(201 if created else 200, self._render(pip), self._lro_headers(op, api_version))
        if method == "DELETE":
            if res is None:
                return Response(204)
            users = res["properties"].get("ipConfiguration")
            if users:
                raise bad_request("PublicIPAddressInUse", f"Public IP address {res['id']} can not be deleted since it is still allocated to resource "
                                  f"{users['id']}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.")

            def removed() -> None:
                self._resources.pop(key, None)

            def failed_delete(_err: dict[str, Any]) -> None:
                res["properties"]["provisioningState"] = "Failed"

            res["properties"]["provisioningState"] = "Deleting"
            op = self._start_operation(net.NETWORK, res["location"], key, "delete", method, path, removed, failed_delete)
            return Response(202, None, self._lro_headers(op, api_version, with_location=True))
        raise _method_not_allowed(method)

    def _network_busy(self, running: Operation, api_version: str) -> ArmError:
        """The network RP's answer to a write while an operation on the resource runs: 429 AnotherOperationInProgress with
        Retry-After (the message as in Azure/bicep issue 5132; 429 as Microsoft describes the network RP's "resource in an
        updating state" answer in Azure/azure-libraries-for-net issue 1001)."""
        status = f"{self.base_url}/subscriptions/{self.subscription_id}/providers/{running.namespace}/locations/{running.location}" \
                 f"/operations/{running.id}?api-version={api_version}"
        return ArmError(429, "AnotherOperationInProgress",
                        f"Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: {status}.",
                        headers={"Retry-After": str(self.retry_after)})

    # ------------------------------------------------------------------ Microsoft.ContainerService

    def _managed_cluster(self, method: str, rg: str, name: str, key: str, extra: list[str], query: dict[str, str], body: Any, path: str,
                         api_version: str, headers: Optional[dict[str, str]] = None) -> Response:
        res = self._resources.get(key)
        if not extra:
            if method == "GET":
                if res is None:
                    raise _not_found(f"{MC_TYPE}/{name}", rg)
                return Response(200, self._render(res))
            if method == "PUT":
                return self._put_cluster(rg, name, body, start_operation=True, path=path, api_version=api_version, headers=headers)
            if method == "PATCH":
                return self._patch_cluster_tags(rg, name, key, body, path, api_version, headers)
            if method == "DELETE":
                return self._delete_cluster(rg, name, key, path, api_version, headers)
            raise _method_not_allowed(method)
        if res is None:
            raise _not_found(f"{MC_TYPE}/{name}", rg)
        action = extra[0].lower()
        if method == "POST" and len(extra) == 1 and action in ("listclusterusercredential", "listclusteradmincredential"):
            admin = action == "listclusteradmincredential"
            if admin and res["properties"].get("disableLocalAccounts"):
                raise bad_request("BadRequest", "Getting static credential is not allowed because this cluster is set to disable local accounts.")
            kind = "clusterAdmin" if admin else "clusterUser"
            value = base64.b64encode(self._kubeconfig(rg, res["name"], admin).encode()).decode()
            return Response(200, {"kubeconfigs": [{"name": kind, "value": value}]})
        if method == "GET" and action == "agentpools" and len(extra) in (1, 2):
            pools = [self._agent_pool(res, p) for p in res["properties"].get("agentPoolProfiles", [])]
            if len(extra) == 1:
                return self._page(path, query, pools)
            for pool in pools:
                if pool["name"].lower() == extra[1].lower():
                    return Response(200, pool)
            raise _not_found(f"{MC_TYPE}/{name}/agentPools/{extra[1]}", rg)
        raise ArmError(404, "NotFound", f"The requested path {path} is not served by Azure Resource Manager.")

    def _agent_pool(self, cluster: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
        props = {k: copy.deepcopy(v) for k, v in profile.items() if k != "name"}
        return {"id": f"{cluster['id']}/agentPools/{profile['name']}", "name": profile["name"], "type": f"{MC_TYPE}/agentPools", "properties": props}

    def _kubeconfig(self, rg: str, name: str, admin: bool) -> str:
        user = f"{'clusterAdmin' if admin else 'clusterUser'}_{rg}_{name}"
        context = f"{name}-admin" if admin else name
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"certificate-authority-data": base64.b64encode(self.kube_ca_pem.encode()).decode(),
                                                    "server": self.kube_url}}],
            "contexts": [{"name": context, "context": {"cluster": name, "user": user}}],
            "current-context": context,
            "preferences": {},
            "users": [{"name": user, "user": {"token": self.kube_token}}],
        }
        try:
            import yaml

            return yaml.safe_dump(config, sort_keys=False)
        except ImportError:  # JSON is valid YAML
            return json.dumps(config, indent=2)

    def _put_cluster(self, rg: str, name: str, body: Any, *, start_operation: bool, path: str = "", api_version: str = "2026-08-01",
                     nsg_name: Optional[str] = None, headers: Optional[dict[str, str]] = None) -> Response:
        if not isinstance(body, dict):
            raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: a JSON object is required.")
        group = self._groups.get(rg.lower())
        if group is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        rg = group["name"]
        key = self.cluster_id(rg, name).lower()
        location = body.get("location")
        if not location:
            raise bad_request("LocationRequired", "The location property is required for this definition.")
        existing = self._resources.get(key)
        if existing is not None:
            _check_location(name, rg, existing["location"], location)  # ARM, before AKS sees the request
        _check_preconditions(headers or {}, existing.get("eTag") if existing else None, AKS_PRECONDITION_FAILED, f"managed cluster {name}")
        running = self._in_progress(key)
        if running is not None:
            raise _aks_busy(running)
        if not isinstance(body.get("properties") or {}, dict):
            raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: properties must be an object.")
        old_props = existing["properties"] if existing else None
        props = rules.apply_defaults(body.get("properties") or {}, old_props)
        resource = {k: body[k] for k in ("identity", "sku") if body.get(k) is not None}
        ctx = rules.RuleContext(desired=props, existing=old_props, resolve_subnet=lambda sid: self._subnet_view(sid, key), resource=resource)
        rules.validate(ctx)

        cluster_id = self.cluster_id(rg, name)
        loc = str(location).replace(" ", "").lower()
        node_rg = (old_props or {}).get("nodeResourceGroup") or props.get("nodeResourceGroup") or f"MC_{rg}_{name}_{loc}"
        dns_prefix = props.get("dnsPrefix") or (old_props or {}).get("dnsPrefix") or f"{name}-{rg}-{self.subscription_id[:6]}"[:54]
        suffix = stable_hex(cluster_id)
        props.update({
            "provisioningState": "Updating" if existing else "Creating",
            "powerState": {"code": "Running"},
            "dnsPrefix": dns_prefix,
            "fqdn": f"{dns_prefix}-{suffix}.hcp.{loc}.azmk8s.io",
            "azurePortalFQDN": f"{dns_prefix}-{suffix}.portal.hcp.{loc}.azmk8s.io",
            "nodeResourceGroup": node_rg,
            "maxAgentPools": 100,
        })
        props.setdefault("enableRBAC", True)
        props.setdefault("addonProfiles", {})
        props.setdefault("supportPlan", "KubernetesOfficial")
        for pool in props["agentPoolProfiles"]:
            pool["provisioningState"] = props["provisioningState"]
            pool["powerState"] = {"code": "Running"}
            pool["eTag"] = str(uuid.uuid4())  # a cluster-level write changes the cluster's and every pool's eTag (use-etags.md)
            pool.setdefault("nodeImageVersion", "AKSUbuntu-2204gen2containerd-202608.01.0")
        identity = copy.deepcopy(body.get("identity") or (existing or {}).get("identity") or {"type": "SystemAssigned"})
        if str(identity.get("type", "")).lower() == "systemassigned":
            identity.update({"principalId": stable_uuid(cluster_id + "/identity"), "tenantId": TENANT_ID})
        cluster: dict[str, Any] = {
            "id": cluster_id, "name": name, "type": MC_TYPE, "location": location,
            "sku": copy.deepcopy(body.get("sku") or (existing or {}).get("sku") or {"name": "Base", "tier": "Free"}),
            "identity": identity, "properties": props, "eTag": str(uuid.uuid4()),
        }
        tags = body.get("tags") if "tags" in body else (existing or {}).get("tags")
        if tags is not None:
            cluster["tags"] = dict(tags)
        self._resources[key] = cluster
        self._ensure_group(node_rg, location, managed_by=cluster_id)
        nsg = nsg_name or f"aks-agentpool-{int(stable_hex(cluster_id), 16) % 10**8:08d}-nsg"

        def provisioned() -> None:
            current = self._resources.get(key)
            if current is None:
                return
            current["properties"]["provisioningState"] = "Succeeded"
            for pool in current["properties"]["agentPoolProfiles"]:
                pool["provisioningState"] = "Succeeded"
            self._build_cluster_infra(current, nsg)
            for hook in self.cluster_hooks:
                hook(current)

        def failed(error: dict[str, Any]) -> None:
            current = self._resources.get(key)
            if current is not None:
                current["properties"]["provisioningState"] = "Failed"
                for pool in current["properties"]["agentPoolProfiles"]:
                    pool["provisioningState"] = "Failed"

        if not start_operation:
            provisioned()
            return Response(201 if existing is None else 200, self._render(cluster))
        op = self._start_operation(CONTAINER_SERVICE, loc, key, "update" if existing else "create", "PUT", path, provisioned, failed)
        return Response(200 if existing else 201, self._render(cluster), self._lro_headers(op, api_version))

    def _build_cluster_infra(self, cluster: dict[str, Any], nsg_name: str) -> None:
        """What AKS puts in the node resource group, and the node (and pod) IPs in the subnets."""
        props = cluster["properties"]
        node_rg, location, sub = props["nodeResourceGroup"], cluster["location"], self.subscription_id
        owner = cluster["id"].lower()
        net_profile = props["networkProfile"]
        nsg_id = build_id(sub, node_rg, net.NETWORK, ["networkSecurityGroups"], [nsg_name]).lower()
        if nsg_id not in self._resources:
            nsg = net.network_security_group(sub, node_rg, nsg_name, location)
            self._resources[nsg["id"].lower()] = nsg
        lb_key = build_id(sub, node_rg, net.NETWORK, ["loadBalancers"], ["kubernetes"]).lower()
        if str(net_profile.get("outboundType", "")).lower() == "loadbalancer" and lb_key not in self._resources:
            pip_name = stable_uuid(cluster["id"] + "/outbound")
            pip = self._create_public_ip(node_rg, pip_name, location, {"location": location, "sku": {"name": "Standard"},
                                                                       "tags": {"aks-managed-type": "aks-slb-managed-outbound-ip"}})
            lb = net.load_balancer(sub, node_rg, "kubernetes", location, pip["id"])
            pip["properties"]["ipConfiguration"] = {"id": lb["properties"]["frontendIPConfigurations"][0]["id"]}
            self._resources[lb_key] = lb
            net_profile["loadBalancerProfile"] = {"managedOutboundIPs": {"count": 1}, "effectiveOutboundIPs": [{"id": pip["id"]}],
                                                  "backendPoolType": "nodeIPConfiguration"}
        # Managed VNet when no pool brings its own subnet (AKS: aks-vnet-<n>, 10.224.0.0/12, subnet aks-subnet).
        pools = props["agentPoolProfiles"]
        managed_subnet: Optional[str] = None
        if any(not p.get("vnetSubnetID") for p in pools):
            vnet_name = f"aks-vnet-{int(stable_hex(cluster['id']), 16) % 10**8:08d}"
            vnet_key = build_id(sub, node_rg, net.NETWORK, ["virtualNetworks"], [vnet_name]).lower()
            if vnet_key not in self._resources:
                vnet = net.virtual_network(sub, node_rg, vnet_name, location, ["10.224.0.0/12"], [("aks-subnet", "10.224.0.0/16")])
                self._resources[vnet_key] = vnet
            managed_subnet = self._resources[vnet_key]["properties"]["subnets"][0]["id"]
        for subnet_owners in self._ipconfigs.values():
            subnet_owners.pop(owner, None)
        cni_per_node = str(net_profile.get("networkPlugin", "")).lower() == "azure" and str(net_profile.get("networkPluginMode", "")).lower() != "overlay"
        for pool in pools:
            vmss = f"aks-{pool['name']}-{int(stable_hex(cluster['id'] + pool['name']), 16) % 10**8:08d}-vmss"
            node_subnet = pool.get("vnetSubnetID") or managed_subnet
            pod_subnet = pool.get("podSubnetID")
            per_node = 1 + (int(pool.get("maxPods") or 0) if cni_per_node and not pod_subnet else 0)
            for index in range(int(pool.get("count") or 0)):
                nic = f"/subscriptions/{sub}/resourceGroups/{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{index}" \
                      f"/networkInterfaces/{vmss}"
                if self._standalone_pool(pool):  # VirtualMachines / AvailabilitySet pools: standalone NICs
                    nic = build_id(sub, node_rg, net.NETWORK, ["networkInterfaces"], [f"{vmss[:-5]}-nic-{index}"])
                if node_subnet:
                    ids = self._ipconfigs.setdefault(node_subnet.lower(), {}).setdefault(owner, [])
                    ids.extend(f"{nic}/ipConfigurations/ipconfig{j + 1}" for j in range(per_node))
                if pod_subnet:
                    ids = self._ipconfigs.setdefault(pod_subnet.lower(), {}).setdefault(owner, [])
                    ids.extend(f"{nic}/ipConfigurations/pod{j + 1}" for j in range(int(pool.get("maxPods") or 0)))
        self._build_node_network(cluster, self._resources[nsg_id]["id"], managed_subnet)

    def _patch_cluster_tags(self, rg: str, name: str, key: str, body: Any, path: str, api_version: str,
                            headers: Optional[dict[str, str]] = None) -> Response:
        res = self._resources.get(key)
        if res is None:
            raise _not_found(f"{MC_TYPE}/{name}", rg)
        if not isinstance(body, dict) or not isinstance(body.get("tags", {}), dict):
            raise bad_request("InvalidRequestContent", "The request content was invalid and could not be deserialized: expected {\"tags\": {...}}.")
        _check_preconditions(headers or {}, res.get("eTag"), AKS_PRECONDITION_FAILED, f"managed cluster {name}")
        running = self._in_progress(key)
        if running is not None:
            raise _aks_busy(running)
        res["tags"] = dict(body.get("tags") or {})
        res["eTag"] = str(uuid.uuid4())
        res["properties"]["provisioningState"] = "Updating"

        def done() -> None:
            res["properties"]["provisioningState"] = "Succeeded"

        def failed(_err: dict[str, Any]) -> None:
            res["properties"]["provisioningState"] = "Failed"

        op = self._start_operation(CONTAINER_SERVICE, res["location"].replace(" ", "").lower(), key, "update", "PATCH", path, done, failed)
        return Response(200, self._render(res), self._lro_headers(op, api_version))

    def _delete_cluster(self, rg: str, name: str, key: str, path: str, api_version: str, headers: Optional[dict[str, str]] = None) -> Response:
        res = self._resources.get(key)
        if res is None:
            return Response(204)  # with or without If-Match (use-etags.md)
        _check_preconditions(headers or {}, res.get("eTag"), AKS_PRECONDITION_FAILED, f"managed cluster {name}")
        running = self._in_progress(key)
        if running is not None and running.kind != "delete":
            raise _aks_busy(running)
        res["properties"]["provisioningState"] = "Deleting"
        node_rg = res["properties"].get("nodeResourceGroup", "")

        def deleted() -> None:
            self._resources.pop(key, None)
            owner = key
            for subnet_owners in self._ipconfigs.values():
                subnet_owners.pop(owner, None)
            if node_rg and self._groups.get(node_rg.lower(), {}).get("managedBy", "").lower() == key:
                prefix = f"/subscriptions/{self.subscription_id}/resourcegroups/{node_rg.lower()}/"
                for rkey in [k for k in self._resources if k.startswith(prefix)]:
                    del self._resources[rkey]
                for subnet_key in [k for k in self._ipconfigs if k.startswith(prefix)]:
                    del self._ipconfigs[subnet_key]
                self._groups.pop(node_rg.lower(), None)

        def failed(_err: dict[str, Any]) -> None:
            res["properties"]["provisioningState"] = "Failed"

        op = self._start_operation(CONTAINER_SERVICE, res["location"].replace(" ", "").lower(), key, "delete", "DELETE", path, deleted, failed)
        return Response(202, None, self._lro_headers(op, api_version, with_location=True))


# ---------------------------------------------------------------------- helpers

_INVALID = object()


def _parse_json(data: bytes) -> Any:
    if not data or not data.strip():
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return _INVALID


def _method_not_allowed(method: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed for this resource.")


def _not_found(type_and_name: str, rg: str) -> ArmError:
    return ArmError(404, "ResourceNotFound", f"The Resource '{type_and_name}' under resource group '{rg}' was not found. {_NOT_FOUND_HINT}")


def _check_location(name: str, rg: str, stored: str, requested: Any) -> None:
    """ARM's own check for a PUT of an existing resource in another region: 409 InvalidResourceLocation (rancher/rancher issue
    15651 shows the status, "Status=409 Code=InvalidResourceLocation", and the message). "West Europe" is westeurope."""
    def norm(value: Any) -> str:
        return str(value).replace(" ", "").lower()

    if norm(stored) != norm(requested):
        raise ArmError(409, "InvalidResourceLocation", f"The resource '{name}' already exists in location '{stored}' in resource group '{rg}'. "
                       f"A resource with the same name cannot be created in location '{requested}'. Please select a new resource name.")


# AKS spells the code as its use-etags.md does ("PreConditionFailed"); the network RP answers ARM's usual "PreconditionFailed".
AKS_PRECONDITION_FAILED = "PreConditionFailed"


def _etag_values(header: str) -> list[str]:
    """The entity tags of an If-Match header, without quotes or the weak prefix ('"a", W/"b"' -> ['a', 'b'])."""
    return [_bare_etag(part) for part in header.split(",") if part.strip()]


def _bare_etag(value: Any) -> str:
    text = str(value or "").strip()
    if text[:2] in ("W/", "w/"):
        text = text[2:]
    return text.strip('"')


def _check_preconditions(headers: dict[str, str], etag: Optional[str], code: str, what: str) -> None:
    """If-Match / If-None-Match on a write, as AKS documents them (use-etags.md, "Configurations and expected behavior"):
    If-None-Match may only be empty or "*" and not be combined with If-Match (400 BadRequest); "*" fails on an existing
    resource, If-Match on a missing one or with another eTag (412). ``etag`` is None when the resource does not exist;
    callers check the missing case themselves for PATCH (404) and DELETE (204)."""
    if_match = (headers.get("if-match") or "").strip()
    if_none_match = (headers.get("if-none-match") or "").strip()
    if if_none_match and if_none_match != "*":
        raise bad_request("BadRequest", f"The If-None-Match header can only be empty or '*' (got {if_none_match!r}).")
    if if_none_match and if_match:
        raise bad_request("BadRequest", "The If-Match and If-None-Match headers cannot be used together.")
    exists = etag is not None
    if if_none_match == "*" and exists:
        raise ArmError(412, code, f"The {what} already exists and the If-None-Match header is '*'.")
    if not if_match:
        return
    if not exists:
        raise ArmError(412, code, f"The {what} does not exist and the If-Match header is {if_match!r}.")
    if if_match != "*" and _bare_etag(etag) not in _etag_values(if_match):
        raise ArmError(412, code, f"The eTag {if_match} in the If-Match header does not match the current eTag \"{_bare_etag(etag)}\" of the {what}. "
                       "Get the resource again for its current eTag.")


def _aks_busy(running: Operation) -> ArmError:
    """AKS's answer to a write while an operation on the cluster runs (Azure/terraform-azurerm-avm-ptn-aks-production PR 25,
    Azure/azure-workload-identity issue 417)."""
    state = {"create": "Creating", "update": "Updating", "delete": "Deleting"}.get(running.kind, "Updating")
    return ArmError(409, "OperationNotAllowed", f"Operation is not allowed: Another operation ({state}) is in progress, please wait for it to finish "
                    "before starting a new operation. See https://aka.ms/aks-pending-operation for more details")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: ArmSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        response = self.server.sim.handle(self.command, self.path, dict(self.headers.items()), data)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-correlation-request-id", self.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()))
        if self.headers.get("x-ms-client-request-id"):
            self.send_header("x-ms-client-request-id", self.headers["x-ms-client-request-id"])
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve
