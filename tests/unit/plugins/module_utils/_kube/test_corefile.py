# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""coredns-custom entries: rendering (AKS documented shapes, deterministic) and validation tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.aksnet.networking.plugins.module_utils._kube.corefile import (
    CorefileError,
    parse_zone,
    render_entries,
    upstream_error,
    validate_entries,
)

FIELD_GUIDE = Path(__file__).resolve().parents[3] / "data" / "field_guide_examples.yaml"


def test_field_guide_coredns_custom_example_validates():
    text = FIELD_GUIDE.read_text(encoding="utf-8")
    docs = [yaml.safe_load(block) for block in yaml.safe_load(text)["examples"]]
    cm = next(d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == "coredns-custom")
    assert cm["metadata"]["namespace"] == "kube-system"
    assert cm["data"] == {"example.server": "example.com:53 {\n    forward . 1.2.3.4\n}\n"}
    assert validate_entries(cm["data"]) == []


# ---------------------------------------------------------------- rendering


def test_render_forward_zone_as_documented_by_aks():
    data = render_entries(forward_zones={"example.com": ["1.2.3.4"]})
    assert data == {"example.com.server": "example.com:53 {\n    errors\n    cache 30\n    forward . 1.2.3.4\n}\n"}
    assert validate_entries(data) == []


def test_render_all_entry_kinds():
    data = render_entries(
        forward_zones=[
            {"zone": "corp.contoso.com.", "upstreams": ["10.0.0.4", "10.0.0.5:5353", "10.0.0.4"]},
            {"zone": "partner.org", "upstreams": "tls://[fd00::53]:853"},
        ],
        hosts={"db.contoso.com": "10.1.0.7", "cache.contoso.com": ["10.1.0.7", "fd00::7"], "a.contoso.com": "10.1.0.10"},
        log_zones=["partner.org", "example.net"],
        raw={"rewrite.override": "rewrite name foo.example.com foo.default.svc.cluster.local\n"},
    )
    assert list(data) == sorted(data)
    assert data == {
        "corp.contoso.com.server": "corp.contoso.com:53 {\n    errors\n    cache 30\n    forward . 10.0.0.4 10.0.0.5:5353\n}\n",
        "partner.org.server": "partner.org:53 {\n    errors\n    log\n    cache 30\n    forward . tls://[fd00::53]:853\n}\n",
        "hosts.override": (
            "hosts {\n    10.1.0.7 cache.contoso.com db.contoso.com\n    10.1.0.10 a.contoso.com\n    fd00::7 cache.contoso.com\n    fallthrough\n}\n"
        ),
        "log.override": "log example.net\n",
        "rewrite.override": "rewrite name foo.example.com foo.default.svc.cluster.local\n",
    }
    assert validate_entries(data) == []


def test_render_log_everything_is_the_aks_log_override():
    assert render_entries(log_zones=True) == {"log.override": "log\n"}
    assert render_entries(log_zones=["."]) == {"log.override": "log\n"}
    assert render_entries() == {}


def test_render_is_deterministic_whatever_the_input_order():
    a = render_entries(forward_zones={"b.org": ["1.1.1.1"], "a.org": ["2.2.2.2"]}, hosts={"x.org": "10.0.0.2", "y.org": "10.0.0.1"})
    b = render_entries(forward_zones={"a.org": ["2.2.2.2"], "b.org": ["1.1.1.1"]}, hosts={"y.org": "10.0.0.1", "x.org": "10.0.0.2"})
    assert a == b and list(a) == list(b) == ["a.org.server", "b.org.server", "hosts.override"]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"forward_zones": {"example.com": []}}, "has no upstream servers"),
        ({"forward_zones": {"bad zone!": ["1.1.1.1"]}}, "forward_zones: zone 'bad zone!'"),
        ({"forward_zones": [{"zone": "a.org", "upstreams": ["1.1.1.1"]}, {"zone": "A.org.", "upstreams": ["2.2.2.2"]}]}, "given twice"),
        ({"hosts": {"db.example.com": "not-an-ip"}}, "hosts[db.example.com]: 'not-an-ip' is not an IP address"),
        ({"hosts": ["10.0.0.1"]}, "must be 'IP name [name...]'"),
        ({"forward_zones": {"a.org": ["1.1.1.1"]}, "raw": {"a.org.server": "x"}}, "raw: key 'a.org.server' clashes with the entry rendered from forward_zones"),
        ({"log_zones": 5}, "log_zones: expected true or a list"),
    ],
)
def test_render_rejects_malformed_input(kwargs, expected):
    with pytest.raises(CorefileError) as exc:
        render_entries(**kwargs)
    assert expected in str(exc.value)


# ---------------------------------------------------------------- validation tables

