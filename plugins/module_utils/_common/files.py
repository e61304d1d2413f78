# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that hold secrets or cluster details (kubeconfigs, snapshots, reports): owner-only, written atomically. Pure."""

from __future__ import annotations

import os
import stat
import tempfile

PRIVATE_MODE = 0o600


def file_mode(path):
    """The permission bits of ``path`` (e.g. 0o644), or None when it does not exist."""
    if not os.path.exists(path):
        return None
    return stat.S_IMODE(os.stat(path).st_mode)


def write_private(path, data, prefix=".aksnet-"):
    """Write ``data`` (str as UTF-8, or bytes) to ``path`` with mode 0600, atomically.

    The content goes to a temporary file in the same directory, created with mode 0600 from the
    start, then replaces ``path`` in one rename: readers never see a half-written or world-readable
    file, and a failed write leaves the old file as it was.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=os.path.dirname(os.path.abspath(path)))
    try:
        os.fchmod(fd, PRIVATE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
