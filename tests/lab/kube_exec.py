"""Pod exec for the lab's Kubernetes emulator: the websocket channel protocol and the commands.

``GET|POST /api/v1/namespaces/NS/pods/NAME/exec?command=..&command=..&stdout=true&stderr=true``
upgrades to a websocket with one of the subprotocols ``v5.channel.k8s.io``, ``v4.channel.k8s.io``,
``v3.channel.k8s.io``, ``v2.channel.k8s.io`` or ``channel.k8s.io`` (what the kubernetes client's
``stream()`` and kubectl offer). Every binary message starts with its channel byte: 1 stdout,
2 stderr, 3 error/status. With v4 and later the status channel carries a ``Status`` JSON
(``Success``, or ``Failure`` / ``NonZeroExitCode`` with the exit code in
``details.causes[0].message``); with older protocols it carries an error text only on failure.

Commands are answered ONLY from the scenario's declared data-plane facts, a ``kind: LabDataPlane``
document (``apiVersion: lab.aksnet.io/v1``) loaded like any scenario object, plus what the cluster
itself would do with its own objects (CoreDNS resolves Service names, kube-proxy DNATs a ClusterIP
to an endpoint and writes KUBE-SERVICES rules). Nothing here calls the collection's analyzers::

    apiVersion: lab.aksnet.io/v1
    kind: LabDataPlane
    metadata: {name: shop}
    spec:
      dns_server: ok | timeout | refused   # can pods reach kube-dns at all (default ok)
      resolve_services: true               # CoreDNS answers <svc>.<ns>.svc.cluster.local (default true)
      dns: {www.microsoft.com: 13.107.246.45, web.shop.svc.cluster.local: 10.0.12.7}  # or a list; "NXDOMAIN"
      tcp:                                 # "address:port" (or "host:port") -> behaviour
        "10.244.1.10:8080": {http_status: 200, body: ok}
        "10.244.2.11:9090": blocked        # dropped (a policy): timeouts
        "13.107.246.45:443": refused       # RST: connection refused
      tcp_default: timeout                 # undeclared address:port (default timeout)
      listening:                           # ss -tlnp in a pod ("ns/pod"); or pod annotation lab.aksnet.io/listening
        shop/web-1: [{port: 8080, address: 127.0.0.1, process: nginx}]
      cilium:                              # cilium status / cilium endpoint list -o json in agent pods
        state: Ok                          # or Failure (with message)
        message: ""
        default_policy_enabled: none       # none | ingress | egress | both
        endpoints: {shop/web-1: {policy_enabled: none}}
      kube_proxy:
        mode: iptables                     # or ipvs
        missing: [shop/web]                # Services without KUBE-SERVICES rules (all nodes, or per node below)
        nodes: {aks-system-41253874-vmss000000: {missing: [shop/web]}}

Several LabDataPlane documents merge (later keys win). A pod image ``lab/never-ready`` never starts
(see ``NEVER_READY_IMAGE``): exec into it fails as on a real cluster.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import ipaddress
import json
from typing import Any

import aiohttp.web

from tests.lab.kube_ops import ApiError, bad_request, not_found

DATAPLANE_KIND = "LabDataPlane"
DATAPLANE_API_VERSION = "lab.aksnet.io/v1"
LISTENING_ANNOTATION = "lab.aksnet.io/listening"
NEVER_READY_IMAGE = "lab/never-ready"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
STDOUT, STDERR, ERROR = 1, 2, 3
CLUSTER_DOMAIN = "cluster.local"


def merge_dataplane(current: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """Merge one LabDataPlane document's spec into the facts so far (mappings merge, the rest is replaced)."""
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}

    def merge(a: Any, b: Any) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            out = dict(a)
            for key, value in b.items():
                out[key] = merge(a.get(key), value)
            return out
        return copy.deepcopy(b)

    return merge(current, spec)


