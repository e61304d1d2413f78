#!/usr/bin/env bash
# Write CHANGELOG.rst for the version in galaxy.yml from changelogs/fragments (antsibull-changelog).
# Re-runnable while the release is being prepared: fragments are kept (changelogs/config.yaml
# keep_fragments) and a release already in changelogs/changelog.yaml is refreshed, keeping its date.
# CHANGELOG_DATE=YYYY-MM-DD sets the date explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH   # antsibull-changelog finds the plugins with this ansible-doc
version=$(sed -n 's/^version: *//p' galaxy.yml)
date=${CHANGELOG_DATE:-$(python - "$version" <<'PY'
import datetime, sys, yaml
releases = (yaml.safe_load(open("changelogs/changelog.yaml")) or {}).get("releases") or {}
print(releases.get(sys.argv[1], {}).get("release_date") or datetime.date.today().isoformat())
PY
)}
antsibull-changelog lint
antsibull-changelog release --version "$version" --date "$date" --update-existing \
  --reload-plugins --refresh-plugins --refresh-fragments without-archives
echo "changelog: CHANGELOG.rst for $version ($date)"
