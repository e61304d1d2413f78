#!/usr/bin/env python3
# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Are the changelog fragments consistent with the version being built?

Rule: let V be galaxy.yml's version.
- If V already has a release entry in changelogs/changelog.yaml, the tarball built now *is* V, so
  every fragment in changelogs/fragments must be listed in some release: a fragment missing from
  every release describes a change that ships in V's tarball but not in V's CHANGELOG -> fail
  (fix: `make changelog`, which refreshes V's entry from the fragments).
- If V has no release entry yet, fragments missing from every release are simply the notes for
  the next release (V) and are reported, not fatal.
Exit status 1 on failure, 0 otherwise. Usage: changelog_check.py [ROOT]
"""

from __future__ import annotations

import os
import sys

import yaml


def check(root: str):
    """(ok, message) for the checkout at ``root``."""
    with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
        version = str((yaml.safe_load(handle) or {}).get("version"))
    with open(os.path.join(root, "changelogs", "changelog.yaml"), encoding="utf-8") as handle:
        releases = (yaml.safe_load(handle) or {}).get("releases") or {}
    released = {f for r in releases.values() for f in (r or {}).get("fragments") or []}
    fragments_dir = os.path.join(root, "changelogs", "fragments")
    pending = sorted(f for f in os.listdir(fragments_dir) if f.endswith((".yml", ".yaml")) and f not in released)
    if not pending:
        return True, f"every fragment is in changelogs/changelog.yaml (version {version})"
    names = ", ".join(pending)
    if version in {str(v) for v in releases}:
        return False, (
            f"version {version} (galaxy.yml) is already in changelogs/changelog.yaml, but these fragments are in "
            f"none of its releases, so the tarball would ship changes its changelog does not mention: {names}. "
            "Fix: run make changelog (it refreshes the entry of this version), or raise galaxy.yml's version."
        )
    return True, f"fragments for the next release ({version}, not yet in changelogs/changelog.yaml): {names}"


def main(argv):
    ok, message = check(argv[1] if len(argv) > 1 else ".")
    print(f"changelog-check: {message}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
