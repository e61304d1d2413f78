# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes API access: connection settings from kubeconfig / options / K8S_AUTH_* variables, and a
small REST client (urllib3) for raw paths, paginated LISTs, writes and dry runs.

The kubernetes package is used only to read kubeconfig files (contexts, exec plugins, client
certificates); requests go through urllib3 directly so behaviour does not depend on the version of
the generated client.
"""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback

from .retry import RETRY_STATUSES, retry_delay, write_already_applied

KUBE_AUTH_SPEC = {
    "kubeconfig": {"type": "raw", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "validate_certs": {"type": "bool", "aliases": ["verify_ssl"], "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL"])},
    "ca_cert": {"type": "path", "aliases": ["ssl_ca_cert"], "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT"])},
    "client_cert": {"type": "path", "aliases": ["cert_file"], "fallback": (env_fallback, ["K8S_AUTH_CERT_FILE"])},
    "client_key": {"type": "path", "aliases": ["key_file"], "no_log": False, "fallback": (env_fallback, ["K8S_AUTH_KEY_FILE"])},
    "request_timeout": {"type": "float", "default": 30},
}

DEFAULT_PAGE_SIZE = 500


class _ConnectionReset(Exception):
    """The connection broke before an answer arrived (retryable)."""


class KubeConfigError(Exception):
    """Bad connection settings; raised before any request."""


class KubeApiError(Exception):
    """A request to the Kubernetes API failed; ``str()`` is the user-facing sentence."""

    def __init__(self, message, status=None, reason=None, server_message=None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.server_message = server_message


def api_path(api_version: str, plural: str, namespace: str | None = None, name: str | None = None) -> str:
    """REST path of a collection or object, e.g. ``/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/b``."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{quote(namespace, safe='')}"
    base += f"/{plural}"
    if name:
        base += f"/{quote(name, safe='')}"
    return base