class World:
    """What the node-level tools see: the data-plane facts and copies of the cluster's objects."""

    def __init__(self, facts: dict[str, Any], pods: list[dict[str, Any]], services: list[dict[str, Any]], slices: list[dict[str, Any]],
                 dns_service_ip: str) -> None:
        self.facts = facts or {}
        self.pods = pods
        self.services = services
        self.slices = slices
        self.dns_service_ip = dns_service_ip

    # --- lookups -------------------------------------------------------------------------
    def resolve(self, name: str) -> tuple[str, list[str]]:
        """(outcome, addresses): outcome ok | nxdomain | timeout | refused."""
        server = str(self.facts.get("dns_server", "ok")).lower()
        if server in ("timeout", "blocked"):
            return "timeout", []
        if server == "refused":
            return "refused", []
        name = name.rstrip(".").lower()
        declared = {str(k).rstrip(".").lower(): v for k, v in (self.facts.get("dns") or {}).items()}
        if name in declared:
            value = declared[name]
            if isinstance(value, str) and value.upper() == "NXDOMAIN":
                return "nxdomain", []
            if isinstance(value, str) and value.lower() in ("timeout", "blocked"):
                return "timeout", []
            return "ok", [str(v) for v in (value if isinstance(value, list) else [value])]
        if _is_ip(name):
            return "ok", [name]
        if self.facts.get("resolve_services", True):
            found = self._service_record(name)
            if found is not None:
                return ("ok", found) if found else ("nxdomain", [])
        return "nxdomain", []

    def _service_record(self, name: str) -> list[str] | None:
        suffix = f".svc.{CLUSTER_DOMAIN}"
        if not name.endswith(suffix):
            return None
        parts = name[: -len(suffix)].split(".")
        if len(parts) != 2:
            return []
        svc_name, namespace = parts
        for svc in self.services:
            meta = svc.get("metadata") or {}
            if meta.get("name") == svc_name and meta.get("namespace") == namespace:
                cluster_ip = (svc.get("spec") or {}).get("clusterIP")
                if cluster_ip and cluster_ip != "None":
                    return [cluster_ip]
                return sorted({a for s in self._slices_of(namespace, svc_name) for e in s.get("endpoints") or []
                               if (e.get("conditions") or {}).get("ready", True) for a in e.get("addresses") or []})
        return []

    def _slices_of(self, namespace: str, service: str) -> list[dict[str, Any]]:
        return [s for s in self.slices if (s.get("metadata") or {}).get("namespace") == namespace
                and ((s.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name") == service]

    def connect(self, host: str, port: int, depth: int = 0) -> dict[str, Any]:
        """The behaviour of a TCP connection to host:port: {state: open|refused|timeout, http_status, body}."""
        table = {str(k).lower(): v for k, v in (self.facts.get("tcp") or {}).items()}
        for key in (f"{host}:{port}".lower(),):
            if key in table:
                return _behaviour(table[key])
        service = self._service_at(host, port)
        if service is not None and depth == 0:
            svc, svc_port = service
            meta = svc["metadata"]
            if _listed(meta, (self.facts.get("kube_proxy") or {}).get("missing")):
                return {"state": "timeout"}
            targets = self._endpoints_for(meta["namespace"], meta["name"], svc_port)
            if not targets:
                return {"state": "refused"}  # kube-proxy rejects Services without endpoints
            return self.connect(targets[0][0], targets[0][1], depth + 1)
        return _behaviour(self.facts.get("tcp_default", "timeout"))

    def _service_at(self, host: str, port: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for svc in self.services:
            spec = svc.get("spec") or {}
            if spec.get("clusterIP") == host:
                for svc_port in spec.get("ports") or []:
                    if int(svc_port.get("port") or 0) == port:
                        return svc, svc_port
        return None

    def _endpoints_for(self, namespace: str, service: str, svc_port: dict[str, Any]) -> list[tuple[str, int]]:
        out = []
        for slc in self._slices_of(namespace, service):
            numbers = [p.get("port") for p in slc.get("ports") or [] if p.get("name", "") == svc_port.get("name", "")]
            if not numbers:
                continue
            for endpoint in slc.get("endpoints") or []:
                if (endpoint.get("conditions") or {}).get("ready", True):
                    out.extend((addr, int(numbers[0])) for addr in endpoint.get("addresses") or [])
        return sorted(out)

    def listening(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        meta = pod.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        declared = (self.facts.get("listening") or {}).get(key)
        if declared is None:
            raw = (meta.get("annotations") or {}).get(LISTENING_ANNOTATION)
            declared = json.loads(raw) if raw else []
        return [d if isinstance(d, dict) else {"port": int(d)} for d in declared]


def _listed(meta: dict[str, Any], names: Any) -> bool:
    return f"{meta.get('namespace')}/{meta.get('name')}" in (names or [])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _behaviour(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        out = {"state": str(value.get("state", "open")).lower()}
        out.update({k: v for k, v in value.items() if k != "state"})
        return out
    text = str(value).lower()
    if text in ("blocked", "drop", "dropped", "timeout"):
        return {"state": "timeout"}
    if text in ("refused", "reject", "rejected", "closed"):
        return {"state": "refused"}
    return {"state": "open", "http_status": 200, "body": "ok"}


# --------------------------------------------------------------------------------------------
# The tools


def run_command(world: World, pod: dict[str, Any], argv: list[str]) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of ``argv`` run in ``pod``."""
    if len(argv) >= 3 and argv[0] == "chroot":
        argv = argv[2:]  # a node debug pod runs the host's tools through chroot /host
    tool = argv[0].rsplit("/", 1)[-1] if argv else ""
    handlers = {
        "nslookup": _nslookup, "dig": _dig, "curl": _curl, "nc": _nc, "ss": _ss, "cilium": _cilium, "cilium-dbg": _cilium,
        "iptables-save": _iptables_save, "ipvsadm": _ipvsadm, "true": lambda *_: ("", "", 0), "cat": _cat,
    }
    handler = handlers.get(tool)
    if handler is None:
        return (f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{argv[0] if argv else ""}": '
                "executable file not found in $PATH: unknown\r\n", "", 126)
    return handler(world, pod, argv[1:])


def _option(args: list[str], *names: str, default: str | None = None) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return default


def _positional(args: list[str], with_value: tuple[str, ...] = ()) -> list[str]:
    out = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in with_value:
            skip = True
            continue
        if arg.startswith("-") or arg.startswith("+"):
            continue
        out.append(arg)
    return out


def _nslookup(world: World, _pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    names = _positional(args)
    if not names:
        return "", "usage: nslookup [-opt ...] host [server]\n", 1
    name = names[0]
    outcome, addresses = world.resolve(name)
    server = world.dns_service_ip
    if outcome == "timeout":
        return ";; connection timed out; no servers could be reached\n\n", "", 1
    if outcome == "refused":
        return f";; communications error to {server}#53: connection refused\n", "", 1
    head = f"Server:\t\t{server}\nAddress:\t{server}#53\n\n"
    if outcome == "nxdomain":
        return head + f"** server can't find {name}: NXDOMAIN\n\n", "", 1
    cluster = name.rstrip(".").endswith(CLUSTER_DOMAIN)
    body = "" if cluster or _is_ip(name) else "Non-authoritative answer:\n"
    for address in addresses:
        body += f"Name:\t{name.rstrip('.')}\nAddress: {address}\n"
    return head + body + "\n", "", 0


def _dig(world: World, _pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    names = [a for a in _positional(args) if not a.startswith("@")]
    if not names:
        return "", "dig: no name given\n", 1
    outcome, addresses = world.resolve(names[0])
    if outcome == "timeout":
        return ";; connection timed out; no servers could be reached\n", "", 9
    if outcome == "refused":
        return f";; communications error to {world.dns_service_ip}#53: connection refused\n", "", 9
    if "+short" not in args:
        status = "NOERROR" if outcome == "ok" else "NXDOMAIN"
        text = f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: 4242\n;; ANSWER SECTION:\n"
        text += "".join(f"{names[0].rstrip('.')}.\t30\tIN\tA\t{a}\n" for a in addresses)
        return text, "", 0
    return "".join(f"{a}\n" for a in addresses), "", 0


def _split_url(url: str) -> tuple[str, str, int, str]:
    scheme, _, rest = url.partition("://")
    if not rest:
        scheme, rest = "http", url
    hostport, _, path = rest.partition("/")
    host, port = hostport, 443 if scheme == "https" else 80
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        if tail.startswith(":"):
            port = int(tail[1:])
    elif ":" in hostport:
        host, port_text = hostport.rsplit(":", 1)
        port = int(port_text)
    return scheme, host, port, "/" + path


def _curl(world: World, _pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    with_value = ("-o", "--output", "-w", "--write-out", "-m", "--max-time", "--connect-timeout", "-H", "-X", "-A")
    urls = _positional(args, with_value)
    if not urls:
        return "", "curl: try 'curl --help' or 'curl --manual' for more information\n", 2
    max_time = float(_option(args, "-m", "--max-time", default="300") or 300)
    connect_timeout = float(_option(args, "--connect-timeout", default=str(max_time)) or max_time)
    write_out = _option(args, "-w", "--write-out", default="")
    quiet = "-s" in args or "-sS" in args or "--silent" in args
    show_errors = "-S" in args or "-sS" in args or "--show-error" in args or not quiet
    fail = "-f" in args or "--fail" in args
    _scheme, host, port, _path = _split_url(urls[0])

    def done(code: int, http_code: str, seconds: float, err: str, body: str = "") -> tuple[str, str, int]:
        out = "" if _option(args, "-o", "--output") == "/dev/null" else body
        out += (write_out or "").replace("%{http_code}", http_code).replace("%{time_total}", f"{seconds:.6f}").replace("\\n", "\n")
        return out, (f"curl: ({code}) {err}\n" if code and show_errors else ""), code

    address = host
    if not _is_ip(host):
        outcome, addresses = world.resolve(host)
        if outcome != "ok" or not addresses:
            return done(6, "000", 0.0 if outcome == "nxdomain" else min(max_time, 5.0), f"Could not resolve host: {host}")
        address = addresses[0]
    behaviour = world.connect(address, port)
    if behaviour["state"] == "refused":
        return done(7, "000", 0.0008, f"Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server")
    if behaviour["state"] != "open":
        limit = min(max_time, connect_timeout)
        return done(28, "000", limit, f"Connection timed out after {int(limit * 1000) + 1} milliseconds")
    status = int(behaviour.get("http_status") or 200)
    if fail and status >= 400:
        return done(22, str(status), 0.0042, f"The requested URL returned error: {status}")
    return done(0, str(status), 0.0042, "", str(behaviour.get("body", "")))


def _nc(world: World, _pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    rest = _positional(args, ("-w", "-i", "-s", "-p"))
    if len(rest) < 2:
        return "", "usage: nc [-46CDdFhklNnrStUuvZz] [-w timeout] destination port\n", 1
    host, port_text = rest[0], rest[1]
    port = int(port_text)
    address = host
    if not _is_ip(host):
        outcome, addresses = world.resolve(host)
        if outcome != "ok" or not addresses:
            return "", f"nc: getaddrinfo for host \"{host}\" port {port}: Name or service not known\n", 1
        address = addresses[0]
    behaviour = world.connect(address, port)
    if behaviour["state"] == "open":
        return "", f"Connection to {host} {port} port [tcp/*] succeeded!\n", 0
    if behaviour["state"] == "refused":
        return "", f"nc: connect to {host} port {port} (tcp) failed: Connection refused\n", 1
    return "", f"nc: connect to {host} port {port} (tcp) timed out: Operation now in progress\n", 1


def _ss(world: World, pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    lines = ["State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess"]
    for entry in world.listening(pod):
        address = str(entry.get("address", "0.0.0.0"))
        shown = f"[{address}]" if ":" in address else address
        process = entry.get("process") or "app"
        lines.append(f"LISTEN 0      511    {shown:>14}:{entry.get('port')}      0.0.0.0:*    users:((\"{process}\",pid=1,fd=6))")
    return "\n".join(lines) + "\n", "", 0


def _cat(world: World, pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    """/proc/net/tcp: the fallback when an image has no ss."""
    if not args or any(a not in ("/proc/net/tcp", "/proc/net/tcp6") for a in args):
        return "", f"cat: {args[0] if args else ''}: No such file or directory\n", 1
    out = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    for i, entry in enumerate(world.listening(pod)):
        address = str(entry.get("address", "0.0.0.0"))
        if ":" in address:
            continue
        hex_ip = "".join(f"{int(octet):02X}" for octet in reversed(address.split(".")))
        out += f"   {i}: {hex_ip}:{int(entry['port']):04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 {1000 + i}\n"
    return out, "", 0


def _cilium(world: World, pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    facts = world.facts.get("cilium") or {}
    node = (pod.get("spec") or {}).get("nodeName")
    words = [a for a in args if not a.startswith("-")]
    if words[:1] == ["status"]:
        state = str(facts.get("state", "Ok"))
        ok = state.lower() == "ok"
        if "--brief" in args:
            return ("OK\n", "", 0) if ok else ("", f"cilium: {facts.get('message') or 'agent not healthy'}\n", 1)
        local = list(_endpoint_pods(world, node))
        text = (
            "KVStore:                 Ok   Disabled\n"
            "Kubernetes:              Ok   1.32 (v1.32.7) [linux/amd64]\n"
            "Host firewall:           Disabled\n"
            "CNI Chaining:            none\n"
            f"Cilium:                  {state}   1.16.6 (v1.16.6-2f5b8f7d){'   ' + str(facts['message']) if facts.get('message') else ''}\n"
            "NodeMonitor:             Listening for events on 4 CPUs with 64x4096 of shared memory\n"
            f"IPAM:                    IPv4: {len(local)}/254 allocated from {_pod_cidr(local)}\n"
            "KubeProxyReplacement:    True   [eth0   10.224.0.4 (Direct Routing)]\n"
            f"Controller Status:       {'48/48 healthy' if ok else '46/48 healthy'}\n"
            "Cluster health:          3/3 reachable   (2025-01-01T00:00:00Z)\n"
        )
        return text, "", 0 if ok else 1
    if words[:2] in (["endpoint", "list"], ["endpoint", "ls"]):
        endpoints = facts.get("endpoints") or {}
        default = str(facts.get("default_policy_enabled", "none"))
        out = []
        for target in _endpoint_pods(world, node):
            meta = target["metadata"]
            key = f"{meta['namespace']}/{meta['name']}"
            enabled = str((endpoints.get(key) or {}).get("policy_enabled", default))
            labels = [f"k8s:{k}={v}" for k, v in sorted((meta.get("labels") or {}).items())]
            labels.append(f"k8s:io.kubernetes.pod.namespace={meta['namespace']}")
            ident = int(hashlib.sha256(",".join(labels).encode()).hexdigest()[:4], 16) + 1000
            ep_id = int(hashlib.sha256(key.encode()).hexdigest()[:3], 16)
            out.append({
                "id": ep_id,
                "spec": {"options": {"PolicyAuditMode": "Disabled"}},
                "status": {
                    "external-identifiers": {"container-id": meta.get("uid", ""), "k8s-namespace": meta["namespace"],
                                             "k8s-pod-name": meta["name"], "pod-name": key},
                    "identity": {"id": ident, "labels": labels},
                    "networking": {"addressing": [{"ipv4": (target.get("status") or {}).get("podIP")}], "node": node},
                    "policy": {"realized": {"policy-enabled": enabled}, "spec": {"policy-enabled": enabled}},
                    "state": "ready",
                },
            })
        if "-o" in args and _option(args, "-o") == "json":
            return json.dumps(out, indent=2) + "\n", "", 0
        lines = ["ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])   IPv4   STATUS"]
        for ep in out:
            enabled = ep["status"]["policy"]["realized"]["policy-enabled"]
            ing = "Enabled" if enabled in ("ingress", "both") else "Disabled"
            egr = "Enabled" if enabled in ("egress", "both") else "Disabled"
            lines.append(f"{ep['id']}   {ing}   {egr}   {ep['status']['identity']['id']}   {ep['status']['external-identifiers']['pod-name']}   "
                         f"{ep['status']['networking']['addressing'][0]['ipv4']}   ready")
        return "\n".join(lines) + "\n", "", 0
    return "", f"Error: unknown command {' '.join(words)!r} for \"cilium\"\n", 1


def _endpoint_pods(world: World, node: str | None) -> list[dict[str, Any]]:
    return [p for p in world.pods if (p.get("spec") or {}).get("nodeName") == node and not (p.get("spec") or {}).get("hostNetwork")
            and (p.get("status") or {}).get("phase") == "Running" and (p.get("status") or {}).get("podIP")]


def _pod_cidr(pods: list[dict[str, Any]]) -> str:
    for p in pods:
        ip = (p.get("status") or {}).get("podIP") or ""
        if ip.count(".") == 3:
            return ip.rsplit(".", 1)[0] + ".0/24"
    return "10.244.0.0/24"


def _chain_hash(text: str) -> str:
    import base64

    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def _proxy_missing(world: World, node: str | None) -> set[str]:
    proxy = world.facts.get("kube_proxy") or {}
    missing = set(proxy.get("missing") or [])
    missing.update(((proxy.get("nodes") or {}).get(node or "") or {}).get("missing") or [])
    return missing


def _proxied_ports(world: World, node: str | None) -> list[tuple[str, str, str, int, str, str]]:
    out = []
    missing = _proxy_missing(world, node)
    for svc in world.services:
        meta, spec = svc["metadata"], svc.get("spec") or {}
        cluster_ip = spec.get("clusterIP")
        if not cluster_ip or cluster_ip == "None" or f"{meta['namespace']}/{meta['name']}" in missing:
            continue
        for port in spec.get("ports") or []:
            if not world._endpoints_for(meta["namespace"], meta["name"], port):
                continue
            out.append((meta["namespace"], meta["name"], port.get("name", ""), int(port["port"]), str(port.get("protocol", "TCP")).lower(), cluster_ip))
    return out


def _iptables_save(world: World, pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    node = (pod.get("spec") or {}).get("nodeName")
    table = _option(args, "-t", "--table", default="filter")
    mode = str((world.facts.get("kube_proxy") or {}).get("mode", "iptables")).lower()
    lines = ["# Generated by iptables-save v1.8.7 on Wed Jan  1 00:00:00 2025", f"*{table}"]
    if table == "nat":
        lines += [":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]",
                  ":KUBE-SERVICES - [0:0]", ":KUBE-POSTROUTING - [0:0]", ":KUBE-MARK-MASQ - [0:0]",
                  "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                  "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"]
        if mode == "ipvs":
            lines.append("-A KUBE-SERVICES -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" "
                         "-m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ")
        else:
            for ns, name, pname, number, proto, cluster_ip in _proxied_ports(world, node):
                label = f"{ns}/{name}" + (f":{pname}" if pname else "")
                chain = "KUBE-SVC-" + _chain_hash(f"{ns}/{name}:{pname}/{proto}")
                lines.append(f"-A KUBE-SERVICES -d {cluster_ip}/32 -p {proto} -m comment --comment \"{label} cluster IP\" "
                             f"-m {proto} --dport {number} -j {chain}")
            lines.append("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" "
                         "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    lines += ["COMMIT", "# Completed on Wed Jan  1 00:00:00 2025"]
    return "\n".join(lines) + "\n", "", 0


def _ipvsadm(world: World, pod: dict[str, Any], args: list[str]) -> tuple[str, str, int]:
    node = (pod.get("spec") or {}).get("nodeName")
    mode = str((world.facts.get("kube_proxy") or {}).get("mode", "iptables")).lower()
    lines = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags",
             "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
    if mode == "ipvs":
        for ns, name, pname, number, proto, cluster_ip in _proxied_ports(world, node):
            lines.append(f"{proto.upper()}  {cluster_ip}:{number} rr")
            svc_port = {"name": pname}
            for address, target in world._endpoints_for(ns, name, svc_port):
                lines.append(f"  -> {address}:{target}              Masq    1      0          0")
    return "\n".join(lines) + "\n", "", 0


# --------------------------------------------------------------------------------------------
# The websocket endpoint


def check_exec(pod: dict[str, Any] | None, namespace: str, name: str, query: Any) -> tuple[str, list[str]]:
    """Validate an exec request like the apiserver and kubelet; returns (container, argv) or raises ApiError."""
    if pod is None:
        raise not_found("pods", "", name)
    argv = list(query.getall("command", [])) if hasattr(query, "getall") else list(query.get("command") or [])
    if not argv:
        raise bad_request("you must specify at least 1 command")
    if not any(str(query.get(s, "")).lower() in ("true", "1") for s in ("stdin", "stdout", "stderr")):
        raise bad_request("you must specify at least one of stdin, stdout, stderr")
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    container = query.get("container")
    if not container:
        if len(containers) != 1:
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]")
        container = containers[0]
    elif container not in containers:
        raise bad_request(f"container {container} is not valid for pod {name}")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise bad_request(f"cannot exec into a container in a completed pod; current phase is {phase}")
    if not spec.get("nodeName"):
        raise bad_request(f"pod {name} does not have a host assigned")
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    if "running" not in ((statuses.get(container) or {}).get("state") or {}):
        raise ApiError(400, "BadRequest", f'unable to upgrade connection: container not found ("{container}")')
    return container, argv


def exit_status(code: int, argv: list[str]) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {}, "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command {argv}, exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


async def serve_websocket(raw_request: Any, world: World, pod: dict[str, Any], argv: list[str], query: Any) -> aiohttp.web.StreamResponse:
    """Upgrade and run ``argv``: the initial empty frame per channel, the output, the status, then close."""
    ws = aiohttp.web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
    ready = ws.can_prepare(raw_request)
    if not ready.ok:
        raise bad_request("Upgrade request required")
    await ws.prepare(raw_request)
    protocol = ws.ws_protocol or "channel.k8s.io"
    stdout, stderr, code = run_command(world, pod, argv)
    wanted = {STDOUT: str(query.get("stdout", "")).lower() in ("true", "1"), STDERR: str(query.get("stderr", "")).lower() in ("true", "1")}
    for channel in (STDOUT, STDERR, ERROR):
        await ws.send_bytes(bytes([channel]))
    if stdout and wanted[STDOUT]:
        await ws.send_bytes(bytes([STDOUT]) + stdout.encode())
    if stderr and wanted[STDERR]:
        await ws.send_bytes(bytes([STDERR]) + stderr.encode())
    if protocol == "channel.k8s.io" or protocol.startswith(("v2.", "v3.")):
        if code:
            await ws.send_bytes(bytes([ERROR]) + f"command terminated with non-zero exit code: exit status {code}".encode())
    else:
        await ws.send_bytes(bytes([ERROR]) + json.dumps(exit_status(code, argv)).encode())
    await asyncio.sleep(0)
    await ws.close()
    return ws

