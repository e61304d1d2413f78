#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot
short_description: Capture a cluster's networking state to a file for offline diagnostics
version_added: 0.1.0
description:
  - Lists, with one paginated request per kind (C(limit)/C(continue)), the kinds the diagnostics read
    (namespaces, nodes, pods, services, EndpointSlices, NetworkPolicies, Ingresses, IngressClasses,
    ConfigMaps, Deployments and DaemonSets of C(kube-system), events, and Cilium policies when the cluster serves
    their CRDs; v1 Endpoints only when no EndpointSlice can be read, as v1 Endpoints is deprecated since
    Kubernetes 1.33) and writes them as a C(kind=List) snapshot, the format the diagnostics modules read.
  - A kind the caller may not list (403) or that the cluster does not serve (404, e.g. Cilium CRDs) is recorded
    in the snapshot and in RV(skipped_kinds) with the reason; the rest is still captured.
  - Secrets are captured as metadata only - namespace, name and whether their type is C(kubernetes.io/tls) - from two
    C(PartialObjectMetadataList) LISTs (every Secret, and those with field selector C(type=kubernetes.io/tls)); their data,
    labels and annotations are never requested or stored. C(metadata.managedFields) is dropped. The file is written with mode C(0600)
    because pod specs may carry sensitive environment values; an existing file with another mode is set back to C(0600) (changed).
  - The format follows the file name - C(.json) writes one JSON C(kind=List), C(.yaml) or C(.yml) writes YAML documents;
    any other name is refused before the cluster is read.
  - The snapshot records itself in a C(kind=SnapshotInfo) document (C(redacted), C(captured_at), C(collection_version),
    C(cluster.server), C(cluster.context)), which M(aksnet.networking.diagnose) returns as C(facts.snapshot_info).
author:
  - aksnet.networking contributors (@aksnet)
options:
  dest:
    description: Path of the snapshot file to write; it must end in C(.json), C(.yaml) or C(.yml) (the format follows it).
    type: path
    required: true
  redact:
    description:
      - Replace what the diagnostics never read and may hold credentials with C(<redacted>) - container C(env) values
        (names and C(valueFrom) references are kept), C(args) and C(command); annotations whose name suggests a credential
        (token, secret, password, key, auth...) and C(kubectl.kubernetes.io/last-applied-configuration); and the values of
        ConfigMaps other than CoreDNS's (C(coredns), C(coredns-custom)), whose keys are kept.
      - The diagnosis of a redacted snapshot is the same as of a full one; the report says the snapshot was redacted.
    type: bool
    default: true
  namespaces:
    description:
      - Capture only these namespaces (one LIST per kind and namespace, so namespace-scoped RBAC suffices).
        Cluster-scoped kinds are still captured. Default is every namespace.
    type: list
    elements: str
  azure_facts:
    description:
      - Azure-level facts to embed as the snapshot's C(AzureNetworkFacts) document (for example the result of
        M(aksnet.networking.cluster_info) or C(network_info)).
    type: dict
  page_size:
    description: Objects per LIST page.
    type: int
    default: 500
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details: The cluster is read; the file is not written.
  diff_mode:
    support: partial
    details: The diff lists the object counts per kind before and after.
  idempotent:
    support: full
    details: The file is rewritten only when the captured objects differ from the file's.
requirements:
  - kubernetes >= 31.0.0
"""

EXAMPLES = r"""
- name: Save the cluster's networking state
  aksnet.networking.snapshot:
    kubeconfig: ~/.kube/prod-aks.yaml
    dest: /tmp/prod-aks.snapshot.json

- name: Only two namespaces (namespace-scoped RBAC is enough)
  aksnet.networking.snapshot:
    namespaces: [shop, payments]
    dest: /tmp/shop.snapshot.json

- name: Everything as captured, in YAML, for a trusted colleague
  aksnet.networking.snapshot:
    dest: /tmp/prod-aks.snapshot.yaml
    redact: false
"""

RETURN = r"""
dest:
  description: Path of the snapshot file.
  returned: always
  type: str
counts:
  description: Objects captured per kind.
  returned: always
  type: dict
  sample: {Pod: 42, Service: 12, NetworkPolicy: 3}
skipped_kinds:
  description: Kinds that could not be captured, with the reason.
  returned: always
  type: dict
  sample: {CiliumNetworkPolicy: "not served by this cluster (404): the cluster does not run Azure CNI powered by Cilium"}
