"""Schema validation of manifests against the Kubernetes OpenAPI schemas.

The JSON schemas come from the ``kubernetes-validate`` package (its "strict"
variants, so unknown fields are errors). Its own ``validate()`` re-reads and
re-parses the 1.8 MB ``_definitions.json`` and builds a new validator on every
call (~25 ms for a Pod), compares versions as strings, and stops at the first error.

Here every schema file is parsed once per process and one validator is built per
(version, kind) and reused. Even a reused ``jsonschema`` validator needs ~8-11 ms for
a Pod with ten containers (a validator object and a $ref lookup per node), too slow
for a preview on every keystroke, so the schemas are compiled into plain closures
(``_Compiler`` in schema_compiler.py, ~0.06 ms for the same Pod). The Kubernetes schemas use only eight
keywords; a schema with any other keyword falls back to ``jsonschema``, and the
tests check that both report the same errors.

``format`` is an annotation in JSON Schema, with two exceptions here: ``int32`` and ``int64``
(the Kubernetes schemas put them on integer fields) are checked, in both implementations, so
that ``replicas: 99999999999999999999`` is a problem at its field rather than a surprise at
the API server (which cannot even decode it).

Pure Python: no Django, no Kubernetes client.
"""

from __future__ import annotations

import json
import re
import threading
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

from composer.domain.problems import Problem, Severity
from composer.domain.schema_compiler import (
    _JSON_TYPES,
    INTEGER_FORMATS,
    _CompiledValidator,
    _Compiler,
    _Unsupported,
    in_format_range,
)

__all__ = [
    "container_fields", "format_path", "latest_version", "resolve_version", "supported_versions", "validate_manifests",
]

_SCHEMA_PACKAGE = "kubernetes_validate"
_SCHEMA_ROOT = "kubernetes-json-schema"
_DIR_PATTERN = re.compile(r"^v(\d+)\.(\d+)\.(\d+)-local-strict$")
_VERSION_PATTERN = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?\s*$")


# --------------------------------------------------------------------------- versions


def _schema_root():
    return resources.files(_SCHEMA_PACKAGE).joinpath(_SCHEMA_ROOT)


@cache
def _shipped() -> tuple[tuple[tuple[int, int], str], ...]:
    """((major, minor), directory name) for every strict schema set, oldest first."""
    found = []
    for entry in _schema_root().iterdir():
        match = _DIR_PATTERN.match(entry.name)
        if match:
            found.append(((int(match[1]), int(match[2])), entry.name))
    if not found:  # pragma: no cover - a broken kubernetes-validate install
        raise RuntimeError("kubernetes-validate ships no strict schemas")
    return tuple(sorted(found))


def supported_versions() -> list[str]:
    """The Kubernetes versions there are schemas for, oldest first: ["1.25", …, "1.37"]."""
    return [f"{major}.{minor}" for (major, minor), _ in _shipped()]


def latest_version() -> str:
    """The newest Kubernetes version there are schemas for, e.g. "1.37"."""
    return supported_versions()[-1]


def _parse_version(version: str) -> tuple[int, int]:
    match = _VERSION_PATTERN.match(version) if isinstance(version, str) else None
    if not match:
        raise ValueError(f"not a Kubernetes version: {version!r} (expected e.g. '1.33' or 'v1.33.2')")
    return int(match[1]), int(match[2])


def resolve_version(version: str | None = None) -> str:
    """The shipped schema version used for ``version``: "1.33", "1.33.0", "v1.33.2+k3s1"
    → "1.33"; the newest shipped one not newer than it (the oldest shipped one when
    ``version`` predates them all); the newest one for ``None``.

    Raises ValueError for a string that is not a version.
    """
    (major, minor), _directory = _select(version)
    return f"{major}.{minor}"


def _select(version: str | None) -> tuple[tuple[int, int], str]:
    shipped = _shipped()
    if version is None:
        return shipped[-1]
    wanted = _parse_version(version)
    candidates = [item for item in shipped if item[0] <= wanted]
    return candidates[-1] if candidates else shipped[0]


# --------------------------------------------------------------------------- schemas


