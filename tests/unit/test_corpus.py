"""Real manifests from public projects (tests/corpus/, each naming its source): importing one and rendering
the composition gives back what the manifest says, field by field, or a warning names what was not kept."""

from pathlib import Path

import pytest

from composer.domain.importer import import_manifests
from composer.domain.kinds import WORKLOAD_KINDS
from composer.domain.render import render
from composer.domain.yamlio import dump_documents, load_documents
from tests.support.meaning import differences, meaning

CORPUS = Path(__file__).parents[1] / "corpus"
FILES = sorted(CORPUS.glob("*.yaml"))
COMPANION_KINDS = ("ConfigMap", "Service")


def _documents(path: Path) -> list[dict]:
    return load_documents(path.read_text())


def _cases() -> list:
    """One case per workload: a composition holds one, with the file's ConfigMaps and Services."""
    return [pytest.param(path, index, id=f"{path.stem}[{document['metadata']['name']}]")
            for path in FILES for index, document in enumerate(_documents(path))
            if document.get("kind") in WORKLOAD_KINDS]


CASES = _cases()


def _name(document: dict) -> str:
    return f"{document['kind']} {document['metadata']['name']!r}"


def test_the_corpus_holds_sixty_sourced_files_from_several_projects():
    assert len(FILES) >= 60
    projects = set()
    for path in FILES:
        header = path.read_text().splitlines()[:3]
        assert header[0].startswith("# Source: https://github.com/"), path.name
        assert header[1].startswith("# Repository: ") and "path: " in header[1], path.name
        assert header[2].startswith("# Licence: "), path.name
        projects.add(header[1].removeprefix("# Repository: ").split(";")[0])
    assert len(projects) >= 6


@pytest.mark.parametrize(("path", "index"), CASES)
def test_import_then_render_means_what_the_manifest_says(path, index):
    documents = _documents(path)
    workload = documents[index]
    others = [d for d in documents if d.get("kind") not in WORKLOAD_KINDS]
    result = import_manifests([workload, *others])
    for dropped in (d for d in others if d.get("kind") not in COMPANION_KINDS):
        assert any(w.startswith(f"{_name(dropped)} not imported") for w in result.warnings), _name(dropped)
    rendered = render(result.composition)
    expected = meaning([workload, *(d for d in others if d.get("kind") in COMPANION_KINDS)], result.warnings)
    found = meaning(rendered)
    assert sorted(found) == sorted(expected)
    assert [f"{key}: {problem}" for key in expected for problem in differences(expected[key], found[key])] == []


@pytest.mark.parametrize(("path", "index"), CASES)
def test_render_then_import_then_render_is_a_fixed_point(path, index):
    documents = _documents(path)
    workload = documents[index]
    others = [d for d in documents if d.get("kind") in COMPANION_KINDS]
    once = dump_documents(render(import_manifests([workload, *others]).composition))
    again = import_manifests(load_documents(once))
    assert again.warnings == []
    assert dump_documents(render(again.composition)) == once
