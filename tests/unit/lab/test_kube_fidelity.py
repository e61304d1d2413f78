"""The lab's Kubernetes emulator refuses what a kube-apiserver refuses, and honours dry run (issue 9).

Every test sends raw HTTP requests (content types, query parameters and headers under the test's
control) and asserts on what a client sees: the status code, the ``Status`` reason, the field
named in ``details.causes`` (and the message where the apiserver's wording is fixed), what is
stored afterwards, and the request log at ``/_lab/requests``.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.lab import kube_schema

TOKEN = "fidelity-token"
NS = "fidelity"


class Answer:
    def __init__(self, status: int, body, headers) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def warnings(self) -> list[str]:
        return self.headers.get_all("Warning") or []

    @property
    def reason(self) -> str:
        return self.body.get("reason", "")

    @property
    def fields(self) -> list[str]:
        return [c["field"] for c in (self.body.get("details") or {}).get("causes") or []]

    def cause(self, field: str) -> dict:
        return next(c for c in self.body["details"]["causes"] if c["field"] == field)


@pytest.fixture()
def emu(fast_kube_emulator):
    fast_kube_emulator.reset()
    fast_kube_emulator.load_objects({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    fast_kube_emulator.clear_requests()
    return fast_kube_emulator


def call(emu, method: str, path: str, body=None, *, query: dict | None = None, content_type: str = "application/json") -> Answer:
    url = emu.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})
    context = ssl.create_default_context(cafile=emu.certs["ca"])
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return Answer(response.status, json.loads(response.read() or b"{}"), response.headers)
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, json.loads(exc.read() or b"{}"), exc.headers)


SERVICES = f"/api/v1/namespaces/{NS}/services"
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"
POLICIES = f"/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies"
INGRESSES = f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
PODS = f"/api/v1/namespaces/{NS}/pods"
CNPS = f"/apis/cilium.io/v2/namespaces/{NS}/ciliumnetworkpolicies"


def service(name="web", **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}], **spec}}


def policy(name="np", ports=None):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
            "spec": {"podSelector": {}, "ingress": [{"ports": ports or [{"port": 80}]}]}}


def deployment(name="web"):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.26", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "volumeMounts": [{"name": "conf", "mountPath": "/etc/conf"}, {"name": "data", "mountPath": "/data"}]},
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ],
                    "volumes": [{"name": "conf", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
                    "imagePullSecrets": [{"name": "registry-a"}],
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                },
            },
        },
    }


def cnp(name="cnp", **spec):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": name},
            "spec": {"endpointSelector": {"matchLabels": {"app": "web"}}, **spec}}


def stored(emu, plural, name, group=""):
    return emu.get_object(plural, name, NS, group)


# ------------------------------------------------------------------------------------------
# 1. The OpenAPI schema of the emulated version: the decoder's answers


def test_schema_of_the_emulated_minor_version_or_the_newest_older_one():
    directory, shipped = kube_schema.schema_directory("v1.32.7")
    assert shipped == "v1.32.0" and directory.endswith("v1.32.0-local-strict")
    assert kube_schema.schema_directory("v1.99.3")[1] == "v1.37.0"  # newest shipped that is not newer
    with pytest.raises(RuntimeError):
        kube_schema.schema_directory("v1.2.0")


def test_unknown_fields_are_dropped_with_a_warning_by_default(emu):
    body = service()
    body["spec"]["clusterIp"] = "10.0.0.99"  # a typo: the field is clusterIP
    body["spec"]["ports"][0]["portName"] = "x"
    answer = call(emu, "POST", SERVICES, body)
    assert answer.status == 201
    # one Warning header per dropped field, in the order the decoder meets them (ports come before clusterIp in the body)
    assert answer.warnings == ['299 - "unknown field \\"spec.ports[0].portName\\""', '299 - "unknown field \\"spec.clusterIp\\""']
    kept = stored(emu, "services", "web")
    assert "clusterIp" not in kept["spec"] and "portName" not in kept["spec"]["ports"][0]


def test_unknown_fields_with_strict_field_validation_are_400(emu):
    body = service()
    body["spec"] = {"foo": 1, **body["spec"]}
    body["spec"]["ports"][0]["bar"] = 2
    answer = call(emu, "POST", SERVICES, body, query={"fieldValidation": "Strict"})
    assert answer.status == 400 and answer.reason == "BadRequest"
    assert answer.body["message"] == ('Service in version "v1" cannot be handled as a Service: strict decoding error: '
                                      'unknown field "spec.foo", unknown field "spec.ports[0].bar"')
    assert stored(emu, "services", "web") is None


def test_unknown_fields_with_ignore_are_dropped_silently(emu):
    body = service()
    body["spec"]["foo"] = 1
    answer = call(emu, "POST", SERVICES, body, query={"fieldValidation": "Ignore"})
    assert answer.status == 201 and answer.warnings == []
    assert "foo" not in stored(emu, "services", "web")["spec"]


def test_unknown_field_validation_directive_is_refused(emu):
    answer = call(emu, "POST", SERVICES, service(), query={"fieldValidation": "Loud"})
    assert answer.status == 422 and answer.reason == "Invalid" and answer.fields == ["fieldValidation"]
    assert answer.body["message"] == ('CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": '
                                      'supported values: "", "Ignore", "Strict", "Warn"')


def test_strict_field_validation_on_replace_and_patch(emu):
    assert call(emu, "POST", SERVICES, service()).status == 201
    current = stored(emu, "services", "web")
    current["spec"]["bogus"] = True
    answer = call(emu, "PUT", f"{SERVICES}/web", current, query={"fieldValidation": "Strict"})
    assert answer.status == 400 and answer.body["message"].endswith('strict decoding error: unknown field "spec.bogus"')
    answer = call(emu, "PATCH", f"{SERVICES}/web", {"spec": {"bogus": True}}, query={"fieldValidation": "Strict"},
                  content_type="application/merge-patch+json")
    assert answer.status == 400 and answer.body["message"] == 'strict decoding error: unknown field "spec.bogus"'
    answer = call(emu, "PATCH", f"{SERVICES}/web", {"spec": {"bogus": True}}, content_type="application/strategic-merge-patch+json")
    assert answer.status == 200 and answer.warnings == ['299 - "unknown field \\"spec.bogus\\""'] and "bogus" not in answer.body["spec"]


def test_a_value_of_the_wrong_type_is_a_400_decode_error(emu):
    body = service()
    body["spec"]["ports"][0]["port"] = "80"
    answer = call(emu, "POST", SERVICES, body)
    assert answer.status == 400 and answer.reason == "BadRequest"
    assert answer.body["message"] == ('Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct '
                                      'field ServicePort.spec.ports.port of type int32')
    body = policy()
    body["spec"]["ingress"][0]["ports"][0]["endPort"] = 80.5
    answer = call(emu, "POST", POLICIES, body)
    assert answer.status == 400 and "cannot unmarshal number 80.5 into Go struct field NetworkPolicyPort.spec.ingress.ports.endPort of type int32" in (
        answer.body["message"])
    answer = call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm", "labels": {"team": 7}}})
    assert answer.status == 400 and answer.body["message"].endswith("cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string")


def test_a_value_of_the_wrong_type_in_a_patch_is_422_naming_the_patch(emu):
    assert call(emu, "POST", SERVICES, service()).status == 201
    answer = call(emu, "PATCH", f"{SERVICES}/web", {"spec": {"ports": [{"name": "http", "port": "eighty"}]}},
                  content_type="application/merge-patch+json")
    assert answer.status == 422 and answer.reason == "Invalid" and answer.fields == ["patch"]
    assert "cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32" in answer.cause("patch")["message"]
    assert stored(emu, "services", "web")["spec"]["ports"][0]["port"] == 80


def test_fields_the_schema_requires_are_required(emu):
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"image": "nginx"}]}}
    answer = call(emu, "POST", PODS, pod)
    assert answer.status == 422 and answer.cause("spec.containers[0].name")["reason"] == "FieldValueRequired"
    ingress = {"metadata": {"name": "ing"}, "spec": {"rules": [{"http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"port": {"number": 80}}}}]}}]}}
    answer = call(emu, "POST", INGRESSES, ingress)
    assert answer.status == 422
    assert answer.cause("spec.rules[0].http.paths[0].backend.service.name") == {
        "reason": "FieldValueRequired", "message": "Required value", "field": "spec.rules[0].http.paths[0].backend.service.name"}


# ------------------------------------------------------------------------------------------
# 2. Rules a schema cannot express


@pytest.mark.parametrize(("path", "body", "message"), [
    (SERVICES, service("1web"), "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character"),
    (SERVICES, service("web.v2"), "a DNS-1035 label"),
    ("/api/v1/namespaces", {"metadata": {"name": "team.a"}}, "must not contain dots"),
    ("/api/v1/namespaces", {"metadata": {"name": "Team"}}, "a lowercase RFC 1123 label must consist of"),
    (CONFIGMAPS, {"metadata": {"name": "Bad_Name"}}, "a lowercase RFC 1123 subdomain must consist of"),
    (CONFIGMAPS, {"metadata": {"name": "x" * 254}}, "must be no more than 253 characters"),
])
def test_names_are_dns_labels_or_subdomains_per_kind(emu, path, body, message):
    answer = call(emu, "POST", path, body)
    assert answer.status == 422 and answer.reason == "Invalid"
    cause = answer.cause("metadata.name")
    assert cause["reason"] == "FieldValueInvalid" and message in cause["message"]


def test_a_dotted_name_is_fine_where_a_subdomain_is_allowed(emu):
    assert call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "app.config-v2"}}).status == 201
    assert call(emu, "POST", POLICIES, policy("allow.web")).status == 201


@pytest.mark.parametrize(("labels", "value", "message"), [
    ({"bad key": "v"}, "bad key", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric"),
    ({"Example.com/app": "v"}, "Example.com/app", "prefix part a lowercase RFC 1123 subdomain"),
    ({"a/b/c": "v"}, "a/b/c", "a qualified name must consist of"),
    ({"app": "-web"}, "-web", "a valid label must be an empty string or consist of alphanumeric characters"),
    ({"app": "v" * 64}, "v" * 64, "must be no more than 63 characters"),
])
def test_label_keys_and_values(emu, labels, value, message):
    answer = call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm", "labels": labels}})
    assert answer.status == 422
    cause = answer.cause("metadata.labels")
    assert cause["reason"] == "FieldValueInvalid" and cause["message"].startswith(f"Invalid value: {json.dumps(value)}: ") and message in cause["message"]
    assert call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "ok", "labels": {"example.com/app": "web_1.0", "empty": ""}}}).status == 201


@pytest.mark.parametrize("port", [0, 65536, 70000])
def test_service_port_range(emu, port):
    body = service()
    body["spec"]["ports"][0]["port"] = port
    answer = call(emu, "POST", SERVICES, body)
    assert answer.status == 422
    assert answer.cause("spec.ports[0].port") == {"reason": "FieldValueInvalid", "field": "spec.ports[0].port",
                                                  "message": f"Invalid value: {port}: must be between 1 and 65535, inclusive"}


@pytest.mark.parametrize(("target", "message"), [
    ("metrics-endpoint", "must be no more than 15 characters"),
    ("HTTP", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    ("8080", "must contain at least one letter (a-z)"),
    ("http--alt", "must not contain consecutive hyphens"),
    ("-http", "must not begin or end with a hyphen"),
    ("http-", "must not begin or end with a hyphen"),
])
def test_named_target_port_is_an_iana_service_name(emu, target, message):
    answer = call(emu, "POST", SERVICES, service(ports=[{"port": 80, "targetPort": target}]))
    assert answer.status == 422
    cause = answer.cause("spec.ports[0].targetPort")
    assert cause["reason"] == "FieldValueInvalid" and cause["message"] == f"Invalid value: {json.dumps(target)}: {message}"


def test_a_valid_named_target_port_is_accepted(emu):
    answer = call(emu, "POST", SERVICES, service(ports=[{"port": 80, "targetPort": "http-alt2"}]))
    assert answer.status == 201 and answer.body["spec"]["ports"][0]["targetPort"] == "http-alt2"


def test_network_policy_protocols(emu):
    answer = call(emu, "POST", POLICIES, policy(ports=[{"port": 53, "protocol": "ICMP"}]))
    assert answer.status == 422
    assert answer.cause("spec.ingress[0].ports[0].protocol") == {
        "reason": "FieldValueNotSupported", "field": "spec.ingress[0].ports[0].protocol",
        "message": 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'}
    assert call(emu, "POST", POLICIES, policy("sctp", ports=[{"port": 9000, "protocol": "SCTP"}])).status == 201


@pytest.mark.parametrize(("port", "message"), [
    ({"port": 8080, "endPort": 8000}, "Invalid value: 8080: must be greater than or equal to `port`"),  # the apiserver shows port's value
    ({"port": "http", "endPort": 9000}, "Invalid value: 9000: may not be specified when `port` is non-numeric"),
    ({"endPort": 9000}, "Invalid value: 9000: may not be specified when `port` is not specified"),
    ({"port": 8000, "endPort": 70000}, "Invalid value: 70000: must be between 1 and 65535, inclusive"),
])
def test_network_policy_end_port(emu, port, message):
    answer = call(emu, "POST", POLICIES, policy(ports=[port]))
    assert answer.status == 422
    cause = answer.cause("spec.ingress[0].ports[0].endPort")
    assert cause["reason"] == "FieldValueInvalid" and cause["message"] == message


def test_network_policy_port_ranges_and_named_ports_that_are_valid(emu):
    answer = call(emu, "POST", POLICIES, policy(ports=[{"port": 8000, "endPort": 8080}, {"port": 9000, "endPort": 9000}, {"port": "metrics"}]))
    assert answer.status == 201
    assert answer.body["spec"]["ingress"][0]["ports"][0] == {"port": 8000, "endPort": 8080, "protocol": "TCP"}


def test_network_policy_peers(emu):
    body = policy()
    body["spec"]["ingress"][0]["from"] = [{}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}, "podSelector": {}}]
    answer = call(emu, "POST", POLICIES, body)
    assert answer.status == 422
    assert answer.cause("spec.ingress[0].from[0]") == {"reason": "FieldValueRequired", "field": "spec.ingress[0].from[0]",
                                                       "message": "Required value: must specify a peer"}
    assert answer.cause("spec.ingress[0].from[1]")["reason"] == "FieldValueForbidden"
    assert answer.cause("spec.ingress[0].from[1].ipBlock.except[0]")["message"].endswith("must be a strict subset of `cidr`")


@pytest.mark.parametrize(("path_type", "reason", "message"), [
    ("Regex", "FieldValueNotSupported", 'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'),
    (None, "FieldValueRequired", "Required value: pathType must be specified"),
])
def test_ingress_path_type(emu, path_type, reason, message):
    path = {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}
    if path_type:
        path["pathType"] = path_type
    answer = call(emu, "POST", INGRESSES, {"metadata": {"name": "ing"}, "spec": {"rules": [{"http": {"paths": [path]}}]}})
    assert answer.status == 422
    cause = answer.cause("spec.rules[0].http.paths[0].pathType")
    assert cause["reason"] == reason and cause["message"] == message


def test_ingress_paths_of_each_type(emu):
    paths = [{"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
             {"path": "/exact", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
             {"pathType": "ImplementationSpecific", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]
    rules = [{"host": "shop.example.com", "http": {"paths": paths}}]
    assert call(emu, "POST", INGRESSES, {"metadata": {"name": "ing"}, "spec": {"rules": rules}}).status == 201
    bad = [{"path": "api", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]
    answer = call(emu, "POST", INGRESSES, {"metadata": {"name": "ing2"}, "spec": {"rules": [{"http": {"paths": bad}}]}})
    assert answer.status == 422 and answer.cause("spec.rules[0].http.paths[0].path")["message"] == 'Invalid value: "api": must be an absolute path'


# ------------------------------------------------------------------------------------------
# 3. Dry run


def _snapshot(emu):
    return emu.objects(namespace=NS)


def test_dry_run_create_validates_answers_201_and_stores_nothing(emu):
    before = _snapshot(emu)
    answer = call(emu, "POST", SERVICES, service(), query={"dryRun": "All"})
    assert answer.status == 201 and answer.body["metadata"]["uid"] and answer.body["spec"]["clusterIP"]
    assert _snapshot(emu) == before and stored(emu, "services", "web") is None
    invalid = call(emu, "POST", SERVICES, service("Web"), query={"dryRun": "All"})
    assert invalid.status == 422 and invalid.fields == ["metadata.name"]
    # the random state behind names, uids and IPs was not used up either: the real create gets the dry run's IP
    created = call(emu, "POST", SERVICES, service())
    assert created.status == 201 and created.body["spec"]["clusterIP"] == answer.body["spec"]["clusterIP"]
    log = emu.requests
    assert [(r["method"], r["dry_run"]) for r in log] == [("POST", True), ("POST", True), ("POST", False)]


def test_dry_run_replace_patch_and_delete_change_nothing(emu):
    assert call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm"}, "data": {"k": "v"}}).status == 201
    before = _snapshot(emu)
    current = stored(emu, "configmaps", "cm")
    replaced = call(emu, "PUT", f"{CONFIGMAPS}/cm", {**current, "data": {"k": "replaced"}}, query={"dryRun": "All"})
    assert replaced.status == 200 and replaced.body["data"] == {"k": "replaced"}
    for content_type, patch in (("application/merge-patch+json", {"data": {"k": "merged"}}),
                                ("application/strategic-merge-patch+json", {"data": {"k": "strategic"}}),
                                ("application/json-patch+json", [{"op": "replace", "path": "/data/k", "value": "json"}])):
        answer = call(emu, "PATCH", f"{CONFIGMAPS}/cm", patch, query={"dryRun": "All"}, content_type=content_type)
        assert answer.status == 200 and answer.body["data"]["k"] != "v", content_type
    applied = call(emu, "PATCH", f"{CONFIGMAPS}/applied", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}},
                   query={"dryRun": "All", "fieldManager": "lab"}, content_type="application/apply-patch+yaml")
    assert applied.status == 201
    deleted = call(emu, "DELETE", f"{CONFIGMAPS}/cm", query={"dryRun": "All"})
    assert deleted.status == 200 and deleted.body["metadata"]["name"] == "cm"
    namespace = call(emu, "DELETE", f"/api/v1/namespaces/{NS}", query={"dryRun": "All"})
    assert namespace.status == 200 and namespace.body["status"]["phase"] == "Terminating"
    assert _snapshot(emu) == before
    assert emu.get_object("namespaces", NS) is not None
    writes = [r for r in emu.requests if r["method"] != "GET"]
    assert len(writes) == 8 and writes[0]["dry_run"] is False and all(r["dry_run"] for r in writes[1:])


def test_dry_run_in_delete_options_body(emu):
    assert call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm"}}).status == 201
    answer = call(emu, "DELETE", f"{CONFIGMAPS}/cm", {"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"]})
    assert answer.status == 200 and stored(emu, "configmaps", "cm") is not None
    assert emu.requests[-1]["dry_run"] is True


def test_dry_run_log_served_at_lab_route(emu):
    call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm"}}, query={"dryRun": "All"})
    context = ssl.create_default_context(cafile=emu.certs["ca"])
    with urllib.request.urlopen(emu.url + "/_lab/requests", context=context, timeout=10) as response:
        log = json.loads(response.read())
    assert [(e["method"], e["path"], e["dry_run"]) for e in log] == [("POST", CONFIGMAPS, True)]


@pytest.mark.parametrize(("method", "path", "options"), [
    ("POST", CONFIGMAPS, "CreateOptions"), ("PUT", f"{CONFIGMAPS}/cm", "UpdateOptions"),
    ("PATCH", f"{CONFIGMAPS}/cm", "PatchOptions"), ("DELETE", f"{CONFIGMAPS}/cm", "DeleteOptions"),
])
def test_an_unknown_dry_run_value_is_refused(emu, method, path, options):
    assert call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm"}}).status == 201
    body = {"metadata": {"name": "cm"}} if method != "DELETE" else None
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    answer = call(emu, method, path, body, query={"dryRun": "Some"}, content_type=content_type)
    # kube-apiserver validates its options: an Invalid CreateOptions/UpdateOptions/... (422), not a 400
    assert answer.status == 422 and answer.reason == "Invalid" and answer.fields == ["dryRun"]
    assert answer.body["message"] == f'{options}.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"'
    assert answer.body["details"]["causes"][0]["reason"] == "FieldValueNotSupported"
    assert stored(emu, "configmaps", "cm") is not None


# ------------------------------------------------------------------------------------------
# 4. Patch content types


def test_strategic_merge_patch_uses_the_kinds_merge_keys(emu):
    assert call(emu, "POST", DEPLOYMENTS, deployment()).status == 201
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 443, "name": "https"}],
                        "env": [{"name": "B", "value": "changed"}], "volumeMounts": [{"mountPath": "/data", "readOnly": True}]}],
        "volumes": [{"name": "cache", "emptyDir": {}}],
        "imagePullSecrets": [{"name": "registry-b"}],
        "tolerations": [{"key": "b", "operator": "Exists"}],
    }}}}
    answer = call(emu, "PATCH", f"{DEPLOYMENTS}/web", patch, content_type="application/strategic-merge-patch+json")
    assert answer.status == 200, answer.body
    spec = answer.body["spec"]["template"]["spec"]
    web = spec["containers"][0]
    assert [c["name"] for c in spec["containers"]] == ["web", "sidecar"] and web["image"] == "nginx:1.27"
    assert [(p["containerPort"], p.get("name")) for p in web["ports"]] == [(80, "http"), (443, "https")]
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "changed"}]
    assert web["volumeMounts"] == [{"name": "conf", "mountPath": "/etc/conf"}, {"name": "data", "mountPath": "/data", "readOnly": True}]
    assert [v["name"] for v in spec["volumes"]] == ["conf", "data", "cache"]
    assert spec["imagePullSecrets"] == [{"name": "registry-a"}, {"name": "registry-b"}]
    assert spec["tolerations"] == [{"key": "b", "operator": "Exists"}]  # no patch strategy: replaced whole


def test_strategic_merge_patch_directives(emu):
    assert call(emu, "POST", DEPLOYMENTS, deployment()).status == 201
    deleted = call(emu, "PATCH", f"{DEPLOYMENTS}/web", {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}},
                   content_type="application/strategic-merge-patch+json")
    assert [c["name"] for c in deleted.body["spec"]["template"]["spec"]["containers"]] == ["web"]
    replaced = call(emu, "PATCH", f"{DEPLOYMENTS}/web", {"spec": {"template": {"spec": {"volumes": [{"name": "only", "emptyDir": {}}, {"$patch": "replace"}],
                                                                                        "containers": [{"name": "web", "volumeMounts": None}]}}}},
                    content_type="application/strategic-merge-patch+json")
    assert replaced.status == 200, replaced.body
    assert replaced.body["spec"]["template"]["spec"]["volumes"] == [{"name": "only", "emptyDir": {}}]
    finalizers = call(emu, "PATCH", f"{DEPLOYMENTS}/web", {"metadata": {"finalizers": ["example.com/a"]}},
                      content_type="application/strategic-merge-patch+json")
    finalizers = call(emu, "PATCH", f"{DEPLOYMENTS}/web", {"metadata": {"finalizers": ["example.com/b"]}},
                      content_type="application/strategic-merge-patch+json")
    assert finalizers.body["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]  # a merged set
    removed = call(emu, "PATCH", f"{DEPLOYMENTS}/web", {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a", "example.com/b"]}},
                   content_type="application/strategic-merge-patch+json")
    assert not removed.body["metadata"].get("finalizers")


def test_service_ports_merge_by_port_and_network_policy_lists_replace(emu):
    assert call(emu, "POST", SERVICES, service(ports=[{"name": "http", "port": 80}, {"name": "https", "port": 443}])).status == 201
    answer = call(emu, "PATCH", f"{SERVICES}/web", {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}},
                  content_type="application/strategic-merge-patch+json")
    assert [(p["port"], p["targetPort"]) for p in answer.body["spec"]["ports"]] == [(80, 80), (443, 8443)]
    assert call(emu, "POST", POLICIES, policy(ports=[{"port": 80}, {"port": 443}])).status == 201
    answer = call(emu, "PATCH", f"{POLICIES}/np", {"spec": {"ingress": [{"ports": [{"port": 8080}]}]}},
                  content_type="application/strategic-merge-patch+json")
    assert answer.body["spec"]["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]


def test_merge_patch_and_json_patch(emu):
    assert call(emu, "POST", SERVICES, service(ports=[{"name": "http", "port": 80}, {"name": "https", "port": 443}])).status == 201
    merged = call(emu, "PATCH", f"{SERVICES}/web", {"spec": {"ports": [{"port": 8080}]}, "metadata": {"labels": {"tier": "front"}}},
                  content_type="application/merge-patch+json")
    assert [p["port"] for p in merged.body["spec"]["ports"]] == [8080] and merged.body["metadata"]["labels"] == {"tier": "front"}
    patched = call(emu, "PATCH", f"{SERVICES}/web", [{"op": "add", "path": "/metadata/labels/app", "value": "web"},
                                                     {"op": "test", "path": "/spec/ports/0/port", "value": 8080}],
                   content_type="application/json-patch+json")
    assert patched.status == 200 and patched.body["metadata"]["labels"] == {"tier": "front", "app": "web"}


def test_server_side_apply_needs_a_field_manager(emu):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v"}}
    answer = call(emu, "PATCH", f"{CONFIGMAPS}/applied", body, content_type="application/apply-patch+yaml")
    assert answer.status == 422 and answer.fields == ["fieldManager"]
    created = call(emu, "PATCH", f"{CONFIGMAPS}/applied", body, query={"fieldManager": "aksnet"}, content_type="application/apply-patch+yaml")
    assert created.status == 201 and stored(emu, "configmaps", "applied")["data"] == {"k": "v"}
    again = call(emu, "PATCH", f"{CONFIGMAPS}/applied", {**body, "data": {"k": "w"}}, query={"fieldManager": "aksnet"},
                 content_type="application/apply-patch+yaml")
    assert again.status == 200 and again.body["data"] == {"k": "w"}


def test_custom_resources_refuse_strategic_merge_patch(emu):
    emu.register_cilium_crds()
    assert call(emu, "POST", CNPS, cnp(ingress=[{}])).status == 201
    answer = call(emu, "PATCH", f"{CNPS}/cnp", {"spec": {"description": "x"}}, content_type="application/strategic-merge-patch+json")
    assert answer.status == 415 and answer.reason == "UnsupportedMediaType"
    assert answer.body["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                                      "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
    merged = call(emu, "PATCH", f"{CNPS}/cnp", {"spec": {"description": "x"}}, content_type="application/merge-patch+json")
    assert merged.status == 200 and merged.body["spec"]["description"] == "x"
    assert call(emu, "PATCH", f"{SERVICES}/none", {}, content_type="application/json").status == 415


# ------------------------------------------------------------------------------------------
# 5. resourceVersion: conflicts and no-op writes


def test_a_stale_resource_version_is_a_conflict(emu):
    created = call(emu, "POST", CONFIGMAPS, {"metadata": {"name": "cm"}, "data": {"k": "1"}})
    fresh = call(emu, "PUT", f"{CONFIGMAPS}/cm", {**created.body, "data": {"k": "2"}})
    assert fresh.status == 200
    stale = call(emu, "PUT", f"{CONFIGMAPS}/cm", {**created.body, "data": {"k": "3"}})
    assert stale.status == 409 and stale.reason == "Conflict"
    assert stale.body["message"] == ('Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
                                     "please apply your changes to the latest version and try again")
    assert stored(emu, "configmaps", "cm")["data"] == {"k": "2"}


def test_no_op_writes_keep_the_resource_version(emu):
    created = call(emu, "POST", SERVICES, service())
    version = created.body["metadata"]["resourceVersion"]
    same = call(emu, "PUT", f"{SERVICES}/web", created.body)
    assert same.status == 200 and same.body["metadata"]["resourceVersion"] == version
    without_defaults = service()  # the server fills clusterIP, protocol, ...: still the same object
    without_defaults["metadata"]["resourceVersion"] = version
    assert call(emu, "PUT", f"{SERVICES}/web", without_defaults).body["metadata"]["resourceVersion"] == version
    for content_type, patch in (("application/merge-patch+json", {"spec": {"selector": {"app": "web"}}}),
                                ("application/strategic-merge-patch+json", {"metadata": {"labels": None}}),
                                ("application/json-patch+json", [])):
        answer = call(emu, "PATCH", f"{SERVICES}/web", patch, content_type=content_type)
        assert answer.status == 200 and answer.body["metadata"]["resourceVersion"] == version, content_type
    changed = call(emu, "PATCH", f"{SERVICES}/web", {"metadata": {"labels": {"a": "b"}}}, content_type="application/merge-patch+json")
    assert int(changed.body["metadata"]["resourceVersion"]) > int(version)
    assert stored(emu, "services", "web")["metadata"]["resourceVersion"] == changed.body["metadata"]["resourceVersion"]


def test_no_op_writes_do_not_bump_generation(emu):
    created = call(emu, "POST", POLICIES, policy())
    same = call(emu, "PUT", f"{POLICIES}/np", created.body)
    assert same.body["metadata"]["generation"] == 1 and same.body["metadata"]["resourceVersion"] == created.body["metadata"]["resourceVersion"]


# ------------------------------------------------------------------------------------------
# 6. Cilium policies: the CRD's schema


@pytest.fixture()
def cilium(emu):
    emu.register_cilium_crds()
    return emu


def test_valid_cilium_policies_are_stored_as_sent(cilium):
    ports = [{"port": "8080", "protocol": "TCP"}, {"port": "http", "protocol": "ANY"}]
    spec = {"ingress": [{"fromEndpoints": [{"matchLabels": {"app": "front"}}], "toPorts": [{"ports": ports}]}],
            "egress": [{"toEntities": ["kube-apiserver", "remote-node"]},
                       {"toFQDNs": [{"matchPattern": "*.example.com"}], "toPorts": [{"ports": [{"port": "443", "endPort": 445}]}]},
                       {"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]},
                       {"icmps": [{"fields": [{"type": 8, "family": "IPv4"}, {"type": "EchoRequest"}]}]}],
            "enableDefaultDeny": {"ingress": True, "egress": False}}
    answer = call(cilium, "POST", CNPS, cnp(**spec))
    assert answer.status == 201, answer.body
    assert stored(cilium, "ciliumnetworkpolicies", "cnp", "cilium.io")["spec"] == {"endpointSelector": {"matchLabels": {"app": "web"}}, **spec}


def test_cilium_unknown_spec_fields(cilium):
    answer = call(cilium, "POST", CNPS, cnp(egres=[], ingress=[{"fromEndpoint": [{}]}]), query={"fieldValidation": "Strict"})
    assert answer.status == 400 and answer.body["message"] == (
        'CiliumNetworkPolicy in version "v2" cannot be handled as a CiliumNetworkPolicy: strict decoding error: '
        'unknown field "spec.egres", unknown field "spec.ingress[0].fromEndpoint"')
    pruned = call(cilium, "POST", CNPS, cnp(ingress=[{}], egres=[]))
    assert pruned.status == 201 and pruned.warnings == ['299 - "unknown field \\"spec.egres\\""'] and "egres" not in pruned.body["spec"]


@pytest.mark.parametrize("port", ["http!", "", "-", ":80"])
def test_cilium_ports_follow_the_crd_pattern(cilium, port):
    answer = call(cilium, "POST", CNPS, cnp(ingress=[{"toPorts": [{"ports": [{"port": port}]}]}]))
    assert answer.status == 422 and answer.reason == "Invalid"
    field = "spec.ingress[0].toPorts[0].ports[0].port"
    cause = answer.cause(field)
    assert cause["reason"] == "FieldValueInvalid"
    assert cause["message"] == f"Invalid value: {json.dumps(port)}: {field} in body should match '{kube_schema.CILIUM_PORT_PATTERN}'"
    assert answer.body["message"].startswith(f'CiliumNetworkPolicy.cilium.io "cnp" is invalid: {field}: Invalid value')


# The CRD's pattern is '^(number)|(name)$': anchored at one end per alternative, so "8080/tcp" passes (as on a real cluster).
@pytest.mark.parametrize("port", ["0", "53", "65535", "dns", "http-8080", "8080/tcp"])
def test_cilium_numeric_and_named_ports_are_accepted(cilium, port):
    assert call(cilium, "POST", CNPS, cnp(ingress=[{"toPorts": [{"ports": [{"port": port}]}]}])).status == 201


@pytest.mark.parametrize("protocol", ["ICMP", "tcp", "HTTP"])
def test_cilium_protocols(cilium, protocol):
    answer = call(cilium, "POST", CNPS, cnp(egress=[{"toPorts": [{"ports": [{"port": "80", "protocol": protocol}]}]}]))
    assert answer.status == 422
    assert answer.cause("spec.egress[0].toPorts[0].ports[0].protocol") == {
        "reason": "FieldValueNotSupported", "field": "spec.egress[0].toPorts[0].ports[0].protocol",
        "message": f'Unsupported value: "{protocol}": supported values: "TCP", "UDP", "SCTP", "ANY"'}


def test_cilium_entities(cilium):
    answer = call(cilium, "POST", "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies",
                  {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "ccnp"},
                   "spec": {"endpointSelector": {}, "egress": [{"toEntities": ["world", "internet"]}]}})
    assert answer.status == 422
    cause = answer.cause("spec.egress[0].toEntities[1]")
    assert cause["reason"] == "FieldValueNotSupported"
    assert cause["message"] == ('Unsupported value: "internet": supported values: "all", "world", "cluster", "host", "init", "ingress", '
                                '"unmanaged", "remote-node", "health", "none", "kube-apiserver"')
    assert answer.body["message"].startswith('CiliumClusterwideNetworkPolicy.cilium.io "ccnp" is invalid: spec.egress[0].toEntities[1]: Unsupported value')


def test_cilium_types_and_ranges(cilium):
    answer = call(cilium, "POST", CNPS, cnp(egress=[{"toPorts": [{"ports": [{"port": 80}, {"port": "80", "endPort": 70000}]}]}]))
    assert answer.status == 422
    assert answer.cause("spec.egress[0].toPorts[0].ports[0].port") == {
        "reason": "FieldValueTypeInvalid", "field": "spec.egress[0].toPorts[0].ports[0].port",
        "message": 'Invalid value: "integer": spec.egress[0].toPorts[0].ports[0].port in body must be of type string: "integer"'}
    assert answer.cause("spec.egress[0].toPorts[0].ports[1].endPort")["message"] == (
        "Invalid value: 70000: spec.egress[0].toPorts[0].ports[1].endPort in body should be less than or equal to 65535")


def test_cilium_selector_is_endpoint_or_node(cilium):
    answer = call(cilium, "POST", CNPS, {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "none"},
                                         "spec": {"ingress": [{}]}})
    assert answer.status == 422 and answer.fields == ["spec"]
    assert "must validate one and only one schema (oneOf)" in answer.cause("spec")["message"]


def test_cilium_schema_also_checks_patches_and_replaces(cilium):
    assert call(cilium, "POST", CNPS, cnp(ingress=[{}])).status == 201
    answer = call(cilium, "PATCH", f"{CNPS}/cnp", {"spec": {"egress": [{"toEntities": ["everything"]}]}}, content_type="application/merge-patch+json")
    assert answer.status == 422 and answer.fields == ["spec.egress[0].toEntities[0]"]
    current = stored(cilium, "ciliumnetworkpolicies", "cnp", "cilium.io")
    current["spec"]["ingress"] = [{"toPorts": [{"ports": [{"port": "80", "protocol": "ICMP"}]}]}]
    assert call(cilium, "PUT", f"{CNPS}/cnp", current).status == 422
    assert stored(cilium, "ciliumnetworkpolicies", "cnp", "cilium.io")["spec"]["ingress"] == [{}]


# Differences found against the real control plane (kube-apiserver v1.36.3, issue 14): the real one wins.

APPLY = "application/apply-patch+yaml"


def _apply(emu, name, data, manager, **query):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    return call(emu, "PATCH", f"{CONFIGMAPS}/{name}", body, query={"fieldManager": manager, **query}, content_type=APPLY)


def test_server_side_apply_of_a_field_another_manager_applied_is_a_409(emu):
    assert _apply(emu, "ssa", {"k": "one", "x": "1"}, "alice").status == 201
    answer = _apply(emu, "ssa", {"k": "two"}, "bob")
    assert answer.status == 409 and answer.reason == "Conflict"
    assert answer.body["message"] == 'Apply failed with 1 conflict: conflict with "alice": .data.k'
    assert answer.body["details"] == {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".data.k"}]}
    assert stored(emu, "configmaps", "ssa")["data"] == {"k": "one", "x": "1"}
    # the same value is no conflict; a field nobody else owns neither
    assert _apply(emu, "ssa", {"k": "one", "y": "2"}, "carol").status == 200
    # force takes the field from both owners; then its old owners conflict in turn
    forced = _apply(emu, "ssa", {"k": "two"}, "bob", force="true")
    assert forced.status == 200 and forced.body["data"]["k"] == "two"
    again = _apply(emu, "ssa", {"k": "one", "x": "1"}, "alice")
    assert again.status == 409 and again.body["message"] == 'Apply failed with 1 conflict: conflict with "bob": .data.k'
    # the same manager may change its own fields
    assert _apply(emu, "ssa", {"k": "three"}, "bob").status == 200


def test_server_side_apply_conflicts_with_several_fields_and_dry_run_keeps_ownership(emu):
    assert _apply(emu, "many", {"a": "1", "b": "2"}, "alice").status == 201
    answer = _apply(emu, "many", {"a": "x", "b": "y"}, "bob")
    assert answer.status == 409
    assert answer.body["message"] == 'Apply failed with 2 conflicts: conflicts with "alice":\n- .data.a\n- .data.b'
    assert [c["field"] for c in answer.body["details"]["causes"]] == [".data.a", ".data.b"]
    assert _apply(emu, "many", {"a": "x"}, "bob", force="true", dryRun="All").status == 200
    assert _apply(emu, "many", {"a": "x"}, "bob").status == 409  # the dry run took nothing


def test_a_failing_json_patch_test_operation_does_not_name_the_path(emu):
    call(emu, "POST", CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "jp"}, "data": {"a": "b"}})
    answer = call(emu, "PATCH", f"{CONFIGMAPS}/jp", [{"op": "test", "path": "/data/a", "value": "c"}, {"op": "replace", "path": "/data/a", "value": "d"}],
                  content_type="application/json-patch+json")
    assert answer.status == 422 and answer.reason == "Invalid"
    assert answer.body["message"] == "the server rejected our request due to an error in our request"
    assert stored(emu, "configmaps", "jp")["data"] == {"a": "b"}


def test_v1_endpoints_reads_carry_the_deprecation_warning(emu):
    """kube-apiserver v1.33+ answers every v1 Endpoints request with a deprecation Warning (found against the real
    control plane, where the diagnostics' Endpoints LIST printed it on every run); EndpointSlices carry none."""
    text = '299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"'
    assert call(emu, "GET", "/api/v1/endpoints").warnings == [text]
    assert call(emu, "GET", f"/api/v1/namespaces/{NS}/endpoints").warnings == [text]
    assert call(emu, "GET", "/apis/discovery.k8s.io/v1/endpointslices").warnings == []


def test_owner_references_need_api_version_kind_name_and_uid(emu):
    """kube-apiserver refuses an owner reference without a uid (422, metadata.ownerReferences.uid: must not be empty):
    found against the real control plane when a test loaded owner references to ReplicaSets that do not exist."""
    body = service()
    body["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f"}]
    answer = call(emu, "POST", SERVICES, body)
    assert answer.status == 422 and answer.reason == "Invalid"
    assert answer.fields == ["metadata.ownerReferences.uid"]
    body["metadata"]["ownerReferences"][0]["uid"] = "8c1d3f0e-0000-4000-8000-000000000001"
    assert call(emu, "POST", SERVICES, body).status == 201
