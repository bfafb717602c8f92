"""The BEIR loader of `cairn eval`: both corpus encodings, both qrels locations, and
errors that name the file and line."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from app.eval.dataset import DatasetError, load_dataset

FIXTURE = Path(__file__).parent / "fixtures" / "beir_tiny"


def make_dataset(
    root: Path,
    *,
    corpus: list[dict[str, object]] | None = None,
    queries: list[dict[str, object]] | None = None,
    qrels: str = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\nq2\td2\t1\n",
    gz: bool = False,
    qrels_at: str = "qrels/test.tsv",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    corpus = corpus or [
        {"_id": "d1", "title": "One", "text": "first document"},
        {"_id": "d2", "title": "", "text": "second document"},
    ]
    queries = queries or [{"_id": "q1", "text": "first"}, {"_id": "q2", "text": "second"}]
    lines = "".join(json.dumps(row) + "\n" for row in corpus)
    if gz:
        with gzip.open(root / "corpus.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        (root / "corpus.jsonl").write_text(lines)
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (root / qrels_at).parent.mkdir(parents=True, exist_ok=True)
    (root / qrels_at).write_text(qrels)
    return root


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("qrels_at", ["qrels/test.tsv", "qrels_test.tsv"])
def test_loads_plain_and_gzip_corpus_from_either_qrels_location(
    tmp_path: Path, gz: bool, qrels_at: str
) -> None:
    ds = load_dataset(make_dataset(tmp_path / "ds", gz=gz, qrels_at=qrels_at))
    assert ds.name == "ds"
    assert [d.id for d in ds.corpus] == ["d1", "d2"]
    assert ds.corpus[0].content() == "One\n\nfirst document"
    assert ds.corpus[1].content() == "second document"  # no title: no blank first line
    assert ds.qrels == {"q1": {"d1": 2, "d2": 0}, "q2": {"d2": 1}}
    assert ds.queries == {"q1": "first", "q2": "second"}
    assert ds.missing_queries == []


def test_the_tiny_fixture_loads_with_its_graded_judgements() -> None:
    ds = load_dataset(FIXTURE)
    assert len(ds.corpus) == 11
    assert list(ds.queries) == ["q1", "q2", "bees", "q4", "q5"]  # q6 is not judged
    assert ds.qrels["q1"] == {"volcano": 2, "glacier": 1, "lava-lamp": 0}
    assert ds.queries_without_relevant() == []


def test_missing_qrels_is_a_dataset_error_naming_both_locations(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    shutil.rmtree(root / "qrels")
    with pytest.raises(DatasetError, match=r"qrels/test\.tsv, qrels_test\.tsv"):
        load_dataset(root)


def test_missing_corpus_and_non_directory_are_dataset_errors(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    (root / "corpus.jsonl").unlink()
    with pytest.raises(DatasetError, match="no corpus"):
        load_dataset(root)
    with pytest.raises(DatasetError, match="not a directory"):
        load_dataset(tmp_path / "nowhere")


def test_malformed_corpus_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    good = (root / "corpus.jsonl").read_text()
    (root / "corpus.jsonl").write_text(good + '{"_id": "d3", "title": "x", "text": \n')
    with pytest.raises(DatasetError, match=r"corpus\.jsonl line 3: not valid JSON"):
        load_dataset(root)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"title": "no id", "text": "x"}, r'line 2: "_id" must be a string'),
        ({"_id": "d1", "title": "dup", "text": "x"}, r"line 2: duplicate _id 'd1'"),
        ({"_id": "d9", "title": "", "text": ""}, r"line 2: document 'd9' has no title or text"),
        ({"_id": "d9", "title": "t", "text": 5}, r'line 2: "text" must be a string'),
    ],
)
def test_invalid_corpus_rows_name_the_line(
    tmp_path: Path, row: dict[str, object], message: str
) -> None:
    root = make_dataset(tmp_path / "ds", corpus=[{"_id": "d1", "title": "a", "text": "b"}, row])
    with pytest.raises(DatasetError, match=message):
        load_dataset(root)


def test_gzip_corpus_that_is_not_gzip_is_a_dataset_error(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    (root / "corpus.jsonl").rename(root / "corpus.jsonl.gz")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(root)


def test_judged_queries_missing_from_the_queries_file_are_listed_and_dropped(
    tmp_path: Path,
) -> None:
    qrels = "query-id\tcorpus-id\tscore\nq1\td1\t1\nghost\td2\t1\nq2\td2\t1\n"
    ds = load_dataset(make_dataset(tmp_path / "ds", qrels=qrels))
    assert ds.missing_queries == ["ghost"]
    assert set(ds.qrels) == set(ds.queries) == {"q1", "q2"}


def test_qrels_naming_no_known_query_at_all_is_an_error(tmp_path: Path) -> None:
    qrels = "query-id\tcorpus-id\tscore\nghost\td1\t1\n"
    with pytest.raises(DatasetError, match="none of the judged queries"):
        load_dataset(make_dataset(tmp_path / "ds", qrels=qrels))


@pytest.mark.parametrize(
    ("qrels", "message"),
    [
        ("query-id\tcorpus-id\tscore\nq1\td1\thigh\n", r"test\.tsv line 2: score 'high'"),
        ("query-id\tcorpus-id\tscore\nq1 d1 1\n", r"test\.tsv line 2: expected query-id"),
        ("query-id\tcorpus-id\tscore\n", "has no judgements"),
    ],
)
def test_malformed_qrels_are_reported_with_the_line(
    tmp_path: Path, qrels: str, message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(make_dataset(tmp_path / "ds", qrels=qrels))


def test_trec_style_four_column_qrels_and_judgements_on_unknown_documents(tmp_path: Path) -> None:
    qrels = "q1\t0\td1\t1\nq2\t0\tnot-in-corpus\t1\n"  # no header, TREC columns
    ds = load_dataset(make_dataset(tmp_path / "ds", qrels=qrels))
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"not-in-corpus": 1}}
    assert ds.unknown_docs == 1


def test_limit_keeps_the_first_judged_queries_in_qrels_order() -> None:
    ds = load_dataset(FIXTURE)
    ds.limit(2)
    assert list(ds.queries) == ["q1", "q2"] and list(ds.qrels) == ["q1", "q2"]