@cache
def _load_json(directory: str, filename: str) -> Any | None:
    """A schema file, parsed once per process; None when it does not exist."""
    ref = _schema_root().joinpath(directory).joinpath(filename)
    try:
        text = ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return json.loads(text)


@cache
def container_fields(version: str | None = None) -> frozenset[str]:
    """The fields of a Kubernetes Container (io.k8s.api.core.v1.Container) at ``version`` (see
    resolve_version; the newest shipped one for None)."""
    _version, directory = _select(version)
    definitions = _load_json(directory, "_definitions.json")
    return frozenset(definitions["$defs"]["io.k8s.api.core.v1.Container"]["properties"])


@cache
def volume_sources(version: str | None = None) -> frozenset[str]:
    """The kinds of volume source (emptyDir, configMap, projected …): the fields of a Kubernetes Volume
    (io.k8s.api.core.v1.Volume) but its name."""
    _version, directory = _select(version)
    definitions = _load_json(directory, "_definitions.json")
    return frozenset(definitions["$defs"]["io.k8s.api.core.v1.Volume"]["properties"]) - {"name"}


@cache
def _registry(directory: str) -> Registry:
    """The shared definitions of one schema version, registered under their $id."""
    definitions = _load_json(directory, "_definitions.json")
    if definitions is None:  # pragma: no cover - a broken kubernetes-validate install
        raise RuntimeError(f"kubernetes-validate has no _definitions.json in {directory}")
    return Resource.from_contents(definitions) @ Registry()


@cache
def _schema_files(directory: str) -> frozenset[str]:
    return frozenset(entry.name for entry in _schema_root().joinpath(directory).iterdir())


def _schema_filename(api_version: str, kind: str) -> str:
    # As kubernetes-validate names them: rbac.authorization.k8s.io/v1 -> rbac-v1,
    # apps/v1 -> apps-v1, v1 -> v1.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
for _name in INTEGER_FORMATS:
    _FORMAT_CHECKER.checks(_name)(lambda instance, _name=_name: in_format_range(_name, instance))

# The check functions: check(instance, path, errors) appends _SchemaError's.


@cache
def _compiler(directory: str) -> _Compiler:
    definitions = _load_json(directory, "_definitions.json")
    return _Compiler({definitions["$id"]: definitions})


@cache
def _jsonschema_validator(directory: str, filename: str) -> jsonschema.protocols.Validator | None:
    """The reference implementation (kubernetes-validate's way), built once."""
    schema = _load_json(directory, filename)
    if schema is None:
        return None
    return jsonschema.Draft202012Validator(schema, registry=_registry(directory), format_checker=_FORMAT_CHECKER)


_compile_lock = threading.Lock()


@cache
def _validator(directory: str, filename: str):
    """One validator per (version, kind), compiled when it can be; None for no schema."""
    schema = _load_json(directory, filename)
    if schema is None:
        return None
    with _compile_lock:  # compiled checks are shared between kinds; build them one at a time
        compiler = _compiler(directory)
        schema_id = schema.get("$id", "")
        compiler.add_document(schema_id, schema)
        try:
            return _CompiledValidator(compiler.compile(schema, schema_id))
        except _Unsupported:
            return _jsonschema_validator(directory, filename)


# --------------------------------------------------------------------------- validation


def validate_manifests(manifests: list[dict], kubernetes_version: str | None = None) -> list[Problem]:
    """Schema problems of every manifest, for ``kubernetes_version`` (default: newest).

    Errors are ``Problem(ERROR, "schema", message, "Pod/web: spec.containers[0].image")``;
    a kind without a schema (e.g. a custom resource) is a ``"schema-unknown-kind"``
    warning; a version outside the shipped range adds one ``"schema-version"`` info.
    Raises ValueError when ``kubernetes_version`` is not a version string.
    """
    (major, minor), directory = _select(kubernetes_version)
    problems: list[Problem] = []
    if kubernetes_version is not None:
        wanted = _parse_version(kubernetes_version)
        if wanted != (major, minor):
            problems.append(
                Problem(
                    Severity.INFO,
                    "schema-version",
                    f"No schemas for Kubernetes {wanted[0]}.{wanted[1]}; validated against {major}.{minor}.",
                )
            )

    for index, manifest in enumerate(manifests):
        problems.extend(_validate_one(manifest, index, directory))
    return problems


