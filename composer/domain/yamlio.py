"""Safe multi-document YAML for manifests: load with limits, dump for people.

Loading
    Only the safe YAML types are constructed (``SafeConstructor``). The text is
    scanned and parsed by libyaml when PyYAML was built with it, but documents are
    *composed* in Python by a composer that counts as it goes: libyaml's own
    composer recurses in C and crashes the process on deeply nested input
    (``"[" * 200_000``), and nothing in PyYAML bounds alias expansion. Limits:

    - ``MAX_YAML_BYTES`` of UTF-8 text;
    - ``MAX_DEPTH`` levels of nesting;
    - ``MAX_ALIASES`` alias references;
    - ``MAX_NODES`` nodes in the whole input *after* alias expansion, so a
      "billion laughs" bomb stops after a few thousand events, in bounded memory.

    Manifests are JSON underneath, so values are restricted to what JSON can carry:
    timestamps stay strings (as ``kubectl`` reads them), ``!!binary``/``!!set``/
    ``!!omap``/``!!pairs`` are refused, recursive aliases are refused, mapping keys
    must be scalars (a non-string scalar key keeps its source text: ``80: x`` gives
    the key ``"80"``), and a key repeated in one mapping is an error rather than a
    silent overwrite (the API server rejects duplicate fields too). An integer has at most
    ``MAX_INT_DIGITS`` decimal digits, in any notation (hex, octal, binary, base 60): Python
    refuses to convert longer ones to and from text, and no Kubernetes field holds one (their
    ranges are checked by the schema validation and the shape checks).

Dumping
    Block style, key order kept, unicode as is, never anchors or aliases, and
    multi-line strings as literal blocks (``|``) so that scripts read well.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError
from yaml.resolver import Resolver

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "MAX_YAML_BYTES",
    "YamlError",
    "dump_documents",
    "dump_flow",
    "dump_value",
    "load_documents",
    "load_value",
]

MAX_YAML_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 10_000
MAX_NODES = 200_000
MAX_INT_DIGITS = 4300  # Python's default int <-> str limit (sys.get_int_max_str_digits), whatever it is set to
_INT_LIMIT = 10**MAX_INT_DIGITS
# Characters an integer may be written with before the digits are counted: 4,300 decimal digits
# are about 14,300 binary ones; anything longer is refused before it is converted at all.
_MAX_INT_TEXT = 4 * MAX_INT_DIGITS

_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"


class YamlError(ValueError):
    """YAML a user gave us is unreadable or unacceptable.

    ``line`` and ``column`` are 1-based (``None`` when unknown). ``problem`` is the
    bare description; ``message`` and ``str(error)`` carry the position too, e.g.
    ``"line 3, column 7: mapping values are not allowed in this context"``.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.problem = message
        self.line = line
        self.column = column
        if line is not None and column is not None:
            located = f"line {line}, column {column}: {message}"
        elif line is not None:
            located = f"line {line}: {message}"
        else:
            located = message
        self.message = located
        super().__init__(located)


class _LimitExceeded(yaml.MarkedYAMLError):
    """Raised inside the composer; turned into a YamlError by load_documents()."""


# --------------------------------------------------------------------------- loading