ACCEPTED = [
    {"example.server": "example.com:53 {\n    forward . 1.2.3.4\n}\n"},
    {"puglife.server": "puglife.local:53 {\n    errors\n    cache 30\n    forward . 192.11.0.1  # this is my test/dev DNS server\n}\n"},
    {"multi.server": "abc.com:53 {\n    errors\n    cache 30\n    forward . 1.2.3.4\n}\nxyz.org:53 {\n    forward . 2.3.4.5 [2001:db8::1]:53 fd00::2\n}\n"},
    {"resolv.server": "contoso.com {\n    forward . /etc/resolv.conf\n}\n"},
    {"tls.server": "tls://secure.example:53 {\n    forward . tls://9.9.9.9 dns://1.1.1.1:53 {\n        tls_servername dns.quad9.net\n    }\n}\n"},
    {"reverse.server": "10.0.0.0/24 {\n    forward . 10.0.0.4\n}\n"},
    {"alt-port.server": ".:5353 {\n    forward . 8.8.8.8\n}\n"},
    {"test.override": "hosts {\n    10.0.0.1 example1.org\n    10.0.0.2 example2.org\n    fallthrough\n}\n"},
    {"log.override": "log\n"},
    {
        "rewrite.override": (
            "rewrite stop {\n    name regex (.*)\\.contoso\\.com {1}.default.svc.cluster.local\n"
            "    answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.contoso.com\n}\n"
        )
    },
    {"comment.server": "# a comment with a brace {\nexample.com:53 {\n    forward . 1.2.3.4 # another }\n}\n"},
    {"quoted.override": 'log . "{remote}:{port} - {>id} \\"{type} {class} {name}\\" {rcode}"\n'},
    {"forward-zone.override": "forward example.org 10.0.0.8\n"},
]


@pytest.mark.parametrize("data", ACCEPTED, ids=[next(iter(d)) for d in ACCEPTED])
def test_validate_accepts(data):
    assert validate_entries(data) == []


REJECTED = [
    ({"example.conf": "log\n"}, "example.conf: key must end in .server"),
    ({"a b.server": "x.org {\n}\n"}, "a b.server: not a valid ConfigMap key"),
    ({"open.server": "example.com:53 {\n    forward . 1.2.3.4\n"}, "open.server: unbalanced braces: '{' opened on line 1 is never closed"),
    ({"close.server": "example.com:53 {\n    forward . 1.2.3.4\n}\n}\n"}, "close.server: unbalanced braces: '}' on line 4 closes nothing"),
    ({"quote.override": 'log "unterminated\n'}, "quote.override: unterminated quoted string starting on line 1"),
    ({"zone.server": "exa mple!.com:53 {\n    forward . 1.2.3.4\n}\n"}, "zone.server: line 1: server block address 'mple!.com:53'"),
    ({"label.server": "-bad-.com {\n    forward . 1.2.3.4\n}\n"}, "is not a well-formed DNS zone name"),
    ({"port.server": "example.com:99999 {\n    forward . 1.2.3.4\n}\n"}, "port '99999' is not a number 1-65535"),
    ({"host.server": "example.com {\n    forward . dns.google\n}\n"}, "host.server: line 2: forward upstream 'dns.google' is not an IP address"),
    ({"ip.server": "example.com {\n    forward . 1.2.3.400\n}\n"}, "'1.2.3.400' is not an IP address"),
    ({"upport.server": "example.com {\n    forward . 1.2.3.4:0\n}\n"}, "port '0' is not a number 1-65535"),
    ({"scheme.server": "example.com {\n    forward . https://1.1.1.1\n}\n"}, "only dns:// and tls:// upstreams"),
    ({"none.server": "example.com {\n    forward .\n}\n"}, "has no upstream server"),
    ({"cluster.server": "cluster.local:53 {\n    forward . 10.0.0.4\n}\n"}, "cluster.server: line 1: a server block for cluster.local"),
    ({"sub.server": "svc.cluster.local {\n    forward . 10.0.0.4\n}\n"}, "a server block for svc.cluster.local (inside cluster.local)"),
    ({"fwd.override": "forward cluster.local 10.0.0.4\n"}, "fwd.override: line 1: forward of cluster.local would send in-cluster names"),
    ({"root.server": ".:53 {\n    forward . 8.8.8.8\n}\n"}, "root.server: line 1: zone '.' on port 53 duplicates the AKS default server block"),
    ({"root.override": "forward . 8.8.8.8\n"}, "root.override: line 1: 'forward .' in an .override entry duplicates"),
    ({"block.override": "example.com:53 {\n    forward . 1.2.3.4\n}\n"}, "block.override: line 1: 'example.com:53' is not a plugin directive"),
    ({"loose.server": "log\nexample.com {\n}\n"}, "loose.server: line 1: 'log' is outside a server block"),
    ({"empty.override": "# nothing\n"}, "empty.override: empty entry"),
    (
        {"a.override": "hosts {\n  fallthrough\n}\n", "b.override": "hosts /etc/extra-hosts\n"},
        "a.override, b.override: the hosts plugin appears in 2 .override entries",
    ),
]


@pytest.mark.parametrize("data, expected", REJECTED, ids=[next(iter(d)) for d, _e in REJECTED])
def test_validate_rejects_naming_key_and_rule(data, expected):
    errors = validate_entries(data)
    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_validate_reports_every_bad_key():
    errors = validate_entries({"x.txt": "", "cluster.server": "cluster.local {\n forward . 1.1.1.1\n}\n", "ok.server": "a.org {\n forward . 1.1.1.1\n}\n"})
    assert [e.split(":", maxsplit=1)[0] for e in errors] == ["cluster.server", "x.txt"]


