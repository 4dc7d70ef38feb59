"""static/css/pygments.css styles exactly the classes our YAML lexer emits: none missing, none unused."""

import re
from pathlib import Path

from composer.domain.yamlio import dump_documents
from composer.presentation.highlight import highlight_yaml

STYLESHEET = Path(__file__).resolve().parents[2] / "static" / "css" / "pygments.css"
# Every token kind the lexer knows: a comment, keys, quoted and plain strings, numbers, constants,
# an empty map, a literal block, list items.
SAMPLE = "# a comment\n" + dump_documents([{
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {}},
    "spec": {"replicas": 3, "hostNetwork": False, "priority": None, "version": "1.0",
             "containers": [{"name": "app", "args": ["sh", "-c", "echo one\necho two\n"]}]},
}])
COLOURLESS = {"hl-p", "hl-l-scalar-plain"}  # punctuation and plain scalars keep the text colour


def test_every_class_the_lexer_emits_has_a_rule_and_every_rule_is_emitted():
    emitted = set(re.findall(r'class="(hl-[\w-]+)"', highlight_yaml(SAMPLE)))
    styled = set(re.findall(r"\.yaml \.(hl-[\w-]+)", STYLESHEET.read_text()))
    assert {"hl-nt", "hl-s", "hl-m", "hl-kc", "hl-c", "hl-w"} <= emitted
    assert emitted - COLOURLESS == styled