class _LimitedComposer(Composer):
    """PyYAML's composer, made iterative, counting depth, aliases and expanded nodes.

    Same nodes as ``yaml.composer.Composer`` (path resolvers aside, which we never
    register), built with an explicit stack so that depth costs no recursion.
    """

    def _reset_limits(self) -> None:
        self._aliases = 0
        self._nodes = 0

    def _limit(self, problem: str, mark) -> _LimitExceeded:
        return _LimitExceeded(problem=problem, problem_mark=mark)

    def compose_document(self):
        get_event = self.get_event
        resolve = self.resolve
        get_event()  # DocumentStartEvent
        anchors: dict[str, Node] = {}
        sizes: dict[str, int] = {}  # anchor -> nodes under it, once its node is complete
        self.anchors = anchors
        # Open collections: [node, nodes counted before it, anchor, pending mapping key].
        stack: list[list[Any]] = []
        while True:
            event = get_event()
            cls = event.__class__
            if cls is AliasEvent:
                anchor = event.anchor
                if anchor not in anchors:
                    raise ComposerError(None, None, f"found undefined alias {anchor!r}", event.start_mark)
                if anchor not in sizes:
                    raise self._limit(f"alias *{anchor} refers to a node that contains it", event.start_mark)
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise self._limit(f"too many aliases (more than {MAX_ALIASES:,})", event.start_mark)
                self._nodes += sizes[anchor]
                if self._nodes > MAX_NODES:
                    raise self._limit(_TOO_MANY_NODES, event.start_mark)
                node = anchors[anchor]
            elif cls is ScalarEvent or cls is MappingStartEvent or cls is SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise self._limit(f"nested too deeply (more than {MAX_DEPTH} levels)", event.start_mark)
                self._nodes += 1
                if self._nodes > MAX_NODES:
                    raise self._limit(_TOO_MANY_NODES, event.start_mark)
                anchor = event.anchor
                if anchor is not None and anchor in anchors:
                    first = anchors[anchor].start_mark
                    raise ComposerError(
                        None,
                        None,
                        f"duplicate anchor &{anchor} (first defined at line "
                        f"{first.line + 1}, column {first.column + 1})",
                        event.start_mark,
                    )
                tag = event.tag
                if cls is ScalarEvent:
                    if tag is None or tag == "!":
                        tag = resolve(ScalarNode, event.value, event.implicit)
                    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                    if anchor is not None:
                        anchors[anchor] = node
                        sizes[anchor] = 1
                else:
                    if cls is MappingStartEvent:
                        if tag is None or tag == "!":
                            tag = resolve(MappingNode, None, event.implicit)
                        node = MappingNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
                    else:
                        if tag is None or tag == "!":
                            tag = resolve(SequenceNode, None, event.implicit)
                        node = SequenceNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
                    if anchor is not None:
                        anchors[anchor] = node
                    stack.append([node, self._nodes - 1, anchor, None])
                    continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                node, before, anchor, _key = stack.pop()
                node.end_mark = event.end_mark
                if anchor is not None:
                    sizes[anchor] = self._nodes - before
            else:  # pragma: no cover - the parser guarantees the event order
                raise ComposerError(None, None, f"unexpected {cls.__name__}", event.start_mark)

            if not stack:
                break
            parent = stack[-1]
            if parent[0].__class__ is SequenceNode:
                parent[0].value.append(node)
            elif parent[3] is None:
                parent[3] = node
            else:
                parent[0].value.append((parent[3], node))
                parent[3] = None
        get_event()  # DocumentEndEvent
        self.anchors = {}
        return node


_TOO_MANY_NODES = f"too many YAML nodes (more than {MAX_NODES:,} after expanding aliases)"


