# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Active probes (field guide step 3): the debug pod, the commands, and what their output means. Pure.

Nothing here talks to a cluster: ``probe_runner.py`` creates the pods and runs the commands;
this module builds the manifests and argv lists and turns (stdout, stderr, exit code) into results.

Every result carries both shapes at once: what was run (``command``, ``output``, ``exit_code``,
``duration_ms``) and what the diagnostics engine reads as ``probe_results`` (see
``step_connectivity.py``)::

    {check: dns | service | pod | egress | listening, ok: True | False | None, namespace, name,
     target, port, protocol, detail, command, output, exit_code, duration_ms}

``ok`` is None when the check could not be concluded (a tool missing in the target image, an exec
refused); such results are reported but never passed to the engine as a pass or a failure.
"""

from __future__ import annotations

import ipaddress
import json
import re

DEFAULT_IMAGE = "nicolaka/netshoot"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "aksnet.networking-probe"
RUN_LABEL = "aksnet.networking/probe-run"
ROLE_LABEL = "aksnet.networking/probe-role"
CONTAINER = "probe"
DEFAULT_RUN_AS_USER = 65534
DEFAULT_EXTERNAL_NAME = "mcr.microsoft.com"
OUTPUT_LIMIT = 2000
NOT_FOUND_EXIT_CODES = (126, 127)
HTTP_PORT_NAMES = re.compile(r"^(http|web|www)", re.IGNORECASE)
HTTPS_PORT_NAMES = re.compile(r"^(https|tls)", re.IGNORECASE)
LOOPBACK = ("127.", "::1", "[::1]")


def selector(run_id=None):
    """Label selector of every debug pod of this collection (or of one run)."""
    text = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
    return text + (f",{RUN_LABEL}={run_id}" if run_id else "")


def _labels(run_id, role):
    return {MANAGED_BY_LABEL: MANAGED_BY, RUN_LABEL: run_id, ROLE_LABEL: role}


def _self_ending_pod(name, namespace, labels, lifetime, image_pull_secrets, fields):
    """A debug pod that ends itself: never restarted, no token, gone a minute after ``lifetime`` even if deleting it fails.

    ``fields`` adds the pod-specific spec (host network, containers, ...).
    """
    spec = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "activeDeadlineSeconds": int(lifetime) + 60,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        **fields,
    }
    if image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in image_pull_secrets]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


def debug_pod(name, namespace, run_id, image=DEFAULT_IMAGE, image_pull_secrets=(), node_selector=None, run_as_user=DEFAULT_RUN_AS_USER,
              lifetime=600):
    """The unprivileged debug pod: no host network, no privilege escalation, every capability dropped.

    ``run_as_user`` 0 keeps the image's user (netshoot's is root); any other value runs as that
    non-root user with ``runAsNonRoot``. ``lifetime`` (seconds) bounds the pod even if deleting it
    fails: it sleeps that long and ``activeDeadlineSeconds`` ends it.
    """
    security = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "privileged": False,
                "seccompProfile": {"type": "RuntimeDefault"}}
    if run_as_user:
        security.update({"runAsNonRoot": True, "runAsUser": int(run_as_user), "runAsGroup": int(run_as_user)})
    pod = _self_ending_pod(name, namespace, _labels(run_id, "debug"), lifetime, image_pull_secrets, {
        "hostNetwork": False,
        "containers": [{"name": CONTAINER, "image": image, "command": ["sleep", str(int(lifetime))], "securityContext": security,
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}}],
    })
    if node_selector:
        pod["spec"]["nodeSelector"] = dict(node_selector)
    return pod


def node_debug_pod(name, namespace, run_id, node, image=DEFAULT_IMAGE, image_pull_secrets=(), lifetime=600):
    """The node debug pod (``node_debug``): host network and privileged, pinned to ``node``, the host's / at /host."""
    return _self_ending_pod(name, namespace, _labels(run_id, "node-debug"), lifetime, image_pull_secrets, {
        "hostNetwork": True,
        "dnsPolicy": "ClusterFirstWithHostNet",
        "nodeName": node,
        "tolerations": [{"operator": "Exists"}],
        "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}],
        "containers": [{"name": CONTAINER, "image": image, "command": ["sleep", str(int(lifetime))],
                        "securityContext": {"privileged": True},
                        "volumeMounts": [{"name": "host-root", "mountPath": "/host", "readOnly": True}]}],
    })


# --------------------------------------------------------------------------------------------
# Commands


def dns_command(name, timeout):
    return ["nslookup", f"-timeout={max(1, int(timeout))}", "-retry=1", name]


def http_command(url, timeout, insecure=False):
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-m", str(max(1, int(timeout)))]
    if insecure:
        cmd.append("-k")
    return [*cmd, url]


