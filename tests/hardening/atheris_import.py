"""An atheris (libFuzzer) target for the YAML loader, the importer, render and lint. By hand only:

    .venv/bin/pip install atheris==3.0.0
    .venv/bin/python tests/hardening/atheris_import.py -max_total_time=60 [corpus_dir …]

Without a corpus directory it starts from tests/unit/manifests/ (copied to a temporary directory,
since libFuzzer writes new inputs into the first one). Anything but a YamlError or a
ManifestImportError escaping is a crash: a 500 in the web app. Not collected by pytest (the file
name does not start with test_), and the suite does not need atheris.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports():
    from composer.domain.importer import ManifestImportError, import_manifests
    from composer.domain.lint import lint
    from composer.domain.render import build
    from composer.domain.yamlio import YamlError, load_documents


def one_input(data: bytes) -> None:
    try:
        result = import_manifests(load_documents(data))
    except (YamlError, ManifestImportError):
        return
    lint(build(result.composition))


def main() -> None:
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="podstudio-corpus-"))
        for seed in (ROOT / "tests" / "unit" / "manifests").glob("*.yaml"):
            shutil.copy(seed, corpus / seed.name)
        argv.append(str(corpus))
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
