#!/usr/bin/python
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: coredns
short_description: Manage custom CoreDNS entries of an AKS cluster (the coredns-custom ConfigMap)
version_added: 0.1.0
description:
  - Manages entries of the C(coredns-custom) ConfigMap in C(kube-system), which AKS imports into CoreDNS
    (C(*.server) keys as additional server blocks, C(*.override) keys into the default server block).
  - Entries come from O(forward_zones) (one C(<zone>.server) key per zone), O(hosts) (one C(hosts.override) key),
    O(log) (C(log.override), or C(log) inside a forwarded zone's block) and O(raw) keys.
  - Every entry is validated before any request; an error names the key and the rule (keys end in C(.server) or
    C(.override), balanced braces, well-formed zones and upstream addresses, no forward of C(cluster.local)).
  - The ConfigMap is written only when its content changes; then the C(coredns) Deployment is restarted the way
    C(kubectl rollout restart) does (the C(kubectl.kubernetes.io/restartedAt) pod template annotation) and, with
    O(wait), the module waits until the new pods are ready.
  - The restart also records, as the pod template annotation C(aksnet.networking/coredns-custom-sha256), the hash
    of the ConfigMap content the new pods start with. A run whose ConfigMap is unchanged still restarts CoreDNS
    when that hash differs (an earlier restart failed, or CoreDNS was never restarted by this module), so a lost
    restart is made up by the next run; otherwise an unchanged run never restarts CoreDNS.
  - A failed restart fails the task with C(changed=true) when the ConfigMap was written.
  - Corefile checks cover the directive names (only plugins CoreDNS on AKS has), the argument shapes of the common
    plugins (forward, cache, log, errors, hosts, rewrite, template, health, ready, prometheus, reload, loadbalance,
    loop) and two server blocks for one zone and port across entries.
author:
  - aksnet.networking contributors (@aksnet)
options:
  forward_zones:
    description:
      - Zones to forward to other DNS servers, as a mapping of zone (optionally C(zone:port)) to a list of upstream
        IP addresses (C(1.2.3.4), C(1.2.3.4:53), C(tls://1.2.3.4), C([fd00::1]:53) or C(/etc/resolv.conf)),
        or a list of C({zone, upstreams}).
      - Each zone becomes the key C(<zone>.server) holding C(<zone>:53 { errors / cache 30 / forward . <upstreams> }).
    type: raw
  hosts:
    description:
      - Static host entries, as a list of C({ip, names}) (or C("IP name ...") strings), or a mapping of name to IP.
        All go into one C(hosts.override) key with C(fallthrough).
    type: raw
  log:
    description:
      - Query logging. V(true) logs every query of the default server block; a list of zones logs those names only
        (a zone of O(forward_zones) gets C(log) inside its own block).
    type: raw
  raw:
    description:
      - Entries as given, key (ending in C(.server) or C(.override)) to Corefile text. Validated like the others.
    type: dict
  state:
    description:
      - V(present) writes the entries; V(absent) removes the keys the options name (for O(forward_zones) the zones,
        for O(raw) the keys; the values do not matter; O(hosts) and O(log) remove C(hosts.override) / C(log.override)).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), remove every other key of the ConfigMap, so it holds exactly the entries given.
      - By default other keys (another team's entries) are kept.
    type: bool
    default: false
  restart:
    description:
      - Restart CoreDNS after a change so that it loads the new configuration. V(false) leaves the reload to you.
    type: bool
    default: true
  wait:
    description: After a restart, wait until the rollout is complete (new pods ready).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 120
extends_documentation_fragment:
  - aksnet.networking.kubernetes
  - aksnet.networking.attributes
attributes:
  check_mode:
    support: full
    details:
      - The ConfigMap write and the restart are sent with C(dryRun=All) (validated by the API, nothing stored).
      - RV(restarted) then says whether a restart would happen.
  diff_mode:
    support: full
    details: The diff shows the ConfigMap data before and after.
  idempotent:
    support: full
notes:
  - CoreDNS refuses to start with an invalid configuration; the validation catches the common mistakes, not all.
"""

EXAMPLES = r"""
- name: Forward a corporate zone to on-premises DNS servers
  aksnet.networking.coredns:
    forward_zones:
      corp.example.com: [10.10.0.4, 10.10.0.5]

- name: Static host entries and query logging for one zone
  aksnet.networking.coredns:
    hosts:
      - ip: 10.1.2.3
        names: [legacy.internal, legacy]
    log: [corp.example.com]

- name: A raw server block, the field guide's example
  aksnet.networking.coredns:
    raw:
      example.server: |
        example.com:53 {
            forward . 1.2.3.4
        }

- name: Exactly these entries, nothing else
  aksnet.networking.coredns:
    forward_zones:
      corp.example.com: [10.10.0.4]
    purge: true

- name: Remove a forwarded zone
  aksnet.networking.coredns:
    forward_zones:
      corp.example.com: []
    state: absent
"""

RETURN = r"""
entries:
  description: The ConfigMap data after the run (in check mode, what it would be).
  returned: always
  type: dict
  sample:
    corp.example.com.server: "corp.example.com:53 {\n    errors\n    cache 30\n    forward . 10.10.0.4\n}\n"
restarted:
  description: Whether CoreDNS was restarted (in check mode, whether it would be).
  returned: always
  type: bool
restart_reason:
  description: Why CoreDNS was restarted although the ConfigMap did not change.
  returned: when CoreDNS was restarted for a stale configuration hash
  type: str
rollout:
  description: The Deployment's replica counts once the rollout finished (after a restart with O(wait)).
  returned: when restarted and waited
  type: dict
  sample: {replicas: 2, updated_replicas: 2, ready_replicas: 2}
api_requests:
  description: Number of Kubernetes API requests made.
  returned: always
  type: int
"""

import datetime
import hashlib
import json

from ansible_collections.aksnet.networking.plugins.module_utils._kube.apply import ensure_object, wait_for
from ansible_collections.aksnet.networking.plugins.module_utils._kube.client import KubeApiError, api_path
from ansible_collections.aksnet.networking.plugins.module_utils._kube.corefile import (
    CONFIGMAP_NAME,
    CONFIGMAP_NAMESPACE,
    HOSTS_KEY,
    LOG_KEY,
    CorefileError,
    render_entries,
    validate_entries,
)
from ansible_collections.aksnet.networking.plugins.module_utils._module import AksnetModule, ModuleFailure

DEPLOYMENT = "coredns"
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
# what the running CoreDNS pods were started with: the hash of the coredns-custom data, on the pod template
CONFIG_HASH_ANNOTATION = "aksnet.networking/coredns-custom-sha256"


def config_hash(data):
    """sha256 of the ConfigMap data (keys sorted), as recorded on the CoreDNS pod template."""
    text = json.dumps(data or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def started_with(deployment):
    """The config hash the Deployment's pods were started with (None when never recorded)."""
    template = ((deployment or {}).get("spec") or {}).get("template") or {}
    return ((template.get("metadata") or {}).get("annotations") or {}).get(CONFIG_HASH_ANNOTATION)


def _forward_zone_names(value):
    if isinstance(value, dict):
        return [str(z) for z in value]
    if isinstance(value, list):
        return [str(z.get("zone")) if isinstance(z, dict) else str(z) for z in value]
    raise ModuleFailure(f"forward_zones: expected a mapping of zone to upstream servers or a list of zones, got {value!r}.")


def absent_keys(params):
    """The ConfigMap keys that state=absent removes."""
    keys = []
    if params.get("forward_zones"):
        zones = _forward_zone_names(params["forward_zones"])
        try:  # the key a zone renders to; the upstream is a placeholder, only the key is used
            keys += list(render_entries(forward_zones={z: ["127.0.0.1"] for z in zones}))
        except CorefileError as exc:
            raise ModuleFailure("Invalid coredns options: " + "; ".join(exc.errors), errors=exc.errors) from None
    if params.get("hosts"):
        keys.append(HOSTS_KEY)
    if params.get("log"):
        keys.append(LOG_KEY)
    keys += list(params.get("raw") or {})
    return keys


def desired_entries(params):
    """Rendered and validated entries of state=present (no request made)."""
    try:
        entries = render_entries(forward_zones=params["forward_zones"], hosts=params["hosts"], log_zones=params["log"], raw=params["raw"])
    except CorefileError as exc:
        raise ModuleFailure("Invalid coredns options: " + "; ".join(exc.errors), errors=exc.errors) from None
    errors = validate_entries(entries)
    if errors:
        raise ModuleFailure("Invalid coredns-custom entries: " + "; ".join(errors), errors=errors)
    if not entries and not params["purge"]:
        raise ModuleFailure("No entry given: set forward_zones, hosts, log or raw (or purge: true to empty the ConfigMap).")
    return entries


def _rollout_state(deployment, generation):
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    wanted = int(spec.get("replicas", 1))
    state = {
        "observed_generation": status.get("observedGeneration", 0),
        "generation": generation,
        "replicas": status.get("replicas", 0),
        "updated_replicas": status.get("updatedReplicas", 0),
        "ready_replicas": status.get("readyReplicas", 0),
        "wanted": wanted,
    }
    done = (
        state["observed_generation"] >= generation and state["updated_replicas"] == wanted and state["replicas"] == wanted and state["ready_replicas"] == wanted
    )
    text = (
        f"observedGeneration {state['observed_generation']} of generation {generation}, {state['updated_replicas']}/{wanted} updated, "
        f"{state['replicas']} total, {state['ready_replicas']}/{wanted} ready"
    )
    return done, state, text


def restart(mod, client, digest, written, result):
    """PATCH the pod template (kubectl rollout restart's restartedAt, plus the hash of the config the new
    pods start with); returns the patched Deployment. ``written``: whether this run wrote the ConfigMap.

    A failed PATCH fails the task with ``changed`` telling whether the ConfigMap was written; the
    hash on the template still names the old config, so the next run restarts."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: now, CONFIG_HASH_ANNOTATION: digest}}}}}
    path = api_path("apps/v1", "deployments", CONFIGMAP_NAMESPACE, DEPLOYMENT)
    what = f"The ConfigMap {CONFIGMAP_NAME} was written" if written else f"The ConfigMap {CONFIGMAP_NAME} is up to date"
    try:
        return client.request(
            "PATCH", path, query={"dryRun": "All"} if mod.check_mode else None, body=body, content_type="application/strategic-merge-patch+json"
        )
    except KubeApiError as exc:
        failed = dict(result, changed=written, restarted=False, error={"status": exc.status, "reason": exc.reason})
        failed["api_requests"] = client.request_count
        if exc.status == 404:
            raise ModuleFailure(
                f"{what}, but Deployment {CONFIGMAP_NAMESPACE}/{DEPLOYMENT} does not exist, so CoreDNS "
                "was not restarted: is this an AKS cluster? Restart your DNS server yourself, or set restart: false.",
                **failed,
            ) from None
        raise ModuleFailure(
            f"{what}, but restarting Deployment {CONFIGMAP_NAMESPACE}/{DEPLOYMENT} failed: {exc}. CoreDNS still runs the previous "
            "configuration; run the task again (it restarts CoreDNS because the pods were not started with this configuration), or "
            f"run kubectl -n {CONFIGMAP_NAMESPACE} rollout restart deployment/{DEPLOYMENT}.",
            **failed,
        ) from None


def run(mod):
    params = mod.params
    if params["wait_timeout"] < 1:
        raise ModuleFailure(f"wait_timeout {params['wait_timeout']} must be at least 1 second.")
    if params["state"] == "absent" and params["purge"]:
        raise ModuleFailure("purge: true applies to state present only (it keeps exactly the entries given); with state absent name the keys to remove.")
    if params["state"] == "present":
        entries = desired_entries(params)
        remove = []
    else:
        entries = {}
        remove = absent_keys(params)
        if not remove:
            raise ModuleFailure("state absent needs the entries to remove: forward_zones (zones), hosts, log or raw (keys).")

    client = mod.kube()
    current = client.get("v1", "configmaps", CONFIGMAP_NAME, CONFIGMAP_NAMESPACE)
    data = dict((current or {}).get("data") or {})
    if params["state"] == "present":
        new_data = dict(entries) if params["purge"] else dict(data, **entries)
        # entries of others may clash with ours (e.g. a second hosts plugin); report only what this run introduces
        introduced = [e for e in validate_entries(new_data) if e not in validate_entries(data)]
        if introduced:
            raise ModuleFailure("The entries conflict with the ConfigMap's other keys: " + "; ".join(introduced), errors=introduced)
    else:
        new_data = {k: v for k, v in data.items() if k not in remove}
    new_data = {k: new_data[k] for k in sorted(new_data)}

    result = {"changed": False, "entries": new_data, "restarted": False, "diff": {"before": {"data": data}, "after": {"data": new_data}}}
    digest = config_hash(new_data)
    stale = False  # the running CoreDNS was not started with new_data (an earlier restart failed or never happened)
    if params["restart"] and (current is not None or params["state"] == "present"):
        deployment = client.get("apps/v1", "deployments", DEPLOYMENT, CONFIGMAP_NAMESPACE)
        stale = deployment is not None and started_with(deployment) != digest
    unchanged = (current is not None and new_data == data) or (current is None and params["state"] == "absent")
    if unchanged and not stale:
        result["api_requests"] = client.request_count
        return result

    written = False
    if not unchanged:
        desired = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP_NAME, "namespace": CONFIGMAP_NAMESPACE},
            "data": new_data,
        }
        applied = ensure_object(client, desired, check_mode=mod.check_mode, current=current)
        written = applied["changed"]
        result["changed"] = written
        result["entries"] = dict(((applied["after"] or {}).get("data")) or {})
    if (written or stale) and params["restart"]:
        patched = restart(mod, client, digest, written and not mod.check_mode, result)
        result["changed"] = True
        result["restarted"] = True
        if not written:
            result["restart_reason"] = "CoreDNS was not started with the current coredns-custom content (an earlier restart failed or never ran)"
        if params["wait"] and not mod.check_mode:
            generation = int((patched.get("metadata") or {}).get("generation", 0))
            what = f"the rollout of Deployment {CONFIGMAP_NAMESPACE}/{DEPLOYMENT} after the restart (new pods ready)"

            def check():
                deployment = client.get("apps/v1", "deployments", DEPLOYMENT, CONFIGMAP_NAMESPACE)
                if deployment is None:
                    return False, "the Deployment is gone"
                done, state, text = _rollout_state(deployment, generation)
                return done, (state if done else text)

            state = wait_for(check, params["wait_timeout"], what, interval=1.0)
            result["rollout"] = {k: state[k] for k in ("replicas", "updated_replicas", "ready_replicas")}
    result["api_requests"] = client.request_count
    return result


def main():
    mod = AksnetModule(
        {
            "forward_zones": {"type": "raw"},
            "hosts": {"type": "raw"},
            "log": {"type": "raw"},
            "raw": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "purge": {"type": "bool", "default": False},
            "restart": {"type": "bool", "default": True},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 120},
        },
        auth="kube",
        libraries=("kubernetes", "urllib3"),
    )
    mod.run(run, "manage the coredns-custom ConfigMap")


if __name__ == "__main__":
    main()
