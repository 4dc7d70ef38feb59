"""The recognition report on tests/corpus for docs/patterns.md: what each helper container imports as.

`python -m tests.support.recognition_report` rewrites the section; tests/unit/test_corpus_recognition.py
fails when the page and the corpus disagree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from composer.domain.importer import ManifestImportError, import_manifests
from composer.domain.kinds import WORKLOAD_KINDS
from composer.domain.podspecs import pod_specs
from composer.domain.recognition import Found, candidates, known_image
from composer.domain.yamlio import load_documents

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "tests" / "corpus"
PAGE = ROOT / "docs" / "patterns.md"
START, END = "<!-- corpus-recognition:start -->", "<!-- corpus-recognition:end -->"
def _rows() -> list[tuple[str, str, str, str]]:
    """(file, container, imported as, why) for every helper container of every workload in the corpus."""
    rows = []
    for path in sorted(CORPUS.glob("*.yaml")):
        documents = load_documents(path.read_text())
        companions = [d for d in documents if d.get("kind") in ("ConfigMap", "Service")]
        for document in (d for d in documents if d.get("kind") in WORKLOAD_KINDS):
            [(_, spec)] = pod_specs(document)
            try:
                helpers = import_manifests([document, *companions]).composition.helpers
            except ManifestImportError:
                helpers = None
            containers = [(c, True) for c in spec.get("initContainers") or []]
            containers += [(c, False) for c in spec["containers"][1:]]
            config_maps = {d["metadata"]["name"]: d for d in companions if d.get("kind") == "ConfigMap"}
            for container, in_init in containers:
                found = Found.in_pod(container, in_init, spec, config_maps, document["metadata"]["name"])
                rows.append((path.stem, container["name"], *_outcome(found, document, helpers)))
    return rows


def _outcome(found: Found, document: dict, helpers: list | None) -> tuple[str, str]:
    container = found.container
    known = known_image(container.get("image", ""))
    known_text = f"; the image is {known.name}" if known else ""
    if helpers is None:
        return "not imported", f"a {document['kind']} is not imported yet"
    helper = next(h for h in helpers if (h.params.get("container") or {}).get("name") == container["name"]
                  or h.params.get("name") == container["name"])
    if helper.pattern != "custom":
        overridden = ", ".join(sorted(helper.overrides)) or "none"
        return f"**{helper.pattern}**", f"overrides: {overridden}"
    proposed = sorted({pattern_id for pattern_id, _ in candidates(found)})
    why = (f"{' or '.join(proposed)} proposed, but it does not render the Pod exactly" if proposed
           else "no pattern's shape")
    return f"custom ({helper.params['role']})", why + known_text


def report() -> str:
    rows = _rows()
    outcomes = Counter("recognised" if row[2].startswith("**") else row[2].split(" ")[0] for row in rows)
    imported = outcomes["recognised"] + outcomes["custom"]
    lines = [
        START,
        f"{len(rows)} helper containers in {len(list(CORPUS.glob('*.yaml')))} files, {imported} imported: "
        f"**{outcomes['recognised']} recognised as a pattern**, {outcomes['custom']} custom.",
        "",
        "| file | container | imported as | why |",
        "|---|---|---|---|",
        *(f"| {file} | `{name}` | {outcome} | {why} |" for file, name, outcome, why in rows),
        END,
    ]
    return "\n".join(lines)


def page_with_report(page: str) -> str:
    head, _, rest = page.partition(START)
    _, _, tail = rest.partition(END)
    return head + report() + tail


if __name__ == "__main__":
    PAGE.write_text(page_with_report(PAGE.read_text()))