def _load_configuration(params: dict):
    """A kubernetes.client.Configuration from the options (imports the kubernetes package)."""
    try:
        from kubernetes import config as kube_config  # pylint: disable=import-outside-toplevel
        from kubernetes.client import Configuration  # pylint: disable=import-outside-toplevel
        from kubernetes.config.config_exception import ConfigException  # pylint: disable=import-outside-toplevel
    except ImportError as exc:  # the module wrapper checks this earlier; keep a clear message anyway
        raise KubeConfigError(f"the kubernetes Python library is required: {exc}") from None

    kubeconfig = params.get("kubeconfig")
    context = params.get("context")
    host = params.get("host")
    configuration = Configuration()
    if kubeconfig or context or not host:
        try:
            if isinstance(kubeconfig, dict):
                kube_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=configuration, persist_config=False)
            else:
                path = os.path.expanduser(kubeconfig or os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
                if not os.path.exists(path):
                    raise KubeConfigError(
                        f"kubeconfig {path} does not exist: pass the kubeconfig option (or K8S_AUTH_KUBECONFIG), "
                        "for example the file the aksnet.networking.kubeconfig module wrote, or host and api_key."
                    )
                kube_config.load_kube_config(config_file=path, context=context, client_configuration=configuration, persist_config=False)
        except ConfigException as exc:
            raise KubeConfigError(f"cannot use the kubeconfig: {exc}. Check the file and the context option.") from None
    overrides = explicit_overrides(params)
    _apply_overrides(configuration, overrides)
    if overrides:
        # The kubeconfig loader installs a hook that re-reads the kubeconfig before each use of the token and
        # copies its server, CA and token back over the configuration. Explicit options win, as in
        # kubernetes.core: re-apply them after every refresh (the kubeconfig's own token refresh still runs).
        refresh = configuration.refresh_api_key_hook

        def _refresh_then_override(cfg):
            if refresh is not None:
                refresh(cfg)  # installs its own hook again: put this one back
            _apply_overrides(cfg, overrides)
            cfg.refresh_api_key_hook = _refresh_then_override

        configuration.refresh_api_key_hook = _refresh_then_override
    if not configuration.host or not configuration.host.startswith(("https://", "http://")):
        raise KubeConfigError(f"host {configuration.host!r} must be an https:// URL of the Kubernetes API server.")
    return configuration


def explicit_overrides(params: dict) -> dict:
    """The connection settings given as options (or K8S_AUTH_* variables); each wins over the kubeconfig's."""
    overrides = {}
    if params.get("host"):
        overrides["host"] = params["host"]
    if params.get("api_key"):
        key = params["api_key"].strip()
        overrides["api_key"] = key if key.lower().startswith("bearer ") else f"Bearer {key}"
    for option, attribute in (("ca_cert", "ssl_ca_cert"), ("client_cert", "cert_file"), ("client_key", "key_file"), ("validate_certs", "verify_ssl")):
        if params.get(option) is not None:
            overrides[attribute] = params[option]
    return overrides


def _apply_overrides(configuration, overrides: dict) -> None:
    for attribute, value in overrides.items():
        if attribute == "api_key":
            # the one place the token is read from (see KubeClient._headers); no prefix, the value carries it
            configuration.api_key = {"BearerToken": value}
            configuration.api_key_prefix = {}
        else:
            setattr(configuration, attribute, value)


class KubeClient:
    """REST access to one cluster, with every request recorded for the result's ``api_requests``."""

    def __init__(self, params: dict):
        self.configuration = _load_configuration(params)
        self.timeout = params.get("request_timeout") or 30
        self.request_count = 0
        self.retries = 0  # transient failures retried (429, 5xx, connection resets)
        # the API server's Warning headers (e.g. unknown fields it dropped), each once, for the module's warnings
        self.api_warnings = []
        import urllib3  # pylint: disable=import-outside-toplevel

        cfg = self.configuration
        pool_args = {"num_pools": 2, "maxsize": 4, "retries": False}
        if cfg.host.startswith("https://"):
            pool_args["cert_reqs"] = "CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE"
            if cfg.verify_ssl and cfg.ssl_ca_cert:
                pool_args["ca_certs"] = cfg.ssl_ca_cert
            if cfg.cert_file:
                pool_args["cert_file"] = cfg.cert_file
            if cfg.key_file:
                pool_args["key_file"] = cfg.key_file
            if getattr(cfg, "tls_server_name", None):
                pool_args["server_hostname"] = cfg.tls_server_name
        if not cfg.verify_ssl:
            urllib3.disable_warnings()
        if getattr(cfg, "proxy", None):
            self._http = urllib3.ProxyManager(cfg.proxy, **pool_args)
        else:
            self._http = urllib3.PoolManager(**pool_args)
        self._urllib3 = urllib3

    @property
    def host(self) -> str:
        return self.configuration.host.rstrip("/")

    def _headers(self, content_type=None):
        headers = {"Accept": "application/json", "User-Agent": "aksnet.networking"}
        token = self.configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            headers["Authorization"] = token
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def request(self, method: str, path: str, query: dict | None = None, body=None, content_type: str | None = None, accept: str | None = None):
        """Send one request and return the decoded JSON body; errors raise KubeApiError.

        Transient failures (429, 5xx, a connection reset) are retried with bounded backoff that honours
        Retry-After (see retry.py). A retried create that finds the object AlreadyExists returns the object;
        a retried DELETE that finds it gone returns an empty answer.
        """
        url = self.host + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            content_type = content_type or "application/json"
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            self.request_count += 1
            try:
                response = self._send(method, url, data, content_type, accept)
            except _ConnectionReset:
                delay = retry_delay(method, attempt, waited)
                if delay is None:
                    raise KubeApiError(
                        f"The connection to the Kubernetes API at {self.host} was reset during {method} {path} "
                        f"({attempt} attempt{'s' if attempt > 1 else ''}). Fix: check the API server's health and "
                        "any proxy or load balancer in between, then run again."
                    ) from None
                self.retries += 1
                time.sleep(delay)
                waited += delay
                continue
            if response.status in RETRY_STATUSES:
                delay = retry_delay(method, attempt, waited, response.status, response.headers.get("Retry-After"))
                if delay is not None:
                    self.retries += 1
                    time.sleep(delay)
                    waited += delay
                    continue
            if attempt > 1:
                resolved = self._after_retry(method, path, body, response)
                if resolved is not None:
                    return resolved
            return self._decode(method, path, response, attempt)

    def _send(self, method, url, data, content_type, accept=None):
        headers = self._headers(content_type)
        if accept:
            headers["Accept"] = accept
        try:
            return self._http.request(method, url, body=data, headers=headers, timeout=self.timeout)
        except self._urllib3.exceptions.SSLError as exc:
            raise KubeApiError(
                f"TLS verification of the Kubernetes API at {self.host} failed ({_short(exc)}). "
                "Fix: pass the cluster's CA with ca_cert (or use the kubeconfig the kubeconfig module wrote); "
                "validate_certs: false only for throwaway clusters."
            ) from None
        except self._urllib3.exceptions.ProtocolError:
            raise _ConnectionReset() from None  # connection reset or closed before an answer: retryable
        except self._urllib3.exceptions.HTTPError as exc:
            raise KubeApiError(
                f"Could not connect to the Kubernetes API at {self.host}: {_short(exc)}. "
                "Fix: check host / the kubeconfig's server, that the cluster is running, and network access (private clusters need VNet access)."
            ) from None

    def _after_retry(self, method, path, body, response):
        """What an earlier attempt may already have done: a create that exists now, a replace that is stored, a delete that is done.

        A 409 on a repeated create (AlreadyExists) or replace (Conflict: the resourceVersion moved on, by the
        earlier attempt's own write) is read back and compared with what was sent; only when the object holds
        it is the write counted as done. Anything else is reported as the server answered.
        """
        if method == "DELETE" and response.status == 404:
            return {}
        if response.status != 409 or method not in ("POST", "PUT") or not isinstance(body, dict):
            return None
        name = (body.get("metadata") or {}).get("name")
        if not name:
            return None
        try:
            payload = json.loads((response.data or b"{}").decode("utf-8"))
        except ValueError:
            payload = {}
        reason = payload.get("reason") if isinstance(payload, dict) else None
        if method == "POST" and reason == "AlreadyExists":
            stored = self.get_path(f"{path}/{quote(name, safe='')}")
        elif method == "PUT" and reason == "Conflict":
            stored = self.get_path(path)
        else:
            return None
        return stored if write_already_applied(body, stored) else None

    def get_path(self, path):
        """GET a raw path; None on 404."""
        try:
            return self.request("GET", path)
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _note_warnings(self, response):
        headers = getattr(response, "headers", None)
        values = headers.getlist("Warning") if hasattr(headers, "getlist") else ([headers.get("Warning")] if headers and headers.get("Warning") else [])
        for value in values:
            text = warning_text(value)
            if text and text not in self.api_warnings:
                self.api_warnings.append(text)

    def _decode(self, method, path, response, attempts=1):
        self._note_warnings(response)
        raw = response.data or b""
        try:
            payload = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            payload = {"message": raw[:200].decode("utf-8", "replace")}
        if 200 <= response.status < 300:
            return payload
        server_message = payload.get("message") if isinstance(payload, dict) else None
        reason = payload.get("reason") if isinstance(payload, dict) else None
        message = _explain(response.status, method, path, server_message, self.host)
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        raise KubeApiError(message, response.status, reason, server_message)

    def list(self, api_version: str, plural: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None, field_selector: str | None = None, page_size: int = DEFAULT_PAGE_SIZE):
        """Every object of a kind: one paginated LIST (limit/continue). Items get kind and apiVersion."""
        path = api_path(api_version, plural, namespace)
        items = []
        token = None
        while True:
            query = {"limit": page_size, "continue": token, "labelSelector": label_selector, "fieldSelector": field_selector}
            page = self.request("GET", path, query=query)
            for item in page.get("items") or []:
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", api_version)
                items.append(item)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def get(self, api_version: str, plural: str, name: str, namespace: str | None = None):
        """One object, or None when it does not exist."""
        try:
            return self.request("GET", api_path(api_version, plural, namespace, name))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def has_resource(self, api_version: str, plural: str) -> bool:
        """Whether the API serves a resource (for example a CRD's plural) — one discovery request."""
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            doc = self.request("GET", path)
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return any(r.get("name") == plural for r in doc.get("resources") or [])


def warning_text(header: str) -> str:
    """The text of one RFC 7234 ``Warning`` header as the API server sends it (``299 - "text"``)."""
    match = re.match(r'^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"', header or "")
    return re.sub(r'\\(.)', r"\1", match.group(1)) if match else (header or "").strip()


def _short(exc) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verify failed: the server's certificate is not signed by a trusted CA"
    return text.splitlines()[0][:200]


def _explain(status, method, path, server_message, host):
    what = f"{method} {path}"
    detail = f": {server_message}" if server_message else ""
    if status == 401:
        return (
            f"The Kubernetes API at {host} rejected the credentials (401 Unauthorized) for {what}. "
            "Fix: fetch fresh credentials (aksnet.networking.kubeconfig) or check api_key / the kubeconfig user."
        )
    if status == 403:
        return (
            f"Forbidden (403) {what}{detail}. "
            "Fix: grant the identity RBAC for this verb and resource (a Role/ClusterRole binding), or use admin credentials."
        )
    if status == 404:
        return f"Not found (404) {what}{detail}."
    if status == 409:
        return f"Conflict (409) {what}{detail}. Fix: re-read the object and retry; another writer changed it."
    if status == 422:
        return f"The Kubernetes API rejected the object (422 Invalid) for {what}{detail}. Fix: correct the field named in the message."
    if status == 429 or status >= 500:
        return f"The Kubernetes API answered {status} for {what}{detail}. It is overloaded or unhealthy: retry later."
    return f"The Kubernetes API answered {status} for {what}{detail}."