def _validate_one(manifest: Any, index: int, directory: str) -> list[Problem]:
    if not isinstance(manifest, dict):
        return [Problem(Severity.ERROR, "schema", "A manifest must be a mapping.", f"manifest {index + 1}")]
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    where = _where(manifest, index)
    missing = [name for name, value in (("apiVersion", api_version), ("kind", kind)) if not value]
    if missing:
        return [
            Problem(Severity.ERROR, "schema", f'missing required field "{name}"', f"{where}: {name}")
            for name in missing
        ]
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return [Problem(Severity.ERROR, "schema", "apiVersion and kind must be strings", where)]

    filename = _schema_filename(api_version, kind)
    # Only names kubernetes-validate ships: kind and apiVersion come from users.
    validator = _validator(directory, filename) if filename in _schema_files(directory) else None
    if validator is None:
        return [
            Problem(
                Severity.WARNING,
                "schema-unknown-kind",
                f"No schema for {kind} ({api_version}): it was not checked.",
                where,
            )
        ]
    problems: dict[Problem, None] = {}  # ordered, without repeats
    for error in sorted(validator.iter_errors(manifest), key=lambda e: _path_key(e.absolute_path)):
        problems.update(dict.fromkeys(_problems_from_error(error, where)))
    return list(problems)


def _where(manifest: dict, index: int) -> str:
    kind = manifest.get("kind") if isinstance(manifest.get("kind"), str) else None
    metadata = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    name = metadata.get("name") or metadata.get("generateName")
    if kind and isinstance(name, str) and name:
        return f"{kind}/{name}"
    return kind or f"manifest {index + 1}"


def _path_key(path) -> tuple:
    return tuple((0, item, "") if isinstance(item, int) else (1, 0, str(item)) for item in path)


def format_path(path) -> str:
    """["spec", "containers", 0, "ports"] -> "spec.containers[0].ports"."""
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


def _located(where: str, path) -> str:
    formatted = format_path(path)
    return f"{where}: {formatted}" if formatted else where


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    return "got null" if value is None else f"got {_json_type(value)} {_short(value)}"


def _problems_from_error(error: jsonschema.ValidationError, where: str) -> list[Problem]:
    path = list(error.absolute_path)
    keyword = error.validator
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = [key for key in error.instance if key not in known]
        if unknown:
            return [
                Problem(Severity.ERROR, "schema", f'unknown field "{key}"', _located(where, [*path, key]))
                for key in unknown
            ]
    if keyword == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return [
                Problem(
                    Severity.ERROR,
                    "schema",
                    f'missing required field "{name}"',
                    _located(where, [*path, name]),
                )
                for name in missing
            ]
    if keyword == "type":
        expected = error.validator_value
        expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        expected = [name for name in expected if name != "null"] or expected
        message = f"expected {' or '.join(expected)}, {_got(error.instance)}"
        return [Problem(Severity.ERROR, "schema", message, _located(where, path))]
    if keyword == "enum":
        choices = ", ".join(_short(choice) for choice in error.validator_value)
        message = f"unsupported value {_short(error.instance)}: must be one of {choices}"
        return [Problem(Severity.ERROR, "schema", message, _located(where, path))]
    if keyword == "format" and error.validator_value in INTEGER_FORMATS:
        low, high = INTEGER_FORMATS[error.validator_value]
        message = f"out of range for an {error.validator_value} field: from {low:,} to {high:,}, {_got(error.instance)}"
        return [Problem(Severity.ERROR, "schema", message, _located(where, path))]
    if keyword in ("oneOf", "anyOf"):
        # IntOrString and Quantity: say which types would do.
        types = []
        for sub in error.validator_value:
            sub_types = sub.get("type") if isinstance(sub, dict) else None
            for name in sub_types if isinstance(sub_types, list) else [sub_types]:
                if name and name != "null" and name not in types:
                    types.append(name)
        if types and len(types) == len(error.validator_value):
            message = f"expected {' or '.join(types)}, {_got(error.instance)}"
            return [Problem(Severity.ERROR, "schema", message, _located(where, path))]
    return [Problem(Severity.ERROR, "schema", error.message, _located(where, path))]
