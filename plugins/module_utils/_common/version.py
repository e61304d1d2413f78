# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version (galaxy.yml's; a unit test keeps them equal), for reports and snapshots."""

from __future__ import annotations

COLLECTION_VERSION = "0.1.0"
