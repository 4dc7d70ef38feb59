"""composer.domain.yamlio: safe multi-document YAML with limits."""

import tracemalloc

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.domain.yamlio import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_NODES,
    MAX_YAML_BYTES,
    YamlError,
    dump_documents,
    dump_flow,
    dump_value,
    load_documents,
    load_value,
)

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "initContainers": [
            {
                "name": "init",
                "image": "busybox:1.36",
                "command": ["sh", "-c", "set -e\necho preparing\ntouch /work/ready\n"],
            }
        ],
        "containers": [
            {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
            {"name": "logs", "image": "busybox:1.36", "args": ["tail", "-F", "/var/log/app.log"]},
        ],
    },
}

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
}


def errors_of(text):
    with pytest.raises(YamlError) as info:
        load_documents(text)
    return info.value


# --------------------------------------------------------------------------- loading


def test_loads_every_document_in_order_and_skips_empty_ones():
    text = "---\n# a comment only\n---\na: 1\n---\n---\nb: [x, y]\n...\n"
    assert load_documents(text) == [{"a": 1}, {"b": ["x", "y"]}]


@pytest.mark.parametrize("text", ["", "   \n", "# nothing\n", "---\n", "---\n...\n"])
def test_nothing_to_load_gives_an_empty_list(text):
    assert load_documents(text) == []


def test_key_order_is_kept():
    assert list(load_documents("z: 1\na: 2\nm: 3\n")[0]) == ["z", "a", "m"]


def test_accepts_utf8_bytes_and_a_byte_order_mark():
    assert load_documents("\ufeffname: café\n".encode()) == [{"name": "café"}]


def test_timestamps_stay_strings_like_kubectl_reads_them():
    assert load_documents("a: 2024-01-01\nb: 2024-01-01T10:00:00Z\n") == [
        {"a": "2024-01-01", "b": "2024-01-01T10:00:00Z"}
    ]


def test_non_string_scalar_keys_keep_their_source_text():
    assert load_documents("data:\n  80: http\n  on: yes\n  1.5: x\n") == [
        {"data": {"80": "http", "on": True, "1.5": "x"}}
    ]


def test_a_lone_equals_sign_is_a_string():
    assert load_documents("value: =\n") == [{"value": "="}]


def test_anchors_aliases_and_merge_keys_work_within_limits():
    text = "base: &base {cpu: 100m, memory: 64Mi}\nrequests:\n  <<: *base\n  memory: 128Mi\nlimits: *base\n"
    assert load_documents(text) == [
        {
            "base": {"cpu": "100m", "memory": "64Mi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        }
    ]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("a: 1\nb: c: d\n", 2, 5, "mapping values are not allowed"),
        ("kind: Pod\nspec:\n  containers: [a, b\n", 4, 1, "did not find expected ','"),
        ("a: 'open\n", 2, 1, "unexpected end of stream"),
        ("a:\n\t- x\n", 2, 1, "cannot start any token"),
        ("a: *missing\n", 1, 4, "undefined alias 'missing'"),
        ("a: \x07\n", 1, 4, "unacceptable character #x0007"),
    ],
)
def test_syntax_errors_carry_one_based_line_and_column(text, line, column, words):
    error = errors_of(text)
    assert (error.line, error.column) == (line, column)
    assert words in error.problem
    assert str(error).startswith(f"line {line}, column {column}: ")
    assert error.message == str(error)


def test_the_error_message_reads_like_the_example():
    error = errors_of("metadata:\n  name: web\n  labels: app: web\n")
    assert str(error) == "line 3, column 14: mapping values are not allowed in this context"


def test_yaml_error_without_position():
    error = YamlError("something is off")
    assert (error.line, error.column, str(error)) == (None, None, "something is off")
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("- a\n- b\n", "document 1 is a list", 1),
        ("a: 1\n---\njust text\n", "document 2 is a scalar", 3),
        ("---\n---\n42\n", "document 2 is a scalar", 3),  # the first one is empty
    ],
)
def test_documents_must_be_mappings(text, words, line):
    error = errors_of(text)
    assert words in str(error)
    assert "mapping" in str(error)
    assert error.line == line


def test_duplicate_keys_are_errors_not_silent_overwrites():
    error = errors_of("metadata:\n  name: a\n  labels: {}\n  name: b\n")
    assert (error.line, error.column) == (4, 3)
    assert "duplicate key 'name'" in str(error)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: !!binary aGVsbG8=\n", "!!binary is not supported"),
        ("a: !!set {x, y}\n", "!!set is not supported"),
        ("a: !!python/object:os.system x\n", "unknown YAML tag"),
        ("a: !Ref x\n", "unknown YAML tag '!Ref'"),
        ("? [a, b]\n: 1\n", "mapping key must be a string"),
        ("a: &x [1, *x]\n", "refers to a node that contains it"),
        ("a: &x 1\nb: &x 2\n", "duplicate anchor &x"),
    ],
)
def test_only_json_like_values_are_accepted(text, words):
    error = errors_of(text)
    assert words in str(error)
    assert error.line is not None


