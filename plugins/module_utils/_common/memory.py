# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pausing Python's cyclic garbage collector around work on large, acyclic data. Pure, no SDK."""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def gc_paused():
    """Run a block with the cyclic garbage collector paused; its previous state is restored.

    Decoded LIST pages and snapshots are tens of thousands of acyclic dicts that stay alive while
    analyzers allocate many small objects: every automatic collection walks all of them again (a
    third of a large diagnose run; three times the JSON decoding time of a 10,000-pod collection).
    Reference counting still frees what is dropped; cycles are collected once the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