@pytest.mark.parametrize(
    "text, zone, port",
    [
        ("example.com", "example.com", None),
        ("Example.COM.:53", "example.com", 53),
        (".", ".", None),
        ("dns://a.b:5353", "a.b", 5353),
        ("10.0.0.0/8", "10.0.0.0/8", None),
    ],
)
def test_parse_zone(text, zone, port):
    assert parse_zone(text) == (zone, port, None)


@pytest.mark.parametrize("text", ["1.2.3.4", "1.2.3.4:53", "fd00::1", "[fd00::1]:53", "tls://1.1.1.1", "dns://8.8.8.8:53", "/etc/resolv.conf"])
def test_upstream_accepted(text):
    assert upstream_error(text) is None


@pytest.mark.parametrize("text", ["dns.google", "1.2.3", "[fd00::1", "[1.2.3.4]:53", "fd00::zz", "udp://1.1.1.1", "1.2.3.4:abc"])
def test_upstream_rejected(text):
    assert upstream_error(text)


# ---------------------------------------------------------------- directives (names and argument shapes)


def test_unknown_directive_is_refused_with_a_suggestion():
    errors = validate_entries({"typo.server": "example.com:53 {\n    forwrd . 1.1.1.1\n}\n"})
    assert len(errors) == 1
    assert "unknown directive 'forwrd'" in errors[0] and "did you mean 'forward'" in errors[0] and "line 2" in errors[0]
    errors = validate_entries({"typo.override": "lgo\n"})
    assert len(errors) == 1 and "unknown directive 'lgo'" in errors[0]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("errors stdout", "errors takes no arguments"),
        ("loop 1", "loop takes no arguments"),
        ("cache 0", "cache: TTL 0 must be a positive"),
        ("cache 30s", "must be plain seconds"),
        ("cache 30 not_a..zone", "cache: zone 'not_a..zone'"),
        ("health :8080 :8081", "health takes at most 1 argument"),
        ("ready localhost", "is not a listen address"),
        ("prometheus :99999", "is not a listen address"),
        ("reload 30", "reload: '30' is not a duration"),
        ("loadbalance random", "policy 'random' is not round_robin or weighted"),
        ("rewrite name", "rewrite needs a FIELD"),
        ("rewrite host a.example.com b.example.com", "field 'host' is not one of"),
        ("template A", "template needs CLASS and TYPE"),
        ("template XX A example.com", "'XX' is not a DNS class"),
        ("log {\n        class everything\n    }", "log: class needs one or more of"),
        ("hosts {\n        example.com 10.0.0.1\n    }", "is neither 'IP NAME...' nor an option"),
        ("forward . 1.1.1.1 {\n        max_fail 3\n    }", "forward: unknown block option 'max_fail'"),
    ],
)
def test_directive_argument_shapes_are_checked(body, fragment):
    errors = validate_entries({"shape.server": f"example.com:53 {{\n    {body}\n}}\n"})
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize(
    "body",
    [
        "errors\n    cache 30 example.com\n    log\n    health :8080\n    ready :8181\n    prometheus :9153\n"
        "    reload 30s 5s\n    loadbalance round_robin\n    loop",
        "template IN A example.com {\n        answer \"{{ .Name }} 60 IN A 10.0.0.1\"\n    }",
        "rewrite name exact old.example.com new.example.com",
        "rewrite continue {\n        name regex (.*)\\.old\\.example\\.com {1}.new.example.com\n"
        "        answer name (.*)\\.new\\.example\\.com {1}.old.example.com\n    }",
        "hosts {\n        10.0.0.1 a.example.com b.example.com\n        fallthrough\n    }",
        "forward . 1.1.1.1 {\n        max_fails 3\n        policy sequential\n    }",
        "log {\n        class denial error\n    }",
    ],
)
def test_well_formed_directives_are_accepted(body):
    assert validate_entries({"ok.server": f"example.com:53 {{\n    {body}\n}}\n"}) == []


def test_two_server_blocks_for_the_same_zone_and_port_are_refused():
    data = {
        "a.server": "corp.example.com:53 {\n    forward . 10.0.0.4\n}\n",
        "b.server": "Corp.Example.com.:53 {\n    forward . 10.0.0.5\n}\n",
    }
    errors = validate_entries(data)
    assert len(errors) == 1
    assert "b.server" in errors[0] and "corp.example.com:53 is already defined in a.server line 1" in errors[0]
    # same zone, another port: two listeners, fine; port 53 is the default
    assert validate_entries({"a.server": data["a.server"], "c.server": "corp.example.com:5353 {\n    forward . 10.0.0.5\n}\n"}) == []
    assert validate_entries({"a.server": data["a.server"], "d.server": "corp.example.com {\n    forward . 10.0.0.5\n}\n"}) != []