def test_type_errors_for_non_text():
    with pytest.raises(TypeError):
        load_documents(42)


def test_invalid_utf8_bytes():
    assert "not valid UTF-8" in str(errors_of(b"a: \xff\n"))


# --------------------------------------------------------------------------- limits


def test_input_over_one_mebibyte_is_rejected_before_parsing():
    text = "a: " + "x" * MAX_YAML_BYTES
    error = errors_of(text)
    assert "too large" in str(error)
    assert error.line is None


def test_size_limit_counts_utf8_bytes_not_characters():
    text = "a: " + "é" * (MAX_YAML_BYTES // 2)  # fewer characters than the limit, more bytes
    assert len(text) < MAX_YAML_BYTES
    assert "too large" in str(errors_of(text))


def test_input_just_under_the_limit_loads():
    text = "a: " + "x" * (MAX_YAML_BYTES - 10) + "\n"
    assert len(load_documents(text)[0]["a"]) == MAX_YAML_BYTES - 10


@pytest.mark.parametrize(
    "number",
    [
        "9" * (MAX_INT_DIGITS + 1),  # Python's own limit: int() raises ValueError
        "-" + "9" * 10_000,
        "1_" + "0" * 5_000,  # underscores do not count as digits
        "0x" + "f" * 3_600,  # a power-of-two base has no limit in int(), but prints as > 4,300 digits
        "0b" + "1" * 20_000,
        "0" + "7" * 5_000,  # YAML 1.1 octal
        "1" + ":59" * 3_000,  # YAML 1.1 base 60
    ],
    ids=["decimal", "negative", "underscores", "hex", "binary", "octal", "sexagesimal"],
)
def test_integers_beyond_4300_digits_are_an_error_at_their_position(number):
    error = errors_of(f"kind: Pod\nspec:\n  replicas: {number}\n")
    assert (error.line, error.column) == (3, 13)
    assert f"the integer is too large (more than {MAX_INT_DIGITS:,} digits)" in str(error)


def test_integers_up_to_4300_digits_load_and_dump_again():
    for number in ("9" * MAX_INT_DIGITS, "-" + "9" * MAX_INT_DIGITS, "0x" + "f" * 3_571):
        loaded = load_documents(f"a: {number}\n")
        assert load_documents(dump_documents(loaded)) == loaded


@pytest.mark.parametrize(
    ("text", "words"),
    [("a: !!int abc\n", "'abc' is not an integer"), ("a: !!int ''\n", "'' is not an integer"),
     ("a: !!float abc\n", "'abc' is not a number"), ("a: !!bool maybe\n", "'maybe' is not true or false")],
)
def test_explicit_tags_with_unreadable_values_are_errors_at_their_position(text, words):
    error = errors_of(text)
    assert words in str(error) and (error.line, error.column) == (1, 4)


def billion_laughs(levels=9, width=9):
    lines = ["lol0: &lol0 lol"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*lol{level - 1}"] * width)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_rejected_quickly_in_bounded_memory():
    text = billion_laughs()  # 9**9 = 387 million strings once expanded
    tracemalloc.start()
    try:
        error = errors_of(text)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too many YAML nodes" in str(error)
    assert error.line is not None
    assert peak < 5_000_000  # bytes; the input is a few hundred bytes and nothing is expanded


def test_a_small_alias_tree_is_fine():
    docs = load_documents(billion_laughs(levels=3, width=3))
    assert docs[0]["lol3"][2][2] == ["lol", "lol", "lol"]


def test_too_many_aliases():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    assert f"too many aliases (more than {MAX_ALIASES:,})" in str(errors_of(text))


def test_too_many_nodes_without_aliases():
    text = "a: [" + ",".join(["1"] * MAX_NODES) + "]\n"
    assert "too many YAML nodes" in str(errors_of(text))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,  # libyaml's own composer would overflow the C stack on this
        "{a: " * 100_000,
        "".join(" " * level + "a:\n" for level in range(MAX_DEPTH + 5)),
        "- " * (MAX_DEPTH + 5) + "x\n",
    ],
)
def test_deep_nesting_is_rejected(text):
    error = errors_of(text)
    assert f"nested too deeply (more than {MAX_DEPTH} levels)" in str(error)
    assert error.line is not None


