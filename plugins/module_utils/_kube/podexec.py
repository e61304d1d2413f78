# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod exec through the kubernetes client's websocket channel protocol (``kubernetes.stream``).

``PodExec(configuration).run(namespace, pod, argv)`` returns ``{stdout, stderr, exit_code, error,
duration_ms}``: ``exit_code`` None with ``error`` set when the command could not run (exec refused,
pod not running, no answer in time). Uses the same ``Configuration`` as ``KubeClient``.
"""

from __future__ import annotations

import json
import re
import time


class PodExec:
    """Runs commands in pods; counts the exec requests made."""

    def __init__(self, configuration):
        from kubernetes import client as k8s  # pylint: disable=import-outside-toplevel
        from kubernetes.stream import stream  # pylint: disable=import-outside-toplevel

        self._api = k8s.CoreV1Api(k8s.ApiClient(configuration))
        self._stream = stream
        self.count = 0

    def run(self, namespace, pod, argv, container=None, timeout=30):
        started = time.monotonic()
        self.count += 1
        kwargs = {"command": list(argv), "stdout": True, "stderr": True, "stdin": False, "tty": False, "_preload_content": False}
        if container:
            kwargs["container"] = container
        try:
            ws = self._stream(self._api.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # ApiException / websocket errors: reported per check
            return _outcome(started, error=f"exec into {namespace}/{pod} failed: {_reason(exc)}")
        try:
            ws.run_forever(timeout=timeout)
            timed_out = ws.is_open()
            stdout = ws.read_stdout(timeout=0) or ""
            stderr = ws.read_stderr(timeout=0) or ""
            if timed_out:
                return _outcome(started, stdout, stderr, error=f"no answer from {' '.join(argv[:2])} within {timeout}s")
            try:
                code = ws.returncode
            except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                code = None
            if code is None:
                return _outcome(started, stdout, stderr, error="the exec stream ended without an exit status")
            return _outcome(started, stdout, stderr, code)
        finally:
            ws.close()


def _outcome(started, stdout="", stderr="", exit_code=None, error=None):
    return {"stdout": stdout, "stderr": stderr, "exit_code": exit_code, "error": error, "duration_ms": int((time.monotonic() - started) * 1000)}


def _reason(exc):
    """The apiserver's message out of a failed websocket upgrade (the Status body), else the error text."""
    text = str(getattr(exc, "reason", None) or exc)
    status = re.search(r"Handshake status (\d+)", text)
    body_text = text.rsplit(" -+-+- ", 1)[-1].strip() if " -+-+- " in text else ""
    try:
        body = json.loads(body_text) if body_text.startswith("{") else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return f"{body['message']} ({body.get('code') or (status.group(1) if status else 'error')})"
    if status:
        return f"HTTP {status.group(1)} from the API server"
    return text.splitlines()[0][:300]