def _node_kind(node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "a scalar"


class _JsonConstructor(SafeConstructor):
    """SafeConstructor restricted to what a JSON manifest can hold."""

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, but found {node.id}", node.start_mark)
        seen: dict[str, Any] = {}
        for key_node, _value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            if key in seen:
                raise ConstructorError(
                    f"while reading the mapping that starts at line {node.start_mark.line + 1}",
                    None,
                    f"duplicate key {key!r} (first at line {seen[key].line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        self.flatten_mapping(node)  # "<<: *base" merges; own keys win over merged ones
        mapping = {}
        for key_node, value_node in node.value:
            mapping[self._key(key_node)] = self.construct_object(value_node, deep=deep)
        return mapping

    def _key(self, key_node) -> str:
        if not isinstance(key_node, ScalarNode):
            raise ConstructorError(
                None, None, f"a mapping key must be a string, not {_node_kind(key_node)}", key_node.start_mark
            )
        return key_node.value  # source text: "80" for 80, "on" for on, "" for an empty key

    def construct_bounded_int(self, node):
        """An integer of at most MAX_INT_DIGITS digits; a longer one is a ConstructorError at its position."""
        text = str(node.value).replace("_", "")
        problem = f"the integer is too large (more than {MAX_INT_DIGITS:,} digits)"
        if len(text) > _MAX_INT_TEXT:
            raise ConstructorError(None, None, problem, node.start_mark)
        try:
            value = SafeConstructor.construct_yaml_int(self, node)
        except (ValueError, IndexError) as error:  # Python's int/str digit limit, "!!int abc", "!!int ''"
            if "digits" not in str(error):
                problem = f"{text[:40]!r} is not an integer"
            raise ConstructorError(None, None, problem, node.start_mark) from None
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise ConstructorError(None, None, problem, node.start_mark)
        return value

    def construct_undefined(self, node):
        raise ConstructorError(None, None, f"unknown YAML tag {node.tag!r}", node.start_mark)

    def construct_unsupported(self, node):
        raise ConstructorError(
            None,
            None,
            f"the YAML type {node.tag.replace('tag:yaml.org,2002:', '!!')} "
            "is not supported in Kubernetes manifests",
            node.start_mark,
        )


# Timestamps stay strings, as for kubectl; "=" (the YAML 1.1 value key) is a string.
_JsonConstructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
_JsonConstructor.add_constructor("tag:yaml.org,2002:value", SafeConstructor.construct_yaml_str)
_JsonConstructor.add_constructor("tag:yaml.org,2002:int", _JsonConstructor.construct_bounded_int)


def _explicit_scalar(construct, what: str):
    """A scalar constructor that turns a value it cannot read ("!!float abc", "!!bool maybe") into a
    ConstructorError at the value's position (PyYAML raises ValueError, IndexError or KeyError)."""

    def checked(constructor, node):
        try:
            return construct(constructor, node)
        except (ValueError, IndexError, KeyError):
            raise ConstructorError(None, None, f"{str(node.value)[:40]!r} is not {what}", node.start_mark) from None

    return checked


_JsonConstructor.add_constructor(
    "tag:yaml.org,2002:float", _explicit_scalar(SafeConstructor.construct_yaml_float, "a number")
)
_JsonConstructor.add_constructor(
    "tag:yaml.org,2002:bool", _explicit_scalar(SafeConstructor.construct_yaml_bool, "true or false")
)
for _tag in ("binary", "set", "omap", "pairs"):
    _JsonConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _JsonConstructor.construct_unsupported)
_JsonConstructor.add_constructor(None, _JsonConstructor.construct_undefined)


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _Loader(_LimitedComposer, _JsonConstructor, Resolver, CParser):
        """libyaml scanner and parser; Python composer (with limits) and constructor."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            _JsonConstructor.__init__(self)
            Resolver.__init__(self)
            self._reset_limits()

else:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(Reader, Scanner, Parser, _LimitedComposer, _JsonConstructor, Resolver):
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _JsonConstructor.__init__(self)
            Resolver.__init__(self)
            self._reset_limits()


def _error_from_yaml(exc: yaml.YAMLError, text: str) -> YamlError:
    if isinstance(exc, ReaderError):
        # Raised before any mark exists; it knows the offset into the text.
        position = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return YamlError(f"unacceptable character #x{code:04X}: {exc.reason}", line, column)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            context = exc.context
            cmark = exc.context_mark
            if cmark is not None and (mark is None or cmark.line != mark.line or cmark.column != mark.column):
                context += f" at line {cmark.line + 1}, column {cmark.column + 1}"
            message = f"{message} ({context})"
        if mark is not None:
            return YamlError(message, mark.line + 1, mark.column + 1)
        return YamlError(message)
    return YamlError(str(exc) or "invalid YAML")


def load_documents(text: str) -> list[dict]:
    """Every non-empty document in ``text``, each a mapping, in order.

    Raises YamlError for unreadable YAML, for input beyond the limits (see the
    module docstring) and for a document that is not a mapping.
    """
    documents: list[dict] = []

    def take(number: int, node: Node, construct) -> None:
        if not isinstance(node, MappingNode):
            mark = node.start_mark
            raise YamlError(
                f"document {number} is {_node_kind(node)}, but a Kubernetes manifest must be a "
                "mapping (key: value)",
                mark.line + 1,
                mark.column + 1,
            )
        documents.append(construct(node))

    _load(text, take)
    return documents


def load_value(text: str) -> Any:
    """One value of any kind (a manifest field's: a mapping, a list, a string, a number …), with the
    limits of load_documents; None for empty text (or ``null``).

    Raises YamlError as load_documents does, and for more than one document.
    """
    values: list[Any] = []

    def take(_number: int, node: Node, construct) -> None:
        if values:
            mark = node.start_mark
            raise YamlError("write one value, not several documents", mark.line + 1, mark.column + 1)
        values.append(construct(node))

    _load(text, take)
    return values[0] if values else None


def _load(text: str, take) -> None:
    """Composes ``text`` document by document within the limits; ``take(number, node, construct)``
    gets each one that is not empty (construct(node) builds its value)."""
    if isinstance(text, bytes):
        if len(text) > MAX_YAML_BYTES:
            raise YamlError(_too_big_message(len(text)))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlError(f"the text is not valid UTF-8 (byte {exc.start + 1})") from None
    if not isinstance(text, str):
        raise TypeError(f"YAML to load must be a str, not {type(text).__name__}")
    if len(text) > MAX_YAML_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise YamlError(_too_big_message(len(text.encode("utf-8", "surrogatepass"))))

    try:
        loader = _Loader(text)  # the pure-Python reader checks characters here already
    except yaml.YAMLError as exc:
        raise _error_from_yaml(exc, text) from None
    number = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            number += 1
            if isinstance(node, ScalarNode) and node.tag == _NULL_TAG:
                continue  # an empty document ("---" with nothing after it, or only comments)
            take(number, node, loader.construct_document)
    except yaml.YAMLError as exc:
        raise _error_from_yaml(exc, text) from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise YamlError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()


def _too_big_message(size: int) -> str:
    return f"the YAML is too large ({size:,} bytes; the limit is {MAX_YAML_BYTES:,} bytes)"


# --------------------------------------------------------------------------- dumping

_BaseDumper = yaml.CSafeDumper if getattr(yaml, "__with_libyaml__", False) else yaml.SafeDumper


class _Dumper(_BaseDumper):
    """Safe dumper that never writes anchors or aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str):
    # Literal blocks for multi-line text; the emitter falls back to a quoted scalar
    # by itself when a literal block cannot hold the string exactly.
    style = "|" if "\n" in data else None
    return dumper.represent_scalar(_STR_TAG, data, style=style)


_Dumper.add_representer(str, _represent_str)

# No line folding: long command lines and URLs stay on one line.
_NO_WRAP = 1 << 20


def dump_documents(docs: list[dict]) -> str:
    """Documents as multi-document YAML ("---" between them), keys in their order."""
    if not docs:
        return ""
    return yaml.dump_all(
        docs,
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=_NO_WRAP,
        explicit_start=False,
    )


def dump_value(value: Any) -> str:
    """One value (a manifest field's) as load_value reads it back, in the style of dump_documents; "" for None."""
    if value is None:
        return ""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True,
                     width=_NO_WRAP)
    return text.removesuffix("...\n")  # a plain scalar's document end marker


def dump_flow(value: Any) -> str:
    """One value on one line, as load_value reads it back: flow YAML (``{name: a, value: b}``), or JSON (also
    YAML) when a string would need more than one line."""
    text = yaml.dump(value, Dumper=_BaseDumper, default_flow_style=True, sort_keys=False, allow_unicode=True,
                     width=_NO_WRAP).removesuffix("\n").removesuffix("\n...")
    return json.dumps(value, ensure_ascii=False) if "\n" in text else text
