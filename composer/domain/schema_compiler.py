"""The compiler behind composer/domain/schema.py: the Kubernetes JSON schemas turned into plain closures.

A reused ``jsonschema`` validator walks every node through a validator object and a $ref lookup
(1.6 ms for a 10-container Pod here, 8-11 ms on the test suite's larger Pods); the closures
compiled here check the same Pod in ~0.06 ms (docs/performance.md, "Schema validators side by
side"). The Kubernetes schemas use only eight keywords; any other raises ``_Unsupported`` and
schema.py falls back to ``jsonschema``; the tests check that both report the same errors.

Pure Python: no Django, no Kubernetes client.
"""

from __future__ import annotations

import numbers
from typing import Any
from urllib.parse import urljoin

_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


class _SchemaError:
    """One violation, shaped like the jsonschema.ValidationError attributes we read."""

    __slots__ = ("validator", "validator_value", "instance", "schema", "absolute_path", "message")

    def __init__(self, keyword, value, instance, schema, path, message):
        self.validator = keyword
        self.validator_value = value
        self.instance = instance
        self.schema = schema
        self.absolute_path = path
        self.message = message


class _Unsupported(Exception):
    """A schema uses a keyword the compiler does not know: use jsonschema for it."""


# Keywords that only annotate (format is an annotation in draft 2020-12 unless a
# format checker is asked for, and kubernetes-validate asks for none; the integer formats
# below are the exception).
_ANNOTATIONS = frozenset(
    {
        "description",
        "format",
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)


# Integer formats the Kubernetes schemas use, with their ranges.
INTEGER_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def in_format_range(format_name: str, instance: Any) -> bool:
    """Whether a number fits the integer format (anything that is not a number does: `type` says)."""
    low, high = INTEGER_FORMATS[format_name]
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return True
    if isinstance(instance, float) and not instance.is_integer():
        return True  # not an integer at all: the type check reports it
    return low <= instance <= high


def _accept(instance, path, errors) -> None:
    return None


class _Compiler:
    """Turns the subset of JSON Schema the Kubernetes schemas use into closures.

    The strict Kubernetes schemas use only type, enum, $ref, properties,
    additionalProperties, required, items and oneOf (plus annotations). Compiled
    checks produce the same errors as ``jsonschema.Draft202012Validator`` (the
    tests compare both), an order of magnitude faster: no per-node validator
    objects and no $ref lookups at validation time. Any other keyword raises
    _Unsupported and that kind is validated by jsonschema instead.
    """

    def __init__(self, documents: dict[str, Any]):
        self._documents = documents  # $id -> schema document
        self._refs: dict[str, Any] = {}  # absolute ref -> check

    def add_document(self, uri: str, document: Any) -> None:
        self._documents.setdefault(uri, document)

    def compile(self, schema: Any, base: str):
        if schema is True:
            return _accept
        if schema is False:

            def reject(instance, path, errors):
                errors.append(
                    _SchemaError(
                        "false", False, instance, schema, path, f"False schema does not allow {instance!r}"
                    )
                )

            return reject
        if not isinstance(schema, dict):
            raise _Unsupported(f"schema of type {type(schema).__name__}")
        base = schema.get("$id", base)
        checks = []
        for keyword, value in schema.items():
            if keyword == "format" and value in INTEGER_FORMATS:
                checks.append(self._integer_format(value, schema))
                continue
            if keyword in _ANNOTATIONS or keyword.startswith("x-"):
                continue
            if keyword == "type":
                checks.append(self._type(value, schema))
            elif keyword == "enum":
                checks.append(self._enum(value, schema))
            elif keyword == "$ref":
                checks.append(self._ref(urljoin(base, value)))
            elif keyword == "properties" or keyword == "additionalProperties":
                if keyword == "additionalProperties" and "properties" in schema:
                    continue  # compiled together with properties
                checks.append(self._object(schema, base))
            elif keyword == "required":
                checks.append(self._required(value, schema))
            elif keyword == "items":
                checks.append(self._items(value, base))
            elif keyword == "oneOf":
                checks.append(self._one_of(value, schema, base))
            else:
                raise _Unsupported(keyword)
        if not checks:
            return _accept
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks

            def both(instance, path, errors):
                first(instance, path, errors)
                second(instance, path, errors)

            return both
        checks = tuple(checks)

        def all_of(instance, path, errors):
            for check in checks:
                check(instance, path, errors)

        return all_of

    def _ref(self, uri: str):
        check = self._refs.get(uri)
        if check is not None:
            return check
        document_uri, _, pointer = uri.partition("#")
        target = self._documents.get(document_uri)
        if target is None:
            raise _Unsupported(f"$ref to {uri}")
        for part in pointer.split("/")[1:] if pointer else []:
            part = part.replace("~1", "/").replace("~0", "~")
            target = target[int(part)] if isinstance(target, list) else target[part]
        cell: list[Any] = []

        def indirect(instance, path, errors):  # until compiled; lets recursive refs work
            cell[0](instance, path, errors)

        self._refs[uri] = indirect
        try:
            compiled = self.compile(target, document_uri)
        except _Unsupported:
            del self._refs[uri]  # never leave a check behind that cannot run
            raise
        cell.append(compiled)
        self._refs[uri] = compiled
        return compiled

    @staticmethod
    def _type(names, schema):
        names = [names] if isinstance(names, str) else list(names)
        exact = set()
        for name in names:
            if name not in _TYPE_CLASSES:
                raise _Unsupported(f"type {name!r}")
            exact.update(_TYPE_CLASSES[name])
        integer = "integer" in names and "number" not in names
        exact = frozenset(exact)

        def check_type(instance, path, errors):
            cls = instance.__class__
            if cls in exact:
                return
            if cls is float and integer and instance.is_integer():
                return
            if cls not in _JSON_TYPES and _is_type_slow(instance, names):
                return
            errors.append(
                _SchemaError(
                    "type",
                    schema["type"],
                    instance,
                    schema,
                    path,
                    f"{instance!r} is not of type {', '.join(map(repr, names))}",
                )
            )

        return check_type

    @staticmethod
    def _integer_format(format_name, schema):
        def check_format(instance, path, errors):
            if not in_format_range(format_name, instance):
                errors.append(
                    _SchemaError(
                        "format", format_name, instance, schema, path, f"{instance!r} is not a {format_name!r}"
                    )
                )

        return check_format

    @staticmethod
    def _enum(values, schema):
        if not all(isinstance(value, str) for value in values):
            raise _Unsupported("enum of non-strings")
        allowed = frozenset(values)

        def check_enum(instance, path, errors):
            if isinstance(instance, str) and instance in allowed:
                return
            errors.append(
                _SchemaError("enum", values, instance, schema, path, f"{instance!r} is not one of {values!r}")
            )

        return check_enum

    def _object(self, schema, base):
        properties = {key: self.compile(sub, base) for key, sub in schema.get("properties", {}).items()}
        additional = schema.get("additionalProperties", True)
        closed = additional is False
        extra = None if additional is True or closed else self.compile(additional, base)

        def check_object(instance, path, errors):
            if not isinstance(instance, dict):
                return
            unexpected = None
            for key, value in instance.items():
                check = properties.get(key)
                if check is not None:
                    check(value, (*path, key), errors)
                elif closed:
                    if unexpected is None:
                        unexpected = []
                    unexpected.append(key)
                elif extra is not None:
                    extra(value, (*path, key), errors)
            if unexpected:
                listed = ", ".join(map(repr, unexpected))
                errors.append(
                    _SchemaError(
                        "additionalProperties",
                        False,
                        instance,
                        schema,
                        path,
                        f"Additional properties are not allowed ({listed} unexpected)",
                    )
                )

        return check_object

    @staticmethod
    def _required(names, schema):
        names = tuple(names)

        def check_required(instance, path, errors):
            if not isinstance(instance, dict):
                return
            for name in names:
                if name not in instance:
                    errors.append(
                        _SchemaError(
                            "required", names, instance, schema, path, f"{name!r} is a required property"
                        )
                    )

        return check_required

    def _items(self, items, base):
        if not isinstance(items, (dict, bool)):
            raise _Unsupported("items as a list")
        check_item = self.compile(items, base)

        def check_items(instance, path, errors):
            if not isinstance(instance, list):
                return
            for index, item in enumerate(instance):
                check_item(item, (*path, index), errors)

        return check_items

    def _one_of(self, subschemas, schema, base):
        checks = [self.compile(sub, base) for sub in subschemas]

        def check_one_of(instance, path, errors):
            valid = 0
            for check in checks:
                found: list = []
                check(instance, path, found)
                if not found:
                    valid += 1
            if valid == 1:
                return
            if valid == 0:
                message = f"{instance!r} is not valid under any of the given schemas"
            else:
                message = f"{instance!r} is valid under more than one of the given schemas"
            errors.append(_SchemaError("oneOf", subschemas, instance, schema, path, message))

        return check_one_of


_TYPE_CLASSES = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}


def _is_type_slow(instance, names) -> bool:
    """jsonschema's draft 2020-12 type checks, for subclasses of the JSON classes."""
    for name in names:
        if name == "object" and isinstance(instance, dict):
            return True
        if name == "array" and isinstance(instance, list):
            return True
        if name == "string" and isinstance(instance, str):
            return True
        if name == "boolean" and isinstance(instance, bool):
            return True
        if name == "null" and instance is None:
            return True
        if name in ("integer", "number") and not isinstance(instance, bool):
            if name == "number" and isinstance(instance, numbers.Number):
                return True
            if isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer()):
                return True
    return False


class _CompiledValidator:
    def __init__(self, check):
        self._check = check

    def iter_errors(self, instance) -> list[_SchemaError]:
        errors: list[_SchemaError] = []
        self._check(instance, (), errors)
        return errors
