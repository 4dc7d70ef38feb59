"""Bad input to the YAML import, and the security review's attacks (bench/security.py), measured:
rewrites the tables of docs/reliability.md.

Run as ``.venv/bin/python -m bench.reliability`` (a throw-away SQLite database; nothing else is
needed). Every case goes through the Django test client in this process, the way a request goes
through the real middleware and views: once timed, and once more under ``tracemalloc`` for the
peak of Python memory it allocated (libyaml's own C buffers are not traced).

The cases are defined here and asserted by ``tests/hardening/test_import_limits.py``: the status,
the message and that nothing was saved. Times and memory are only recorded, never asserted: the
machines that run the suite are shared and noisy.
"""

from __future__ import annotations

import html
import json
import os
import platform
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
COMMAND = ".venv/bin/python -m bench.reliability"

API, FORM, FILE = "api", "form", "file"
TRANSPORTS = (API, FORM, FILE)
TRANSPORT_TITLES = {
    API: "`POST /api/v1/compositions/import` (application/yaml)",
    FORM: "`POST /import`, field `yaml`",
    FILE: "`POST /import`, file `file`",
}

MIB = 1024 * 1024
MINIMAL_POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n"
               "    image: nginx:1.27\n")


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Expect:
    """What a transport must answer: a status, words of the message shown, and a known bug if any."""

    status: int
    message: str = ""
    bug: str = ""  # non-empty: the case fails today for this reason (the tests xfail strictly)

    @property
    def accepted(self) -> bool:
        return self.status in (201, 302)


@dataclass(frozen=True)
class ImportCase:
    id: str
    group: str
    input: str  # what is sent, for the table
    build: Callable[[], bytes]
    expect: dict[str, Expect]  # per transport; a transport not listed does not apply

    @property
    def body(self) -> bytes:
        return _built(self.id, self.build)


@cache
def _built(case_id: str, build: Callable[[], bytes]) -> bytes:
    return build()


def _text(text: str) -> Callable[[], bytes]:
    return lambda: text.encode("utf-8")


def refused(message: str, *, form_message: str | None = None, status: int = 400, bug: str = "",
            transports: tuple[str, ...] = TRANSPORTS) -> dict[str, Expect]:
    """Refused on every transport: the API answers ``status``, the form page 400, nothing saved."""
    expect = {API: Expect(status, message, bug)}
    for transport in (FORM, FILE):
        expect[transport] = Expect(400, form_message if form_message is not None else message, bug)
    return {name: value for name, value in expect.items() if name in transports}


def accepted(transports: tuple[str, ...] = TRANSPORTS) -> dict[str, Expect]:
    """Valid input: the API creates one composition (201), the form redirects to it (302)."""
    expect = {API: Expect(201), FORM: Expect(302), FILE: Expect(302)}
    return {name: value for name, value in expect.items() if name in transports}




def _pod_with_container(container: str) -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - {container}\n"


def _pod_named_container(name: str) -> Callable[[], bytes]:
    return _text(_pod_with_container(f"name: {json.dumps(name, ensure_ascii=False)}\n    image: nginx:1.27"))


def _billion_laughs() -> bytes:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        previous, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return ("\n".join(lines) + "\n").encode()


def _wide_alias() -> bytes:
    anchor = "base: &base [" + ", ".join(["x"] * 5000) + "]\n"
    return (anchor + "".join(f"k{i}: *base\n" for i in range(50))).encode()


def _many_aliases() -> bytes:
    return ("v: &v x\nl: [" + ", ".join(["*v"] * 10_001) + "]\n").encode()


def _deep_block(levels: int) -> bytes:
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(levels)).encode() + b"  " * levels + b"end\n"


def _containers(count: int) -> bytes:
    rows = "".join(f"  - name: c{i}\n    image: busybox:1.36\n" for i in range(count))
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n{rows}".encode()


def _config_maps(count: int) -> bytes:
    maps = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n  k: v\n"
                   for i in range(count - 1))
    return (MINIMAL_POD + maps).encode()


def _pods(count: int) -> bytes:
    return "".join(f"---\nkind: Pod\nmetadata: {{name: p{i}}}\nspec: {{containers: [{{name: a, image: b}}]}}\n"
                   for i in range(count)).encode()


def _padded(size: int) -> bytes:
    head = MINIMAL_POD + "  # "
    return (head + "x" * (size - len(head) - 1) + "\n").encode()