def test_nesting_up_to_the_limit_loads():
    text = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    value = load_documents(text)[0]["a"]
    depth = 1
    while value:
        value = value[0]
        depth += 1
    assert depth == MAX_DEPTH - 1


# --------------------------------------------------------------------------- dumping


def test_round_trip_of_manifests():
    text = dump_documents([POD, SERVICE])
    assert load_documents(text) == [POD, SERVICE]


def test_documents_are_separated_and_keys_keep_their_order():
    text = dump_documents([{"kind": "Pod", "apiVersion": "v1"}, {"b": 1, "a": 2}])
    assert text == "kind: Pod\napiVersion: v1\n---\nb: 1\na: 2\n"


def test_block_style_and_no_line_folding():
    long_arg = "--flag=" + "x" * 200
    text = dump_documents([{"spec": {"args": [long_arg], "labels": {}}}])
    assert text == f"spec:\n  args:\n  - {long_arg}\n  labels: {{}}\n"


def test_multi_line_strings_are_literal_blocks():
    text = dump_documents([POD])
    assert "    - -c\n    - |\n      set -e\n      echo preparing\n      touch /work/ready\n" in text


@pytest.mark.parametrize(
    "value",
    ["one\ntwo", "one\ntwo\n", "one\ntwo\n\n", "  indented\nnext\n", "\nleading newline", "ünï\ncödé\n"],
)
def test_literal_blocks_keep_every_character(value):
    text = dump_documents([{"script": value}])
    assert text.startswith("script: |")
    assert load_documents(text) == [{"script": value}]


@pytest.mark.parametrize("value", ["trailing space \nx", "tab\there\nx", "crlf\r\nline\r\n"])
def test_strings_a_literal_block_cannot_hold_fall_back_to_quotes(value):
    text = dump_documents([{"s": value}])
    assert text.startswith('s: "')
    assert load_documents(text) == [{"s": value}]


def test_unicode_is_written_as_is():
    assert dump_documents([{"name": "café ☕"}]) == "name: café ☕\n"


def test_strings_that_look_like_other_types_are_quoted():
    doc = {"a": "yes", "b": "1.0", "c": "2024-01-01", "d": "null", "e": "=", "f": "<<", "g": "0x10", "h": ""}
    text = dump_documents([doc])
    assert load_documents(text) == [doc]
    assert "a: 'yes'" in text


def test_shared_objects_are_written_out_never_as_aliases():
    shared = {"cpu": "100m"}
    text = dump_documents([{"requests": shared, "limits": shared}])
    assert "&" not in text and "*" not in text
    assert text == "requests:\n  cpu: 100m\nlimits:\n  cpu: 100m\n"


def test_dumping_nothing():
    assert dump_documents([]) == ""


def test_dump_uses_the_safe_dumper():
    class Thing:
        pass

    with pytest.raises(yaml.representer.RepresenterError):
        dump_documents([{"x": Thing()}])


# --------------------------------------------------------------------------- properties

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=25,
)
json_documents = st.dictionaries(st.text(), json_values, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(json_documents, max_size=3))
def test_round_trip_of_json_like_documents(docs):
    assert load_documents(dump_documents(docs)) == docs


# --------------------------------------------------------------------------- one value (a field's)


@pytest.mark.parametrize("value", [
    {"limits": {"cpu": "100m", "memory": "64Mi"}}, [{"name": "logs", "mountPath": "/var/log"}], ["sh", "-c", "x"],
    "IfNotPresent", "null", "123", "", "two\nlines\n", True, 3, None,
])
def test_a_value_dumps_as_yaml_that_loads_back(value):
    text = dump_value(value)
    assert load_value(text) == value and "..." not in text


def test_empty_text_and_null_are_no_value():
    assert load_value("") is None and load_value("null\n") is None and load_value("# a comment\n") is None


@pytest.mark.parametrize("text, words", [
    ("limits: [x", "line"),
    ("a: 1\n---\nb: 2\n", "one value, not several documents"),
    ("!!binary aGk=", "not supported"),
    ("[" * (MAX_DEPTH + 5), "nested too deeply"),
])
def test_a_value_has_the_limits_of_a_manifest(text, words):
    with pytest.raises(YamlError, match=words):
        load_value(text)


@pytest.mark.parametrize("value", [
    {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
    {"name": "A", "value": "two\nlines"}, {"name": "A", "value": "  spaces around "}, {"name": "A", "value": "x: y, z"},
    {"name": "A", "value": "é"}, ["a", "b"], {"containerPort": 80, "hostPort": 8080}, "plain",
])
def test_dump_flow_is_one_line_that_reads_back(value):
    text = dump_flow(value)
    assert "\n" not in text and load_value(text) == value
