"""Certificates for the lab: one generated CA (trustme) and a server certificate for loopback."""

from __future__ import annotations

import os

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"


def ensure_certs(directory: str) -> dict[str, str]:
    """Create (once) a CA and a loopback server certificate in ``directory``.

    Returns the paths: ``ca`` (CA bundle to trust), ``cert`` (server chain), ``key``.
    """
    os.makedirs(directory, exist_ok=True)
    paths = {
        "ca": os.path.join(directory, CA_FILE),
        "cert": os.path.join(directory, CERT_FILE),
        "key": os.path.join(directory, KEY_FILE),
    }
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    import trustme

    ca = trustme.CA(organization_name="aksnet lab")
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca.cert_pem.write_to_path(paths["ca"])
    server.private_key_pem.write_to_path(paths["key"])
    with open(paths["cert"], "wb") as handle:
        for blob in server.cert_chain_pems:
            handle.write(blob.bytes())
    os.chmod(paths["key"], 0o600)
    return paths