def tcp_command(host, port, timeout):
    return ["nc", "-z", "-v", "-w", str(max(1, int(timeout))), host, str(port)]


def url_for(scheme, host, port):
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}/"


def port_scheme(port_spec, requested="auto"):
    """tcp, http or https for a Service/container port: the request, else its appProtocol / name / number."""
    if requested and requested != "auto":
        return requested
    for key in ("appProtocol", "name"):
        value = str(port_spec.get(key) or "")
        if HTTPS_PORT_NAMES.match(value) or value.endswith("/https"):
            return "https"
        if HTTP_PORT_NAMES.match(value) or value.endswith("/http") or value in ("kubernetes.io/h2c",):
            return "http"
    number = port_spec.get("port")
    if number in (80, 8080, 8000):
        return "http"
    if number == 443:
        return "https"
    return "tcp"


def command_text(argv):
    return " ".join(a if a and not re.search(r"[\s'\"%{}]", a) else "'" + a.replace("'", "'\\''") + "'" for a in argv)


def trim(text, limit=OUTPUT_LIMIT):
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


def result(check, target, argv, ok, detail, *, namespace=None, name=None, port=None, protocol="TCP", output="", exit_code=None,
           duration_ms=0, **extra):
    """One probe result in both shapes (see the module docstring)."""
    out = {"check": check, "ok": ok, "namespace": namespace, "name": name, "target": target, "port": port, "protocol": protocol,
           "detail": detail, "command": command_text(argv) if argv else None, "output": trim(output), "exit_code": exit_code,
           "duration_ms": int(duration_ms)}
    out.update(extra)
    return out


def missing_tool(stdout, stderr, exit_code):
    text = f"{stdout}\n{stderr}"
    return exit_code in NOT_FOUND_EXIT_CODES and ("not found" in text or "no such file" in text.lower() or "executable file" in text)


# --------------------------------------------------------------------------------------------
# Interpreting the tools' answers: (ok, detail)


def interpret_dns(name, stdout, stderr, exit_code):
    text = f"{stdout}\n{stderr}"
    addresses = re.findall(r"^Address:\s*([0-9a-fA-F:.]+)\s*$", stdout or "", re.MULTILINE)
    if exit_code == 0 and addresses:
        return True, f"{name} resolves to {', '.join(addresses)}", addresses
    if "NXDOMAIN" in text:
        return False, f"{name} does not exist (NXDOMAIN)", []
    if "timed out" in text or "no servers could be reached" in text:
        return False, "no answer from the DNS server (timed out): egress to kube-dns on UDP/TCP 53 blocked, or CoreDNS down", []
    if "refused" in text:
        return False, "the DNS server refused the connection", []
    if "SERVFAIL" in text:
        return False, f"the DNS server failed to resolve {name} (SERVFAIL): check CoreDNS forwarding", []
    return False, f"nslookup exited {exit_code}: {trim(text, 200)}", []


_CURL_ERRORS = {
    6: "could not resolve the host name",
    7: "connection refused (nothing listens, or no endpoints behind the Service)",
    28: "timed out (packets dropped: a network policy, NSG or firewall, or no route)",
    35: "TLS handshake failed",
    52: "connected, but the server sent no reply",
    56: "connection reset while receiving",
}


def interpret_http(stdout, stderr, exit_code):
    """ok when an HTTP answer came back (any status: the network path works)."""
    parts = (stdout or "").split()
    code = parts[0] if parts else "000"
    if exit_code == 0 and code != "000":
        return True, f"HTTP {code}" + (f" in {float(parts[1]) * 1000:.0f} ms" if len(parts) > 1 and _float(parts[1]) is not None else "")
    why = _CURL_ERRORS.get(exit_code, f"curl exited {exit_code}")
    err = (stderr or "").strip().splitlines()
    return False, why + (f" ({err[-1]})" if err else "")


def _float(text):
    try:
        return float(text)
    except ValueError:
        return None


def interpret_tcp(stdout, stderr, exit_code):
    text = f"{stdout}\n{stderr}".strip()
    if exit_code == 0 and "succeeded" in text:
        return True, "TCP connection succeeded"
    if "refused" in text:
        return False, "connection refused (nothing listens on the port, or no endpoints behind the Service)"
    if "timed out" in text:
        return False, "timed out (packets dropped: a network policy, NSG or firewall, or no route)"
    return False, f"nc exited {exit_code}: {trim(text, 200)}"


def parse_ss(stdout):
    """Listening sockets from ``ss -tlnp``: [{address, port, process}]."""
    out = []
    for line in (stdout or "").splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] != "LISTEN":
            continue
        local = fields[3]
        address, port = local.rpartition(":")[::2]
        if not port.isdigit():
            continue
        process = re.search(r'users:\(\("([^"]+)"', line)
        out.append({"address": address.strip("[]") or "*", "port": int(port), "process": process.group(1) if process else None})
    return out