api_requests:
  description: Number of Kubernetes API requests made (one per kind and page).
  returned: always
  type: int
format:
  description: The format written, from the file name.
  returned: always
  type: str
  choices: [json, yaml]
redacted:
  description: Whether values were redacted (O(redact)).
  returned: always
  type: bool
"""

import datetime
import os

from ansible_collections.aksnet.networking.plugins.module_utils._common.files import PRIVATE_MODE, file_mode, write_private
from ansible_collections.aksnet.networking.plugins.module_utils._diag.redact import redact_objects
from ansible_collections.aksnet.networking.plugins.module_utils._diag.snapshot_io import (
    COLLECTION_VERSION,
    SnapshotError,
    load_snapshot,
    render_snapshot,
    snapshot_format,
)
from ansible_collections.aksnet.networking.plugins.module_utils._kube.collect import collect
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure


def file_format(path):
    """``json`` when the file holds one JSON document, else ``yaml`` (what render_snapshot wrote)."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(64).lstrip()
    except OSError:
        return None
    return "json" if head.startswith("{") else "yaml"


def _counts(objects):
    counts = {}
    for obj in objects:
        counts[obj.get("kind")] = counts.get(obj.get("kind"), 0) + 1
    return counts


def _context_name(params):
    """The kubeconfig context used: the option, else the kubeconfig file's current-context (None when unknown)."""
    if params.get("context"):
        return params["context"]
    kubeconfig = params.get("kubeconfig")
    if isinstance(kubeconfig, dict):
        return kubeconfig.get("current-context")
    if params.get("host") and not kubeconfig:
        return None
    env = os.environ.get("KUBECONFIG")
    path = kubeconfig or (env.split(os.pathsep)[0] if env else os.path.join(os.environ.get("HOME", "/"), ".kube", "config"))
    try:
        import yaml  # pylint: disable=import-outside-toplevel

        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except Exception:  # pylint: disable=broad-exception-caught  # unreadable or not YAML: the client has already reported it
        return None
    return data.get("current-context") if isinstance(data, dict) else None


def run(mod):
    params = mod.params
    dest = params["dest"]
    try:
        fmt = snapshot_format(dest)
    except SnapshotError as exc:
        raise ModuleFailure(str(exc)) from None
    mod.dest_directory()
    if params["page_size"] < 1:
        raise ModuleFailure(f"page_size {params['page_size']} must be at least 1.")
    client = mod.kube()
    objects, skipped = collect(client, namespaces=params["namespaces"], page_size=params["page_size"], secrets=True)
    if params["redact"]:
        objects = redact_objects(objects)
    info = {"redacted": params["redact"], "collection_version": COLLECTION_VERSION,
            "cluster": {"server": client.host, "context": _context_name(params)},
            "namespaces": params["namespaces"], "skipped": skipped}

    before = None
    mode = file_mode(dest)
    if mode is not None:
        try:
            before = load_snapshot(dest)
        except SnapshotError:
            before = None
    same = (
        before is not None
        and before["objects"] == objects
        and (before["azure"] or None) == (params["azure_facts"] or None)
        and {k: v for k, v in before["info"].items() if k != "captured_at"} == info
        and file_format(dest) == fmt
    )
    result = {
        "changed": not same or mode != PRIVATE_MODE,
        "dest": dest,
        "counts": _counts(objects),
        "skipped_kinds": skipped,
        "api_requests": client.request_count,
        "format": fmt,
        "redacted": params["redact"],
        "diff": {"before": {"counts": _counts(before["objects"]) if before else {}}, "after": {"counts": _counts(objects)}},
    }
    if not same and not mod.check_mode:
        info["captured_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = render_snapshot(objects, params["azure_facts"], info, fmt)
        write_private(dest, text, prefix=".snapshot-")
    elif mode != PRIVATE_MODE and not mod.check_mode:
        os.chmod(dest, PRIVATE_MODE)  # same content, loosened mode: the file may hold sensitive pod env values
    return result


def main():
    mod = AksnetModule(
        {
            "dest": {"type": "path", "required": True},
            "namespaces": {"type": "list", "elements": "str"},
            "azure_facts": {"type": "dict"},
            "page_size": {"type": "int", "default": 500},
            "redact": {"type": "bool", "default": True},
        },
        auth="kube",
        libraries=("kubernetes", "urllib3", "yaml"),
    )
    mod.run(run, "snapshot the cluster")


if __name__ == "__main__":
    main()
