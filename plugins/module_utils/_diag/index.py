# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""In-memory index of a cluster's objects, built once from one LIST per kind (or a snapshot). Pure."""

from __future__ import annotations

from .shape import problem


class Index:
    """Objects grouped by kind, plus the lookups every analyzer needs.

    Core contract (other modules rely on it):
      ``by_kind``: dict kind -> list of objects (e.g. ``by_kind["Pod"]``), missing kinds -> []
      ``kinds(kind)``: same as ``by_kind.get(kind, [])``
      ``get(kind, namespace, name)``: one object or None (namespace None for cluster-scoped kinds)
      ``in_namespace(kind, namespace)``: list of objects of that kind in that namespace
      ``namespace_labels(name)``: labels of a Namespace, or None when the namespace is unknown
      ``skipped``: dict kind -> reason, for kinds that could not be listed (RBAC, missing CRD)
      ``malformed``: list of ``(object, reason)`` left out of the index (``shape.problem``): the
      analyzers never see them; the engine reports each as ``object.malformed``
    """

    def __init__(self, objects, skipped=None):
        self.by_kind = {}
        self._by_key = {}
        self._by_ns = {}
        self.malformed = []
        for obj in objects:
            why = problem(obj)
            if why is not None:
                self.malformed.append((obj, why))
                continue
            kind = obj.get("kind")
            meta = obj.get("metadata") or {}
            ns = meta.get("namespace")
            self.by_kind.setdefault(kind, []).append(obj)
            self._by_key[(kind, ns, meta.get("name"))] = obj
            self._by_ns.setdefault((kind, ns), []).append(obj)
        self.skipped = dict(skipped or {})

    def kinds(self, kind):
        return self.by_kind.get(kind, [])

    def get(self, kind, namespace, name):
        return self._by_key.get((kind, namespace, name))

    def in_namespace(self, kind, namespace):
        return self._by_ns.get((kind, namespace), [])

    def namespace_labels(self, name):
        ns = self.get("Namespace", None, name)
        if ns is None:
            return None
        labels = dict((ns.get("metadata") or {}).get("labels") or {})
        # The API server sets this label on every namespace (Kubernetes >= 1.22).
        labels.setdefault("kubernetes.io/metadata.name", name)
        return labels

    # ------------------------------------------------------------------ extra lookups
    # Built lazily, once per Index, so a run costs O(objects) however many analyzers ask.

    def is_listed(self, kind):
        """True when the kind could be listed (it may still have no objects)."""
        return kind not in self.skipped

    def events_for(self, kind, namespace, name):
        """Events whose involvedObject (core/v1) or regarding (events.k8s.io/v1) is that object."""
        if getattr(self, "_events", None) is None:
            events = {}
            for event in self.by_kind.get("Event", []):
                ref = event.get("involvedObject") or event.get("regarding") or {}
                key = (ref.get("kind"), ref.get("namespace") or (event.get("metadata") or {}).get("namespace"), ref.get("name"))
                events.setdefault(key, []).append(event)
            self._events = events
        if namespace is None:
            return self._events.get((kind, None, name), [])
        return self._events.get((kind, namespace, name), [])

    def _label_index(self, kind):
        cache = getattr(self, "_labels", None)
        if cache is None:
            cache = self._labels = {}
        if kind not in cache:
            pairs = {}
            keys = {}
            for obj in self.by_kind.get(kind, []):
                meta = obj.get("metadata") or {}
                ns = meta.get("namespace")
                for key, value in (meta.get("labels") or {}).items():
                    pairs.setdefault((ns, key, value), []).append(obj)
                    keys.setdefault((ns, key), []).append(obj)
            cache[kind] = (pairs, keys)
        return cache[kind]

    def with_label(self, kind, namespace, key, value=None):
        """Objects of a kind in a namespace carrying label ``key`` (with ``value`` when given)."""
        pairs, keys = self._label_index(kind)
        if value is None:
            return keys.get((namespace, key), [])
        return pairs.get((namespace, key, value), [])

    def select(self, kind, namespace, match_labels):
        """Objects of a kind in a namespace whose labels contain every ``match_labels`` pair.

        An empty or None selector selects every object of the namespace. Cost: the size of the
        smallest candidate list, not of the namespace.
        """
        if not match_labels:
            return list(self.in_namespace(kind, namespace))
        pairs, _keys = self._label_index(kind)
        candidates = None
        for key, value in match_labels.items():
            found = pairs.get((namespace, key, str(value)), [])
            if candidates is None or len(found) < len(candidates):
                candidates = found
            if not found:
                return []
        if len(match_labels) == 1:
            return list(candidates)  # every object under (namespace, key, value) carries that label
        return [
            obj for obj in candidates
            if all(((obj.get("metadata") or {}).get("labels") or {}).get(k) == str(v) for k, v in match_labels.items())
        ]

    def endpoint_slices_for(self, namespace, service_name):
        """EndpointSlices of a Service (label ``kubernetes.io/service-name``)."""
        return self.with_label("EndpointSlice", namespace, "kubernetes.io/service-name", service_name)
