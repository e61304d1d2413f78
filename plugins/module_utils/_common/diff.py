# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diffs that the ``--diff`` callback prints readably.

Ansible prints a ``diff`` whose ``before``/``after`` are mappings as their JSON text and compares
that text line by line. A multi-line string (a Corefile, a PEM block, a script) is then one JSON
line full of ``\\n`` escapes, so a one-word change marks the whole value as changed. The rule here,
used for every module's diff: a string that holds line breaks is shown as the list of its lines,
so each line stands on its own line of the printed diff. Pure; no imports beyond the standard
library.
"""

from __future__ import annotations


def as_lines(value):
    """``value`` with every multi-line string (recursively, in mappings and lists) replaced by the
    list of its lines; other values unchanged. A single-line string stays a string."""
    if isinstance(value, str):
        return value.splitlines() if "\n" in value else value
    if isinstance(value, dict):
        return {key: as_lines(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_lines(item) for item in value]
    return value


def readable_diff(diff):
    """A module's ``diff`` result (``{before, after, ...}``, or a list of them) with multi-line text
    shown as lines in ``before`` and ``after``. Text diffs (strings) are left as they are: the
    callback already diffs those line by line."""
    if isinstance(diff, list):
        return [readable_diff(item) for item in diff]
    if not isinstance(diff, dict):
        return diff
    out = dict(diff)
    for side in ("before", "after"):
        if side in out and not isinstance(out[side], str):
            out[side] = as_lines(out[side])
    return out
