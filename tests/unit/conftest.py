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
