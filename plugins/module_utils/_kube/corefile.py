# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entries of the AKS ``coredns-custom`` ConfigMap (kube-system): rendering and validation. Pure.

AKS imports every ``*.server`` key of ``coredns-custom`` as additional server blocks next to its
own ``.:53`` block, and every ``*.override`` key into that ``.:53`` block (plugin directives only).

``render_entries`` builds the ConfigMap ``data`` (keys sorted, so unchanged input gives identical
data); ``validate_entries`` returns the errors CoreDNS (or the cluster's DNS) would suffer from.
The module calls both: ``errors = validate_entries(render_entries(...))``.
"""

from __future__ import annotations

import difflib
import ipaddress
import re

CONFIGMAP_NAME = "coredns-custom"
CONFIGMAP_NAMESPACE = "kube-system"
CLUSTER_DOMAIN = "cluster.local"
HOSTS_KEY = "hosts.override"
LOG_KEY = "log.override"
KEY_SUFFIXES = (".server", ".override")

_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_DIRECTIVE = re.compile(r"^[a-z][a-z0-9_]*$")
_ZONE_SCHEMES = ("dns://", "tls://", "grpc://", "https://", "quic://")
_UPSTREAM_SCHEMES = ("dns://", "tls://")


class CorefileError(ValueError):
    """Invalid rendering input; ``errors`` lists every problem (each names the option and the rule)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


# --------------------------------------------------------------------------------------------
# names and addresses
# --------------------------------------------------------------------------------------------


def _split_port(text):
    """'name:port' -> (name, port or None, error or None)."""
    if text.startswith("["):
        return text, None, None
    if text.count(":") == 1:
        name, _unused, port = text.partition(":")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            return name, None, f"port {port!r} is not a number 1-65535"
        return name, int(port), None
    return text, None, None


def _dns_name_ok(name):
    if name == ".":
        return True
    name = name[:-1] if name.endswith(".") else name
    if not name or len(name) > 253:
        return False
    return all(_DNS_LABEL.match(label) for label in name.lower().split("."))


def parse_zone(text):
    """Parse a server-block address (``[scheme://]zone[:port]``).

    Returns ``(zone, port, error)``; ``zone`` is lowercase without the trailing dot (``.`` for the
    root), ``port`` None when not given; ``error`` is None when well-formed.
    """
    rest = text.strip()
    for scheme in _ZONE_SCHEMES:
        if rest.lower().startswith(scheme):
            rest = rest[len(scheme) :]
            break
    name, port, err = _split_port(rest)
    if err:
        return name, None, err
    if "/" in name:  # reverse zone given as a CIDR, e.g. 10.0.0.0/24
        try:
            ipaddress.ip_network(name, strict=False)
        except ValueError:
            return name, port, f"{name!r} is neither a DNS name nor a CIDR"
        return name, port, None
    if not _dns_name_ok(name):
        return name, port, f"{name!r} is not a well-formed DNS zone name (labels of up to 63 letters, digits, '-' or '_', separated by dots)"
    zone = "." if name == "." else name.lower().rstrip(".")
    return zone, port, None


def is_cluster_zone(zone):
    """True for ``cluster.local`` and its subzones (served by the kubernetes plugin on AKS)."""
    zone = zone.lower().rstrip(".")
    return zone == CLUSTER_DOMAIN or zone.endswith("." + CLUSTER_DOMAIN)


def upstream_error(text):
    """None when ``text`` is a valid forward target, else the rule it breaks.

    Accepted: IPv4 or IPv6 address with optional port (``1.2.3.4``, ``1.2.3.4:53``, ``fd00::1``,
    ``[fd00::1]:53``), optionally prefixed ``dns://`` or ``tls://``, or an absolute path of a
    resolv.conf-style file such as ``/etc/resolv.conf``. Host names are not accepted by forward.
    """
    if text.startswith("/"):
        return None if re.match(r"^/[\w./-]+$", text) else f"{text!r} is not a usable file path"
    rest = text
    for scheme in _UPSTREAM_SCHEMES:
        if rest.lower().startswith(scheme):
            rest = rest[len(scheme) :]
            break
    else:
        if "://" in rest:
            return f"{text!r}: only dns:// and tls:// upstreams are supported by forward"
    host, port = rest, None
    if rest.startswith("["):
        m = re.match(r"^\[([^\]]+)\](?::(\d+))?$", rest)
        if not m:
            return f"{text!r} is not a well-formed [IPv6]:port address"
        host, port = m.group(1), m.group(2)
        if not _is_ip(host, 6):
            return f"{text!r}: {host!r} is not an IPv6 address"
    elif rest.count(":") == 1:
        host, port = rest.split(":")
        if not _is_ip(host, 4):
            return f"{text!r}: {host!r} is not an IPv4 address (forward needs IP addresses, not host names)"
    elif ":" in rest:
        if not _is_ip(rest, 6):
            return f"{text!r} is not an IPv6 address"
    elif not _is_ip(rest, 4):
        return f"{text!r} is not an IP address (forward needs IP addresses, not host names, or /etc/resolv.conf)"
    if port is not None and (not port.isdigit() or not 1 <= int(port) <= 65535):
        return f"{text!r}: port {port!r} is not a number 1-65535"
    return None


def _is_ip(text, version):
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def _forward_items(forward_zones, errors):
    """forward_zones as a dict zone -> upstreams, or a list of {zone, upstreams}; -> [(zone_text, [upstreams])]."""
    items = []
    if isinstance(forward_zones, dict):
        raw_items = [{"zone": z, "upstreams": u} for z, u in forward_zones.items()]
    elif isinstance(forward_zones, list):
        raw_items = forward_zones
    else:
        errors.append(f"forward_zones: expected a mapping of zone to upstream servers or a list of {{zone, upstreams}}, got {forward_zones!r}")
        return items
    for i, item in enumerate(raw_items):
        if not isinstance(item, dict) or not item.get("zone"):
            errors.append(f"forward_zones[{i}]: expected {{zone, upstreams}}, got {item!r}")
            continue
        upstreams = item.get("upstreams", item.get("servers"))
        if isinstance(upstreams, str):
            upstreams = upstreams.split()
        if not upstreams:
            errors.append(f"forward_zones: zone {item['zone']!r} has no upstream servers; give at least one IP address")
            continue
        seen = []
        for u in upstreams:
            if str(u) not in seen:
                seen.append(str(u))
        items.append((str(item["zone"]).strip(), seen))
    return items


def _zone_key(zone_text):
    zone, _port, _err = parse_zone(zone_text)
    base = "root" if zone == "." else zone
    base = re.sub(r"[^-._a-zA-Z0-9]", "_", base)
    return base + ".server"


def _host_lines(hosts, errors):
    """hosts as a dict name -> ip(s), a list of {ip, names}, or 'IP name...' strings -> sorted lines."""
    by_ip = {}
    pairs = []
    if isinstance(hosts, dict):
        for name, ips in hosts.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                pairs.append((str(ip), str(name), f"hosts[{name}]"))
    elif isinstance(hosts, list):
        for i, item in enumerate(hosts):
            if isinstance(item, str):
                parts = item.split()
                if len(parts) < 2:
                    errors.append(f"hosts[{i}]: {item!r} must be 'IP name [name...]'")
                    continue
                pairs.extend((parts[0], n, f"hosts[{i}]") for n in parts[1:])
            elif isinstance(item, dict) and item.get("ip") and (item.get("names") or item.get("name")):
                names = item.get("names") or [item.get("name")]
                names = names if isinstance(names, list) else [names]
                pairs.extend((str(item["ip"]), str(n), f"hosts[{i}]") for n in names)
            else:
                errors.append(f"hosts[{i}]: expected {{ip, names}} or 'IP name [name...]', got {item!r}")
    else:
        errors.append(f"hosts: expected a mapping of host name to IP address(es) or a list of {{ip, names}}, got {hosts!r}")
    for ip, name, opt in pairs:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            errors.append(f"{opt}: {ip!r} is not an IP address (the hosts plugin maps names to IPv4/IPv6 addresses)")
            continue
        if not _dns_name_ok(name.lower()) or name == ".":
            errors.append(f"{opt}: {name!r} is not a well-formed host name")
            continue
        by_ip.setdefault(addr, set()).add(name.lower().rstrip("."))
    lines = []
    for addr in sorted(by_ip, key=lambda a: (a.version, int(a))):
        lines.append(f"{addr} {' '.join(sorted(by_ip[addr]))}")
    return lines


def render_entries(forward_zones=None, hosts=None, log_zones=None, raw=None):
    """Build the ``coredns-custom`` ConfigMap data.

    * ``forward_zones``: ``{zone: [upstream, ...]}`` (or a list of ``{zone, upstreams}``) ->
      ``<zone>.server`` holding ``<zone>:53 { errors / cache 30 / forward . <upstreams> }``;
    * ``hosts``: ``{name: ip}`` (or ``[{ip, names}]`` / ``["IP name ..."]``) -> one
      ``hosts.override`` with the hosts plugin and ``fallthrough`` (the plugin may appear once per
      server block, so every entry goes into one key);
    * ``log_zones``: ``true`` / ``["."]`` -> ``log.override: log`` (query log of the default
      server); a forwarded zone in the list gets ``log`` inside its own server block; other zones
      -> ``log.override`` with ``log <zone>...`` (log only those names);
    * ``raw``: ``{key: text}`` passed through unchanged.

    Returns a dict with sorted keys. Raises ``CorefileError`` on malformed input or key clashes;
    run ``validate_entries`` on the result for the Corefile rules.
    """
    errors = []
    data = {}
    origin = {}
    forwards = _forward_items(forward_zones, errors) if forward_zones else []

    if log_zones is True or log_zones == ".":
        log_list = ["."]
    elif not log_zones:
        log_list = []
    elif isinstance(log_zones, (list, tuple)):
        log_list = [str(z).strip() for z in log_zones]
    elif isinstance(log_zones, str):
        log_list = [log_zones.strip()]
    else:
        errors.append(f"log_zones: expected true or a list of zones, got {log_zones!r}")
        log_list = []
    log_norm = set()
    for z in log_list:
        zone, _port, err = parse_zone(z)
        if err:
            errors.append(f"log_zones: {z!r}: {err}")
        else:
            log_norm.add(zone)

    forwarded = set()
    for zone_text, upstreams in forwards:
        zone, port, err = parse_zone(zone_text)
        if err:
            errors.append(f"forward_zones: zone {zone_text!r}: {err}")
            continue
        key = _zone_key(zone_text)
        if key in data:
            errors.append(f"forward_zones: zone {zone_text!r} is given twice (both render to key {key})")
            continue
        forwarded.add(zone)
        lines = [f"{zone}:{port or 53} {{", "    errors"]
        if zone in log_norm:
            lines.append("    log")
        lines += ["    cache 30", f"    forward . {' '.join(upstreams)}", "}"]
        data[key] = "\n".join(lines) + "\n"
        origin[key] = "forward_zones"

    if hosts:
        lines = _host_lines(hosts, errors)
        if lines:
            data[HOSTS_KEY] = "hosts {\n" + "".join(f"    {line}\n" for line in lines) + "    fallthrough\n}\n"
            origin[HOSTS_KEY] = "hosts"

    rest = sorted(z for z in log_norm if z not in forwarded)
    if rest:
        data[LOG_KEY] = "log\n" if "." in rest else f"log {' '.join(rest)}\n"
        origin[LOG_KEY] = "log_zones"

    if raw:
        if not isinstance(raw, dict):
            errors.append(f"raw: expected a mapping of key (ending .server or .override) to Corefile text, got {type(raw).__name__}")
        else:
            for key, text in raw.items():
                if key in data:
                    errors.append(f"raw: key {key!r} clashes with the entry rendered from {origin[key]}; rename the raw entry")
                    continue
                data[str(key)] = text
    if errors:
        raise CorefileError(errors)
    return {k: data[k] for k in sorted(data)}


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _tokens(text):
    """Caddyfile-style tokens: [(token, line, quoted)], comments dropped, braces split off.

    As in the Caddyfile lexer, '#' starts a comment and a quote starts a quoted token only at the
    beginning of a token.

    Returns (tokens, error) where error reports an unterminated quote.
    """
    out = []
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in '"`':
            start_line = line
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and c == '"' and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                return out, f"unterminated quoted string starting on line {start_line}"
            out.append(("".join(buf), start_line, True))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            word = text[i:j]
            i = j
            # split off structural braces at either end ("example.com{", "}"), keep placeholders like {$VAR}
            lead = []
            while word.startswith("}") and not _is_placeholder(word):
                lead.append(("}", line, False))
                word = word[1:]
            trail = None
            if word.endswith("{") and len(word) > 1:
                trail = ("{", line, False)
                word = word[:-1]
            out.extend(lead)
            if word:
                out.append((word, line, False))
            if trail:
                out.append(trail)
    return out, None


def _is_placeholder(word):
    return bool(re.fullmatch(r"\{[^{}]+\}", word))


def _brace_error(tokens):
    depth = 0
    opened = []
    for tok, line, quoted in tokens:
        if quoted:
            continue
        for ch in tok if not _is_placeholder(tok) else "":
            if ch == "{":
                depth += 1
                opened.append(line)
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    return f"unbalanced braces: '}}' on line {line} closes nothing"
                opened.pop()
    if depth:
        return f"unbalanced braces: '{{' opened on line {opened[-1]} is never closed ({depth} missing '}}')"
    return None


def _statements(tokens):
    """Group tokens into statements: [(depth, [(token, line, quoted)...], opens_block)].

    A statement ends at the end of its line, at '{' (opens_block) or at '}'.
    """
    stmts = []
    depth = 0
    cur = []
    cur_line = None

    def flush(opens=False):
        nonlocal cur
        if cur:
            stmts.append((depth, cur, opens))
        cur = []

    for tok, line, quoted in tokens:
        if not quoted and tok == "{":
            flush(opens=True)
            depth += 1
            cur_line = None
            continue
        if not quoted and tok == "}":
            flush()
            depth -= 1
            cur_line = None
            continue
        if cur_line is not None and line != cur_line:
            flush()
        cur.append((tok, line, quoted))
        cur_line = line
    flush()
    return stmts


def _check_forward(key, args, line, errors, in_override):
    values = [t for t, _l, _q in args]
    if not values:
        errors.append(f"{key}: line {line}: forward needs FROM and at least one upstream (forward . 1.2.3.4)")
        return
    from_zone, _port, err = parse_zone(values[0])
    if err:
        errors.append(f"{key}: line {line}: forward FROM {values[0]!r}: {err}")
    elif is_cluster_zone(from_zone):
        errors.append(
            f"{key}: line {line}: forward of {values[0]} would send in-cluster names ({CLUSTER_DOMAIN}) away from the kubernetes "
            "plugin and break service discovery; remove it"
        )
    elif in_override and from_zone == ".":
        errors.append(
            f"{key}: line {line}: 'forward .' in an .override entry duplicates the forward of the AKS default server block (CoreDNS "
            "refuses to load); to send one domain elsewhere use a .server entry (forward_zones)"
        )
    if len(values) < 2:
        errors.append(f"{key}: line {line}: forward {values[0]} has no upstream server; add at least one IP address")
    for up in values[1:]:
        err = upstream_error(up)
        if err:
            errors.append(f"{key}: line {line}: forward upstream {err}")


# Plugins compiled into the CoreDNS images AKS runs (upstream plugin.cfg of CoreDNS 1.9-1.12); a
# directive outside this list makes CoreDNS refuse the whole Corefile ("Unknown directive").
KNOWN_DIRECTIVES = frozenset(
    (
        "metadata", "geoip", "cancel", "tls", "quic", "grpc_server", "https", "https3", "timeouts", "multisocket", "reload", "nsid", "bufsize", "root",
        "bind", "debug", "trace", "ready", "health", "pprof", "prometheus", "errors", "log", "dnstap", "local", "dns64", "acl", "any", "chaos",
        "loadbalance", "tsig", "cache", "rewrite", "header", "dnssec", "autopath", "minimal", "template", "transfer", "hosts", "route53", "azure",
        "clouddns", "k8s_external", "kubernetes", "file", "auto", "secondary", "etcd", "loop", "forward", "grpc", "erratic", "whoami", "on", "sign",
        "view", "nomad", "proxyproto",
    )
)
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_DNS_CLASSES = {"IN", "CH", "HS", "CS", "ANY"}
_REWRITE_FIELDS = {"name", "class", "type", "edns0", "ttl", "cname", "rcode"}
_LOG_CLASSES = {"all", "denial", "error", "success"}
_FORWARD_OPTIONS = {
    "except", "force_tcp", "prefer_udp", "expire", "max_fails", "tls", "tls_servername", "policy", "health_check",
    "max_concurrent", "next", "failfast_all_unhealthy_upstreams", "failover", "max_idle_conns",
}  # fmt: skip


def _address_error(text):
    """None when ``text`` is a listen address ([host]:port) as health/ready/prometheus take it."""
    host, _sep, port = text.rpartition(":")
    if not _sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        return f"{text!r} is not a listen address HOST:PORT (e.g. :8080)"
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if host and not (_is_ip(host, 4) or _is_ip(host, 6) or _dns_name_ok(host)):
        return f"{text!r}: {host!r} is neither an IP address nor a host name"
    return None


def directive_errors(head, args, block):
    """Argument-shape errors of one directive: ``head`` its name, ``args`` the words after it, ``block``
    the statements of its ``{ ... }`` block ([[word, ...], ...], [] when none). Returns [] when fine.

    Pure: the rules of the CoreDNS plugins a custom entry most often uses (forward is checked on its own)."""
    out = []
    n = len(args)

    def at_most(limit):
        if n > limit:
            out.append(f"{head} takes at most {limit} argument{'s' if limit != 1 else ''}, got {n} ({' '.join(args)})")

    if head in ("errors", "loop", "any"):
        if n:
            out.append(f"{head} takes no arguments, got {' '.join(args)!r}")
    elif head in ("health", "ready", "prometheus"):
        at_most(1)
        if n == 1:
            err = _address_error(args[0])
            if err:
                out.append(f"{head}: {err}")
    elif head == "reload":
        at_most(2)
        for word in args[:2]:
            if not _DURATION.match(word):
                out.append(f"reload: {word!r} is not a duration (e.g. 30s, 2m)")
    elif head == "cache":
        if n and re.fullmatch(r"-?\d+", args[0]) and int(args[0]) <= 0:
            out.append(f"cache: TTL {args[0]} must be a positive number of seconds")
        elif n and _DURATION.match(args[0]):
            out.append(f"cache: TTL {args[0]!r} must be plain seconds (cache 30), not a duration")
        for word in args[1:] if n and args[0].isdigit() else args:
            _zone, _port, err = parse_zone(word)
            if err:
                out.append(f"cache: zone {word!r}: {err}")
    elif head == "loadbalance":
        at_most(2)
        if n and args[0] not in ("round_robin", "weighted"):
            out.append(f"loadbalance: policy {args[0]!r} is not round_robin or weighted")
    elif head == "log":
        for stmt in block:
            if stmt and stmt[0] == "class":
                bad = [w for w in stmt[1:] if w not in _LOG_CLASSES]
                if bad or len(stmt) == 1:
                    out.append(f"log: class needs one or more of {', '.join(sorted(_LOG_CLASSES))}, got {' '.join(stmt[1:])!r}")
            elif stmt:
                out.append(f"log: unknown block option {stmt[0]!r} (only class)")
    elif head == "hosts":
        for stmt in block:
            if not stmt or stmt[0] in ("fallthrough", "ttl", "reload", "no_reverse"):
                continue
            if not (_is_ip(stmt[0], 4) or _is_ip(stmt[0], 6)):
                out.append(f"hosts: block line {' '.join(stmt)!r} is neither 'IP NAME...' nor an option (fallthrough, ttl, reload, no_reverse)")
            elif len(stmt) < 2:
                out.append(f"hosts: {stmt[0]} has no host name after it")
    elif head == "rewrite":
        rest = args[1:] if n and args[0] in ("continue", "stop") else args
        if block and not rest:  # rewrite [continue|stop] { FIELD ...; answer ... }
            for stmt in block:
                if stmt and stmt[0] not in _REWRITE_FIELDS | {"answer"}:
                    out.append(f"rewrite: field {stmt[0]!r} is not one of {', '.join(sorted(_REWRITE_FIELDS))} (or answer)")
        elif len(rest) < 2:
            out.append(f"rewrite needs a FIELD and its arguments (e.g. rewrite name foo.example.com bar.example.com), got {' '.join(args)!r}")
        elif rest[0] not in _REWRITE_FIELDS:
            out.append(f"rewrite: field {rest[0]!r} is not one of {', '.join(sorted(_REWRITE_FIELDS))}")
    elif head == "template":
        if n < 2:
            out.append(f"template needs CLASS and TYPE (e.g. template IN A example.com), got {' '.join(args)!r}")
        elif args[0].upper() not in _DNS_CLASSES:
            out.append(f"template: {args[0]!r} is not a DNS class ({', '.join(sorted(_DNS_CLASSES))})")
        elif not re.fullmatch(r"[A-Za-z0-9]+", args[1]):
            out.append(f"template: {args[1]!r} is not a DNS record type (A, AAAA, CNAME, ANY, ...)")
    elif head == "forward":
        for stmt in block:
            if stmt and stmt[0] not in _FORWARD_OPTIONS:
                out.append(f"forward: unknown block option {stmt[0]!r} (known: {', '.join(sorted(_FORWARD_OPTIONS))})")
    return out


def _block_of(stmts, index):
    """Statements (word lists) directly inside the block that statement ``index`` opens."""
    depth, _stmt, opens = stmts[index]
    if not opens:
        return []
    out = []
    for d, stmt, _o in stmts[index + 1 :]:
        if d <= depth:
            break
        if d == depth + 1:
            out.append([t for t, _l, _q in stmt])
    return out


def validate_entries(data):
    """Errors (each naming the key and the rule) of ``coredns-custom`` data; [] when valid."""
    errors = []
    if not isinstance(data, dict):
        return [f"coredns-custom data must be a mapping of key to Corefile text, got {type(data).__name__}"]
    hosts_keys = []
    blocks = {}  # (zone, port) -> where the first server block for it is
    for key in sorted(data):
        text = data[key]
        if not isinstance(key, str) or not key.endswith(KEY_SUFFIXES):
            errors.append(
                f"{key}: key must end in .server (an additional server block) or .override (directives for the default server block); AKS ignores any other key"
            )
            continue
        if len(key) > 253 or not _KEY_RE.match(key):
            errors.append(f"{key}: not a valid ConfigMap key (letters, digits, '-', '_', '.'; up to 253 characters)")
            continue
        if not isinstance(text, str):
            errors.append(f"{key}: value must be Corefile text (a string), got {type(text).__name__}")
            continue
        tokens, err = _tokens(text)
        if err:
            errors.append(f"{key}: {err}")
            continue
        err = _brace_error(tokens)
        if err:
            errors.append(f"{key}: {err}")
            continue
        if not tokens:
            errors.append(f"{key}: empty entry; remove the key or give it content")
            continue
        in_override = key.endswith(".override")
        stmts = _statements(tokens)
        for index, (depth, stmt, opens) in enumerate(stmts):
            head, line, quoted = stmt[0]
            if depth == 0 and not in_override:
                if not opens:
                    errors.append(
                        f"{key}: line {line}: {head!r} is outside a server block; a .server entry holds blocks like "
                        "'example.com:53 { ... }' (put plain directives in a .override entry)"
                    )
                    continue
                for tok, tline, _q in stmt:
                    for addr in (a for a in tok.split(",") if a):
                        zone, port, zerr = parse_zone(addr)
                        if zerr:
                            errors.append(f"{key}: line {tline}: server block address {addr!r}: {zerr}")
                        elif is_cluster_zone(zone):
                            errors.append(
                                f"{key}: line {tline}: a server block for {zone} (inside {CLUSTER_DOMAIN}) would take in-cluster names away from the "
                                "kubernetes plugin and break in-cluster DNS; use another zone"
                            )
                        elif zone == "." and port in (None, 53):
                            errors.append(
                                f"{key}: line {tline}: zone '.' on port 53 duplicates the AKS default server block (CoreDNS refuses to "
                                "load); use .override directives or forward a specific zone"
                            )
                        else:
                            where = (zone, port or 53)
                            if where in blocks:
                                errors.append(
                                    f"{key}: line {tline}: a server block for {zone}:{port or 53} is already defined in {blocks[where]}; "
                                    "CoreDNS refuses to start with two blocks for the same zone and port (merge them into one entry)"
                                )
                            else:
                                blocks[where] = f"{key} line {tline}"
                continue
            if quoted:
                continue
            if depth == 0 and in_override:
                if not _DIRECTIVE.match(head):
                    errors.append(
                        f"{key}: line {line}: {head!r} is not a plugin directive; .override entries are imported into the "
                        "default server block, so server blocks ('zone:53 { ... }') belong in a .server entry"
                    )
                    continue
                if head == "hosts":
                    hosts_keys.append(key)
            if depth != (0 if in_override else 1):
                continue
            if head not in KNOWN_DIRECTIVES:
                close = difflib.get_close_matches(head, sorted(KNOWN_DIRECTIVES), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append(
                    f"{key}: line {line}: unknown directive {head!r}{hint}; CoreDNS on AKS does not have this plugin and would refuse "
                    "the whole configuration (cluster DNS down)"
                )
                continue
            if head == "forward":
                _check_forward(key, stmt[1:], line, errors, in_override)
            words = [t for t, _l, _q in stmt[1:]]
            errors.extend(f"{key}: line {line}: {msg}" for msg in directive_errors(head, words, _block_of(stmts, index)))
    if len(hosts_keys) > 1:
        errors.append(
            f"{', '.join(hosts_keys)}: the hosts plugin appears in {len(hosts_keys)} .override entries, but it may be used only "
            "once per server block (they all land in the default block); merge them into one entry"
        )
    return errors
