"""Pieces of a text counted from one tokenisation of the whole (ingest/token_count.py): every
count equals the tokenizer's own count of the piece, including pieces that cut a word or a
token, and the chunker gives the same chunks while tokenising each text about once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from tokenizers import Tokenizer, pre_tokenizers

from app.ingest.chunker import chunk_document
from app.ingest.parsers import ParsedDocument, Segment
from app.ingest.token_count import NEAR, PieceCounter
from app.providers.embeddings import get_embedder
from app.providers.embeddings.onnx import OnnxEmbedder

TEXTS = [
    "Tokenization of U.S. café naïve résumé 東京タワー words, e.g. state-of-the-art "
    "(p<0.05) results: 12.5% vs. 3,400 mg/kg. See https://example.org/a_b?c=1#d.\n\n"
    "Antidisestablishmentarianism supercalifragilistic pneumonoultramicroscopic. " * 3,
    "\n\n".join(
        f"Paragraph {i}. Cells expressing IL-{i}\u03b2 were treated with\tTNF-\u03b1 for "
        f"{i * 3} h; the ratio rose {i}·10⁻³ fold — “quoted” \u2018text\u2019 … and ÉCOLE "
        "Straße Ǆemal 🙂 emoji."
        for i in range(12)
    ),
    "x" * 900 + " tail words after one very long token-less run",
    "Repeated sentence here. " * 40 + "\x00control\x07chars\u200bzero width\u00a0nbsp",
]


@pytest.fixture(scope="module")
def embedder() -> Any:
    embedder = get_embedder()
    if embedder.token_words("a b") is None:
        pytest.skip("the configured embedder cannot look pieces up")
    return embedder


def _pieces(text: str, rng: random.Random, n: int) -> list[str]:
    """Slices at arbitrary characters (inside words, tokens, spaces and symbols alike), and
    as many from one space to another, as semchunk cuts."""
    spaces = [i for i, c in enumerate(text) if c.isspace()] or [0]
    out = []
    for _ in range(n):
        a = rng.randrange(len(text))
        out.append(text[a : rng.randrange(a, len(text) + 1)])
        a = rng.choice(spaces)
        out.append(text[a : rng.choice([b for b in spaces if b >= a] + [len(text)])])
    return out


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_every_piece_counts_what_the_tokenizer_counts(embedder: Any, index: int) -> None:
    text = TEXTS[index]
    asked: list[str] = []

    def counting(piece: str) -> int:
        asked.append(piece)
        return int(embedder.count_tokens(piece))

    counter = PieceCounter(text, counting, embedder.token_words(text))
    assert counter.fast
    pieces = [*_pieces(text, random.Random(index), 300), text, "", text[:1], text[-1:]]
    for piece in pieces:
        assert counter(piece) == embedder.count_tokens(piece), repr(piece)
    # Both ways were taken: lookups, and the tokenizer for pieces that cut a word.
    assert 0 < len(asked) < len(pieces) * 3 / 4, (len(asked), len(pieces))


def test_the_chunker_cuts_the_same_chunks_tokenising_each_text_once(embedder: Any) -> None:
    parsed = ParsedDocument([Segment(t, page=n + 1) for n, t in enumerate(TEXTS)])
    asked: list[str] = []

    def counting(text: str) -> int:
        asked.append(text)
        return int(embedder.count_tokens(text))

    slow = chunk_document(parsed, counting, chunk_size=48, overlap=8)
    slow_calls = len(asked)
    asked.clear()
    fast = chunk_document(parsed, counting, chunk_size=48, overlap=8,
                          token_words=embedder.token_words)
    assert [(d.text, d.char_start, d.token_count) for d in fast] == [
        (d.text, d.char_start, d.token_count) for d in slow]
    assert len(fast) > 10
    # Only the pieces that cut a word (the run of x's is split by characters) go to the
    # tokenizer one by one.
    assert len(asked) < slow_calls / 5, (len(asked), slow_calls)


# Longer than the lookup's first, near search reaches (token_count.NEAR), with passages
# repeated word for word and inside longer words, so a piece is often found at another
# place than the one it was cut from.
LONG = "\n\n".join(
    f"Section {i % 7}. " + " ".join(TEXTS[i % 2].split()[: 40 + i % 13])
    + " Repeated sentence here. xRepeated sentence hereafter." * (i % 3)
    for i in range(120)
)


def test_pieces_of_a_long_text_count_right_in_any_order(embedder: Any) -> None:
    assert len(LONG) > 4 * NEAR
    counter = PieceCounter(LONG, embedder.count_tokens, embedder.token_words(LONG))
    rng = random.Random(7)
    spaces = [i for i, c in enumerate(LONG) if c.isspace()]
    cuts = sorted(rng.sample(spaces, 150))
    forward = [LONG[a:b] for a, b in zip([0, *cuts], [*cuts, len(LONG)], strict=True)]
    for piece in forward + forward[::-1] + _pieces(LONG, rng, 100):
        assert counter(piece) == embedder.count_tokens(piece), repr(piece[:80])


def test_the_chunker_cuts_the_same_chunks_of_a_long_text(embedder: Any) -> None:
    parsed = ParsedDocument([Segment(LONG, page=1)])
    slow = chunk_document(parsed, embedder.count_tokens, chunk_size=64, overlap=12)
    fast = chunk_document(parsed, embedder.count_tokens, chunk_size=64, overlap=12,
                          token_words=embedder.token_words)
    assert len(slow) > 50
    assert [(d.text, d.char_start, d.token_count) for d in fast] == [
        (d.text, d.char_start, d.token_count) for d in slow]


def test_a_piece_not_in_the_text_is_counted_by_the_tokenizer(embedder: Any) -> None:
    asked: list[str] = []

    def counting(text: str) -> int:
        asked.append(text)
        return int(embedder.count_tokens(text))

    counter = PieceCounter("alpha beta gamma", counting, embedder.token_words("alpha beta gamma"))
    assert counter("beta gamma") == 2 and asked == []
    assert counter("delta epsilon") == embedder.count_tokens("delta epsilon")
    assert asked == ["delta epsilon"]


def test_offsets_out_of_order_turn_the_lookup_off() -> None:
    asked: list[str] = []

    def counting(text: str) -> int:
        asked.append(text)
        return len(text.split())

    counter = PieceCounter("a b c", counting, ([(2, 3), (0, 1), (4, 5)], [0, 1, 2]))
    assert not counter.fast
    assert counter("a b") == 2 and asked == ["a b"]
    missing_word = PieceCounter("a b", counting, ([(0, 1), (2, 3)], [0, None]))
    assert not missing_word.fast


def test_a_tokenizer_whose_words_carry_their_space_offers_no_lookup(embedder: Any) -> None:
    """Byte-level pre-tokenizers put the space before a word into its tokens: a piece
    starting at that word would tokenise differently alone, so no lookup is offered."""
    if not isinstance(embedder, OnnxEmbedder):
        pytest.skip("the configured embedder is not the local ONNX one")
    byte_level = Tokenizer.from_str(embedder.tokenizer.to_str())
    byte_level.pre_tokenizer = pre_tokenizers.ByteLevel()
    other = object.__new__(OnnxEmbedder)
    other.tokenizer = byte_level
    assert other.token_words("alpha beta") is None
    assert embedder.token_words("alpha beta") is not None


def _bpe() -> Tokenizer:
    """A small BPE tokenizer trained here on TEXTS, words split on whitespace and
    punctuation: a BPE word's tokens need not match those of its prefix alone, as WordPiece's
    do, so pieces that end inside a word must go to the tokenizer."""
    from tokenizers import models, trainers

    bpe = Tokenizer(models.BPE(unk_token="[UNK]"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    bpe.train_from_iterator(TEXTS * 3, trainers.BpeTrainer(vocab_size=400,
                                                           special_tokens=["[UNK]"]))
    return bpe


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_pieces_count_right_on_a_bpe_tokenizer_too(index: int) -> None:
    bpe = _bpe()
    embedder = object.__new__(OnnxEmbedder)
    embedder.tokenizer = bpe
    text = TEXTS[index]
    counter = PieceCounter(text, embedder.count_tokens, embedder.token_words(text))
    assert counter.fast
    for piece in _pieces(text, random.Random(index), 300):
        assert counter(piece) == embedder.count_tokens(piece), repr(piece)
