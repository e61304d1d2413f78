# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a diagnostics run gets its objects: a snapshot file, or a live cluster listed with one
paginated LIST per kind (``_kube.collect``). Shared by ``diagnose`` and ``netpol_check``.

No SDK import here: a live run is handed an already built client (``KubeClient``).
"""

from __future__ import annotations

from .._kube.collect import collect
from .._kube.kinds import DIAGNOSTIC_KINDS
from .snapshot_io import load_snapshot, snapshot_info

# What policy evaluation needs (netpol_check): fewer LISTs than a full diagnostics run.
POLICY_KINDS = ("Namespace", "Pod", "DaemonSet", "NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def kinds_subset(names):
    """The ``DIAGNOSTIC_KINDS`` entries of the given kind names, in collection order."""
    wanted = set(names)
    return tuple(entry for entry in DIAGNOSTIC_KINDS if entry[1] in wanted)


def cluster_facts_from_azure(azure):
    """A network profile carried by a snapshot's AzureNetworkFacts (``cluster`` = cluster_info entry), or None."""
    if not isinstance(azure, dict):
        return None
    cluster = azure.get("cluster")
    if isinstance(cluster, dict) and isinstance(cluster.get("network_profile"), dict):
        return cluster
    if isinstance(azure.get("network_profile"), dict):
        return azure
    return None


def gather(client=None, snapshot=None, namespaces=None, page_size=500, kinds=DIAGNOSTIC_KINDS, secrets=None):
    """Objects to analyse: ``{mode, objects, skipped, azure, info, api_requests}``.

    ``snapshot``: path of a snapshot file (no request is made; ``skipped`` are the kinds the snapshot
    could not capture). Otherwise ``client`` (a ``KubeClient``) lists ``kinds`` once each, paginated,
    restricted to ``namespaces`` when given; ``api_requests`` counts the requests made. ``secrets``:
    also list Secrets as metadata only (default: for the full ``DIAGNOSTIC_KINDS``, step 6 reads them).
    """
    if snapshot:
        snap = load_snapshot(snapshot)
        skipped = dict((snap["info"] or {}).get("skipped") or {})
        info = dict(snap["info"] or {}, snapshot_info=snapshot_info(snap["info"]))
        return {"mode": "snapshot", "objects": snap["objects"], "skipped": skipped, "azure": snap["azure"],
                "info": info, "api_requests": 0}
    if client is None:
        raise ValueError("gather needs a snapshot path or a Kubernetes client")
    before = client.request_count
    if secrets is None:
        secrets = kinds == DIAGNOSTIC_KINDS
    objects, skipped = collect(client, namespaces=namespaces, page_size=page_size, kinds=kinds, secrets=secrets)
    return {"mode": "live", "objects": objects, "skipped": skipped, "azure": None,
            "info": {"server": client.host, "namespaces": namespaces}, "api_requests": client.request_count - before}
