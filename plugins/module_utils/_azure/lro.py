# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting on Azure long-running operations with a timeout that says what it waited for."""

from __future__ import annotations


class OperationTimeout(Exception):
    """The operation did not finish within wait_timeout; the message says what and its last state."""


def wait_for(poller, what: str, timeout: float):
    """Wait for ``poller`` up to ``timeout`` seconds and return its result.

    Failed operations raise the SDK's HttpResponseError (map it with errors.describe). A timeout
    raises OperationTimeout naming the operation and the last state Azure reported.
    """
    poller.wait(timeout=timeout)
    if not poller.done():
        raise OperationTimeout(
            f"Timed out after {timeout:g}s waiting for Azure to {what}; the operation's last state was {poller.status()!r}. "
            "It continues in Azure: run again later (or raise wait_timeout) to pick up the result."
        )
    return poller.result()
