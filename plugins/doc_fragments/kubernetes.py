# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes connection options shared by the in-cluster modules (same names and variables as kubernetes.core)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig as a dictionary. Falls back to E(K8S_AUTH_KUBECONFIG),
        then E(KUBECONFIG), then C(~/.kube/config) when O(host) is not set.
    type: raw
  context:
    description:
      - Context of the kubeconfig to use. Falls back to E(K8S_AUTH_CONTEXT); defaults to the kubeconfig's current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API server. Overrides the kubeconfig's server. Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token. Falls back to E(K8S_AUTH_API_KEY). Never logged.
    type: str
  validate_certs:
    description:
      - Whether to validate the API server's certificate. Falls back to E(K8S_AUTH_VERIFY_SSL).
      - When not set, certificates are validated unless the kubeconfig's cluster entry sets C(insecure-skip-tls-verify).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificate bundle of the API server. Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate. Falls back to E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert). Falls back to E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  request_timeout:
    description:
      - Seconds to wait for each API request.
    type: float
    default: 30
requirements:
  - kubernetes >= 31.0.0
"""
