# Copyright (c) aksnet.networking contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Multi-line text in diffs is shown as lines."""

from __future__ import annotations

import difflib
import json

from ansible_collections.aksnet.networking.plugins.module_utils._common.diff import as_lines, readable_diff


def test_multi_line_strings_become_lists_of_lines_anywhere():
    value = {"data": {"a.server": "a {\n    errors\n}\n", "k": "one line"}, "list": ["x\ny", 3], "n": None}
    assert as_lines(value) == {"data": {"a.server": ["a {", "    errors", "}"], "k": "one line"}, "list": [["x", "y"], 3], "n": None}


def test_readable_diff_leaves_text_diffs_and_other_keys_alone():
    diff = {"before": {"data": {}}, "after": {"data": {"x": "1\n2\n"}}, "before_header": "h"}
    assert readable_diff(diff) == {"before": {"data": {}}, "after": {"data": {"x": ["1", "2"]}}, "before_header": "h"}
    assert readable_diff({"before": "a\nb\n", "after": "a\nc\n"}) == {"before": "a\nb\n", "after": "a\nc\n"}
    assert readable_diff([{"before": {"v": "a\nb"}, "after": {}}])[0]["before"] == {"v": ["a", "b"]}


def test_a_one_word_change_is_one_changed_line_in_the_printed_diff():
    before = {"data": {"c.server": "c:53 {\n    errors\n    cache 30\n    forward . 10.0.0.4\n}\n"}}
    after = {"data": {"c.server": "c:53 {\n    errors\n    cache 30\n    forward . 10.0.0.5\n}\n"}}
    d = readable_diff({"before": before, "after": after})
    # what the diff callback does with mappings: JSON text, then a line diff
    lines = list(difflib.unified_diff(*(json.dumps(d[s], indent=4, sort_keys=True).splitlines() for s in ("before", "after")), lineterm=""))
    changed = [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ['-            "    forward . 10.0.0.4",', '+            "    forward . 10.0.0.5",']