NO_WORKLOAD = "no workload found (a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob; found: "
CASES: tuple[ImportCase, ...] = (
    # -- malformed documents
    ImportCase("unclosed-flow", "malformed", "`name: [unclosed` then end of input",
               _text("kind: Pod\nmetadata:\n  name: [unclosed\n"), refused("line 4, column 1")),
    ImportCase("tab-indentation", "malformed", "a tab where YAML needs spaces",
               _text("kind: Pod\nmetadata:\n\tname: web\n"), refused("line 3, column 1")),
    ImportCase("bad-indentation", "malformed", "a key indented deeper than its siblings",
               _text("kind: Pod\nmetadata:\n  name: web\n    labels: {}\n"), refused("line 4")),
    ImportCase("empty", "malformed", "an empty body", _text(""),
               refused(NO_WORKLOAD + "nothing)", form_message="paste YAML or choose a file")),
    ImportCase("only-comments", "malformed", "comments and `---` only", _text("# nothing\n---\n# here\n---\n"),
               refused(NO_WORKLOAD + "nothing)")),
    ImportCase("scalar-document", "malformed", "a plain string", _text("just some text\n"),
               refused("document 1 is a scalar")),
    ImportCase("list-document", "malformed", "a YAML list of manifests", _text("- kind: Pod\n- kind: Service\n"),
               refused("document 1 is a list")),
    ImportCase("python-tag", "malformed", "`kind: !!python/object/apply:os.system [...]`",
               _text("kind: !!python/object/apply:os.system ['echo owned']\n"), refused("unknown YAML tag")),
    ImportCase("binary-tag", "malformed", "a `!!binary` value", _text("kind: Pod\ndata: !!binary aGVsbG8=\n"),
               refused("is not supported in Kubernetes manifests")),
    ImportCase("duplicate-key", "malformed", "`kind` twice in one mapping", _text("kind: Pod\nkind: Deployment\n"),
               refused("duplicate key 'kind'")),
    ImportCase("undefined-alias", "malformed", "`*nope` without an anchor", _text("kind: *nope\n"),
               refused("undefined alias")),
    # -- wrong kinds and shapes
    ImportCase("configmap-only", "kind", "a ConfigMap and nothing else",
               _text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"),
               refused(NO_WORKLOAD + "ConfigMap)")),
    ImportCase("secret-only", "kind", "a Secret and nothing else",
               _text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\n"),
               refused(NO_WORKLOAD + "Secret)")),
    ImportCase("job", "kind", "a Job without a Pod template",
               _text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n"), refused("Job 'j' has no containers")),
    ImportCase("no-kind", "kind", "a mapping without `kind`", _text("metadata: {name: x}\n"),
               refused(NO_WORKLOAD + "None)")),
    ImportCase("kind-number", "kind", "`kind: 42`", _text("kind: 42\nmetadata: {name: x}\n"),
               refused("kind")),
    ImportCase("kind-null", "kind", "`kind: null`", _text("kind: null\n"), refused("kind")),
    ImportCase("kind-list", "kind", "`kind: [Pod]`", _text("kind: [Pod]\n"), refused("kind")),
    ImportCase("list-items-number", "kind", "`kind: List` with `items: 5`", _text("kind: List\nitems: 5\n"),
               refused("items")),
    ImportCase("pod-without-name", "kind", "a Pod without `metadata.name`",
               _text("kind: Pod\nspec: {containers: [{name: a, image: b}]}\n"), refused("without metadata.name")),
    ImportCase("pod-without-containers", "kind", "a Pod with an empty spec",
               _text("kind: Pod\nmetadata: {name: x}\nspec: {}\n"), refused("has no containers")),
    ImportCase("spec-a-list", "kind", "`spec: [1]`", _text("kind: Pod\nmetadata: {name: x}\nspec: [1]\n"),
               refused("spec must be a mapping")),
    ImportCase("metadata-a-list", "kind", "`metadata: [a]`",
               _text("kind: Pod\nmetadata: [a]\nspec: {containers: [{name: a, image: b}]}\n"),
               refused("metadata")),
    ImportCase("template-a-list", "kind", "a Deployment with `template: [1]`",
               _text("kind: Deployment\nmetadata: {name: x}\nspec: {template: [1]}\n"),
               refused("template")),
    ImportCase("labels-a-list", "kind", "`labels: [a]`",
               _text("kind: Pod\nmetadata: {name: x, labels: [a]}\nspec: {containers: [{name: a, image: b}]}\n"),
               refused("labels")),
    ImportCase("command-a-number", "kind", "`command: 5` on the app container",
               _text(_pod_with_container("{name: a, image: b, command: 5}")), refused("command")),
    ImportCase("init-containers-a-string", "kind", "`initContainers: abc`",
               _text("kind: Pod\nmetadata: {name: x}\n"
                     "spec: {initContainers: abc, containers: [{name: a, image: b}]}\n"),
               refused("initContainers")),
    ImportCase("container-name-a-list", "kind", "a sidecar named `[5]`",
               _text("kind: Pod\nmetadata: {name: x}\n"
                     "spec: {containers: [{name: a, image: b}, {name: [5], image: c}]}\n"),
               refused("name")),
    ImportCase("service-spec-a-list", "kind", "a Service with `spec: [1]`",
               _text(MINIMAL_POD + "---\nkind: Service\nmetadata: {name: s}\nspec: [1]\n"),
               refused("spec")),
    ImportCase("configmap-metadata-a-string", "kind", "a ConfigMap with `metadata: abc`",
               _text(MINIMAL_POD + "---\nkind: ConfigMap\nmetadata: abc\n"), refused("metadata")),
    ImportCase("invalid-names", "kind", "a Pod named `Web_App`",
               _text("kind: Pod\nmetadata: {name: Web_App}\nspec: {containers: [{name: a, image: b}]}\n"),
               refused("workload.name")),
    # -- size
    ImportCase("just-over-1-mib", "size", "1 MiB + 1 byte of valid YAML", lambda: _padded(MIB + 1),
               refused("too large", form_message="the limit is 1,048,576 bytes")),
    ImportCase("3-mib", "size", "3 MiB of valid YAML", lambda: _padded(3 * MIB),
               {API: Expect(413, "too large"),
                FORM: Expect(400, "too large"),
                FILE: Expect(400, "the limit is 1,048,576 bytes")}),
    # -- alias bombs
    ImportCase("billion-laughs", "aliases", "9 levels of 10 aliases (10⁹ nodes expanded)", _billion_laughs,
               refused("too many YAML nodes")),
    ImportCase("wide-alias", "aliases", "a 5,000-item list referenced 50 times", _wide_alias,
               refused("too many YAML nodes")),
    ImportCase("many-aliases", "aliases", "10,001 references to one scalar", _many_aliases,
               refused("too many aliases")),
    ImportCase("recursive-alias", "aliases", "`a: &a [*a]`", _text("a: &a [*a]\n"),
               refused("refers to a node that contains it")),
    # -- nesting
    ImportCase("deep-flow-lists", "nesting", "`[` × 100,000", lambda: b"[" * 100_000,
               refused("nested too deeply")),
    ImportCase("deep-flow-mappings", "nesting", "`{a: ` × 10,000", lambda: b"{a: " * 10_000,
               refused("nested too deeply")),
    ImportCase("deep-block", "nesting", "100 levels of block mappings", lambda: _deep_block(100),
               refused("nested too deeply")),
    # -- unicode
    ImportCase("bom", "unicode", "a UTF-8 byte order mark before a valid Pod",
               lambda: b"\xef\xbb\xbf" + MINIMAL_POD.encode(), accepted()),
    ImportCase("nul", "unicode", "a NUL character", _text("kind: Pod\x00\n"), refused("#x0000")),
    ImportCase("escape-character", "unicode", "an ESC (ANSI colour) character", _text("kind: \x1b[31mPod\n"),
               refused("#x001B")),
    ImportCase("surrogate-escape", "unicode", 'a lone surrogate escape `"\\ud800"`',
               _text('kind: Pod\nmetadata: {name: web}\nx: "\\ud800"\n'),
               refused("invalid Unicode character escape code")),
    ImportCase("surrogate-bytes", "unicode", "a surrogate encoded as UTF-8 bytes (`ED A0 80`)",
               lambda: b"kind: Pod\nx: \xed\xa0\x80\n",
               {API: Expect(400, "not UTF-8"), FILE: Expect(400, "not UTF-8")}),
    ImportCase("latin-1", "unicode", "Latin-1 text (`café` as `E9`)", lambda: b"kind: Pod\nx: caf\xe9\n",
               {API: Expect(400, "not UTF-8"), FILE: Expect(400, "not UTF-8")}),
    ImportCase("utf-16", "unicode", "a Pod encoded as UTF-16", lambda: MINIMAL_POD.encode("utf-16"),
               {API: Expect(400, "not UTF-8"), FILE: Expect(400, "not UTF-8")}),
    ImportCase("rtl-override-name", "unicode", "a container named `\\u202eppa` (right-to-left override)",
               _pod_named_container("\u202eppa"), refused("app.name")),
    ImportCase("nfc-name", "unicode", "a container named `café` (NFC)", _pod_named_container("caf\u00e9"),
               refused("app.name")),
    ImportCase("nfd-name", "unicode", "a container named `café` (NFD: `e` + combining accent)",
               _pod_named_container("cafe\u0301"), refused("app.name")),
    ImportCase("emoji-name", "unicode", "a container named `🚀`", _pod_named_container("🚀"), refused("app.name")),
    ImportCase("zero-width-name", "unicode", "a container named `a\\u200bpp` (zero-width space)",
               _pod_named_container("a\u200bpp"), refused("app.name")),
    ImportCase("unicode-values", "unicode", "emoji, RTL marks and NFD text in env values and annotations",
               _text("kind: Pod\nmetadata:\n  name: web\n  annotations: {note: \"\u05e9\u05dc\u05d5\u05dd \u200f🚀\"}\n"
                     "spec:\n  containers:\n  - name: app\n    image: nginx:1.27\n    env:\n"
                     "    - {name: GREETING, value: \"\u202eolleh cafe\u0301 🚀\"}\n"),
               accepted()),
    # -- counts
    ImportCase("5000-containers", "count", "one Pod with 5,000 containers (169 KB)", lambda: _containers(5000),
               refused("too many", transports=(API,))),
    ImportCase("10000-documents", "count", "a Pod and 9,999 ConfigMaps (600 KB)", lambda: _config_maps(10_000),
               refused("too many", transports=(API,))),
    ImportCase("10000-pods", "count", "10,000 Pods (720 KB)", lambda: _pods(10_000),
               refused("too many", transports=(API,))),
    ImportCase("100000-empty-documents", "count", "`---` × 100,000", lambda: b"---\n" * 100_000,
               refused(NO_WORKLOAD + "nothing)", transports=(API,))),
)

CASES_BY_ID = {case.id: case for case in CASES}


def case_params(transports: tuple[str, ...] = TRANSPORTS) -> list[tuple[ImportCase, str]]:
    """(case, transport) for every transport a case applies to."""
    return [(case, transport) for case in CASES for transport in transports if transport in case.expect]


# --------------------------------------------------------------------------- running


@dataclass
class Seen:
    status: int
    message: str
    saved: int  # compositions stored by the request
    revisions: int  # revisions stored by the request
    seconds: float = 0.0
    peak_bytes: int = 0
    error: str = ""  # an exception that escaped the view (the test client re-raises it)
    content: str = field(default="", repr=False)  # the response body, for further checks


_ALERT = re.compile(r'<div class="alert alert-error" role="alert" id="import-error">(.*?)</div>', re.S)
_HEADING = re.compile(r"<h1>(.*?)</h1>", re.S)  # Django's own error pages
_TAGS = re.compile(r"<[^>]+>")


def page_text(markup: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", markup)).split())


def message_of(response, transport: str) -> str:
    """The error message a person (or a script) gets: the API's JSON `error`, the import page's alert."""
    content = response.content.decode("utf-8", "replace")
    if response.status_code in (201, 302):
        return ""
    if response.status_code >= 500:
        return "(Django's server error page)"
    if transport == API and response.get("Content-Type", "").startswith("application/json"):
        return str(json.loads(content).get("error", ""))
    alert = _ALERT.search(content) or _HEADING.search(content)
    text = page_text(alert.group(1) if alert else content)
    return text.removeprefix("Nothing was imported. ")


def send(client, case: ImportCase, transport: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = case.body
    if transport == API:
        # CONTENT_TYPE too: the test client leaves the header out of a request with an empty body.
        return client.post("/api/v1/compositions/import", data=body, content_type="application/yaml",
                           CONTENT_TYPE="application/yaml")
    if transport == FORM:
        return client.post("/import", {"yaml": body.decode("utf-8")})
    return client.post("/import", {"file": SimpleUploadedFile("pod.yaml", body, "application/yaml")})


def counts() -> tuple[int, int]:
    from composer.models import Revision, SavedComposition

    return SavedComposition.objects.count(), Revision.objects.count()


def run(client, case: ImportCase, transport: str) -> Seen:
    """Send one case; the status, the message shown and what the request stored."""
    compositions, revisions = counts()
    response = send(client, case, transport)
    after_compositions, after_revisions = counts()
    return Seen(response.status_code, message_of(response, transport), after_compositions - compositions,
                after_revisions - revisions, content=response.content.decode("utf-8", "replace"))


def measure(client, case: ImportCase, transport: str) -> Seen:
    """`run`, timed; then again under tracemalloc for the peak of Python memory (bench only)."""
    try:
        start = time.perf_counter()
        seen = run(client, case, transport)
        seen.seconds = time.perf_counter() - start
        tracemalloc.start()
        try:
            run(client, case, transport)
            seen.peak_bytes = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    except Exception as error:  # noqa: BLE001 - a crash is a result to record, not a reason to stop
        return Seen(500, "", 0, 0, error=f"{type(error).__name__}: {str(error)[:120]}")
    return seen


# --------------------------------------------------------------------------- the document


def verdict(expect: Expect, seen: Seen) -> str:
    if seen.error:
        return "❌ crash"
    ok = seen.status == expect.status and expect.message in seen.message and (
        (seen.saved == 1) if expect.accepted else (seen.saved == 0 and seen.revisions == 0))
    return "✅" if ok else "❌"


def _cell(text: str, limit: int = 110) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(expect: Expect) -> str:
    if expect.accepted:
        return f"{expect.status}, one composition saved"
    return f"{expect.status} “…{expect.message}…”, nothing saved"


def _seen(seen: Seen) -> str:
    if seen.error:
        return f"exception: {seen.error}"
    stored = f"; saved {seen.saved}" if seen.saved else ""
    return f"{seen.status} {seen.message}{stored}" if seen.message else f"{seen.status}{stored}"


def table(client, transport: str) -> tuple[list[str], list[str]]:
    rows = ["| case | input | expected | seen | ok | time ms | peak MiB |", "|---|---|---|---|---|---|---|"]
    failures = []
    for case, _ in case_params((transport,)):
        expect = case.expect[transport]
        seen = measure(client, case, transport)
        mark = verdict(expect, seen)
        if mark != "✅":
            failures.append(f"{case.id} ({transport}): {expect.bug or 'unexpected'}")
        rows.append(
            f"| `{case.id}` | {_cell(case.input, 70)} | {_cell(_expected(expect), 90)} | {_cell(_seen(seen))} | "
            f"{mark} | {seen.seconds * 1000:,.1f} | {seen.peak_bytes / MIB:,.2f} |"
        )
        print(f"{transport:4} {case.id:28} {seen.status} {seen.seconds * 1000:8.1f} ms {mark}", file=sys.stderr)
    return rows, failures


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podstudio.settings")
    os.environ["PODSTUDIO_SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "reliability.sqlite3")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.DEBUG = False  # as under pytest: error pages as in production, not Django's debug pages


def replace_section(text: str, marker: str, body: str) -> str:
    """Replace what lies between `<!-- marker:start -->` and `<!-- marker:end -->`."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC} has no {start} … {end} section to rewrite")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def main() -> None:
    _setup_django()
    import logging

    from django.test import Client

    logging.disable(logging.CRITICAL)  # the 400s and 500s are the point; keep the output readable
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    for transport in TRANSPORTS:  # warm up: the first request pays for imports and schema loading
        run(client, CASES_BY_ID["bom"], transport)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections, all_failures = [], []
    for transport in TRANSPORTS:
        rows, failures = table(client, transport)
        all_failures += failures
        sections.append(f"#### {TRANSPORT_TITLES[transport]}\n\n" + "\n".join(rows))
    header = (f"Measured by `{COMMAND}` on {started}: {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, {platform.machine()}. ❌ marks a known bug (see Findings).")
    text = replace_section(DOC.read_text(), "import-table", header + "\n\n" + "\n\n".join(sections))
    from bench import security
    from tests.support.controlplane import ControlPlane

    with tempfile.TemporaryDirectory(prefix="podstudio-reliability-") as state, ControlPlane(Path(state) / "cp") as cp:
        rows, failures = security.table(cp)
    all_failures += failures
    access_header = (f"Measured by `{COMMAND}` on {started}, in team mode against the real local control plane "
                     "(kube-apiserver 1.37, through the fault proxy, which counts the requests; a fresh namespace "
                     "per case): every refusal must reach the cluster with no request at all.")
    text = replace_section(text, "security-table", access_header + "\n\n" + "\n".join(rows))
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}; {len(all_failures)} case(s) not as expected:", file=sys.stderr)
    for failure in all_failures:
        print(f"  {failure}", file=sys.stderr)


if __name__ == "__main__":
    main()
