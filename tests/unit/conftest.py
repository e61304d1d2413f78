"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def fast_kube_emulator(request, tmp_path_factory):
    """A Kubernetes emulator for one test module, pods Ready after 50 ms; its token is the module's TOKEN."""
    from tests.lab.certs import ensure_certs
    from tests.lab.kube import KubeEmulator

    certs = ensure_certs(str(tmp_path_factory.mktemp("certs")))
    emulator = KubeEmulator(token=request.module.TOKEN, ready_delay=0.05)
    emulator.start(certs["cert"], certs["key"])
    emulator.certs = certs
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def arm_simulator_lab(request, tmp_path_factory):
    """An ARM simulator for one test module, with a managed-identity credential and SDK clients pointed at it.

    The module may set KUBE_URL, KUBE_TOKEN and ARM_SIMULATOR_OPTIONS (keyword arguments of ArmSimulator).
    Yields {"sim", "url", "ca", "cred", "aks", "net"}.
    """
    from azure.identity import ManagedIdentityCredential
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.network import NetworkManagementClient

    from tests.lab.arm import DEFAULT_SUBSCRIPTION, ArmSimulator
    from tests.lab.certs import ensure_certs

    certs = ensure_certs(str(tmp_path_factory.mktemp("certs")))
    with open(certs["ca"], encoding="utf-8") as handle:
        ca_pem = handle.read()
    sim = ArmSimulator(kube_url=getattr(request.module, "KUBE_URL", "https://127.0.0.1:6443"), kube_ca_pem=ca_pem,
                       kube_token=getattr(request.module, "KUBE_TOKEN", "lab-kube-token"), **getattr(request.module, "ARM_SIMULATOR_OPTIONS", {}))
    url = sim.start(certs["cert"], certs["key"])
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"REQUESTS_CA_BUNDLE": certs["ca"], "SSL_CERT_FILE": certs["ca"], "IDENTITY_ENDPOINT": url + "/_lab/identity",
                           "IDENTITY_HEADER": sim.identity_header}.items():
            patch.setenv(key, value)
        cred = ManagedIdentityCredential()
        scopes = [url + "/.default"]
        yield {"sim": sim, "url": url, "ca": certs["ca"], "cred": cred,
               "aks": ContainerServiceClient(cred, DEFAULT_SUBSCRIPTION, base_url=url, credential_scopes=scopes),
               "net": NetworkManagementClient(cred, DEFAULT_SUBSCRIPTION, base_url=url, credential_scopes=scopes)}
    sim.stop()