def parse_proc_net_tcp(stdout):
    """Listening sockets (state 0A) from /proc/net/tcp and tcp6."""
    out = []
    for line in (stdout or "").splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A" or ":" not in fields[1]:
            continue
        hex_ip, hex_port = fields[1].rsplit(":", 1)
        try:
            port = int(hex_port, 16)
            if len(hex_ip) == 8:
                address = str(ipaddress.IPv4Address(bytes(reversed(bytes.fromhex(hex_ip)))))
            else:
                raw = bytes.fromhex(hex_ip)
                address = str(ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))
        except ValueError:
            continue
        out.append({"address": address, "port": port, "process": None})
    return out


def interpret_listening(sockets, port):
    """(ok, detail) for a pod that should accept connections on ``port`` from other pods."""
    on_port = [s for s in sockets if s["port"] == int(port)]
    if not on_port:
        others = ", ".join(sorted({f"{s['address']}:{s['port']}" for s in sockets})) or "nothing"
        return False, f"nothing listens on port {port} (listening: {others})"
    if all(str(s["address"]).startswith(LOOPBACK) or s["address"] in ("localhost", "::ffff:127.0.0.1") for s in on_port):
        return False, f"listens only on {on_port[0]['address']}:{port} (loopback): other pods cannot connect; listen on 0.0.0.0"
    return True, f"listening on {', '.join(sorted({s['address'] + ':' + str(port) for s in on_port}))}"


# --------------------------------------------------------------------------------------------
# Data-plane truth


def parse_cilium_status(stdout, exit_code):
    """(healthy, detail) from ``cilium status``."""
    lines = {}
    for line in (stdout or "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            lines[key.strip()] = value.strip()
    agent = lines.get("Cilium", "")
    controllers = lines.get("Controller Status", "")
    healthy = exit_code == 0 and agent.lower().startswith("ok")
    match = re.match(r"(\d+)/(\d+) healthy", controllers)
    if match and match.group(1) != match.group(2):
        healthy = False
    detail = f"Cilium: {agent or 'no status line'}" + (f"; controllers {controllers}" if controllers else "")
    return healthy, detail


def parse_cilium_endpoints(stdout):
    """``cilium endpoint list -o json`` -> [{namespace, pod, ip, ingress, egress, policy_enabled, identity}]."""
    try:
        data = json.loads(stdout or "[]")
    except ValueError:
        return None
    out = []
    for ep in data if isinstance(data, list) else []:
        status = ep.get("status") or {}
        ext = status.get("external-identifiers") or {}
        ns, pod = ext.get("k8s-namespace"), ext.get("k8s-pod-name")
        if not (ns and pod) and "/" in str(ext.get("pod-name") or ""):
            ns, pod = str(ext["pod-name"]).split("/", 1)
        if not (ns and pod):
            continue  # host, health and ingress endpoints
        realized = ((status.get("policy") or {}).get("realized") or {}).get("policy-enabled") or "none"
        addressing = (status.get("networking") or {}).get("addressing") or [{}]
        out.append({"namespace": ns, "pod": pod, "ip": addressing[0].get("ipv4") or addressing[0].get("ipv6"), "id": ep.get("id"),
                    "identity": (status.get("identity") or {}).get("id"), "policy_enabled": realized,
                    "ingress": realized in ("ingress", "both"), "egress": realized in ("egress", "both")})
    return out


def kube_services_rule(iptables_nat, cluster_ip, port, protocol="TCP"):
    """(found, mode, line): the KUBE-SERVICES rule of ClusterIP:port in ``iptables-save -t nat`` output.

    mode is ``iptables``, ``ipvs`` (rules live in IPVS: check ``ipvsadm -Ln``) or ``none`` (no
    KUBE-SERVICES chain: kube-proxy is not running in iptables/IPVS mode, e.g. Cilium's replacement).
    """
    text = iptables_nat or ""
    if ":KUBE-SERVICES" not in text:
        return False, "none", None
    if "KUBE-CLUSTER-IP" in text:
        return False, "ipvs", None
    proto = str(protocol or "TCP").lower()
    pattern = re.compile(rf"^-A KUBE-SERVICES -d {re.escape(cluster_ip)}/32 -p {proto}\b.*--dport {int(port)}\b.*-j KUBE-(SVC|SVL|FW|EXT)-\S*", re.MULTILINE)
    match = pattern.search(text)
    return bool(match), "iptables", match.group(0) if match else None


def ipvs_has(ipvsadm_output, cluster_ip, port, protocol="TCP"):
    pattern = re.compile(rf"^{re.escape(str(protocol or 'TCP').upper())}\s+{re.escape(cluster_ip)}:{int(port)}\s", re.MULTILINE)
    return bool(pattern.search(ipvsadm_output or ""))
