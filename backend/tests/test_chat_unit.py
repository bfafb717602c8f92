"""Pure parts of the chat: the citation filter on streamed deltas, the follow-up heuristic,
the extractive sentence picker (with the real bundled embedder)."""

from __future__ import annotations

from app.chat.citations import CitationFilter, strip_markers
from app.chat.followup import heuristic
from app.providers.llm import Passage
from app.providers.llm.extractive import select, sentences


def run(deltas: list[str], allowed: set[int]) -> tuple[str, CitationFilter, list[int]]:
    filt = CitationFilter(allowed)
    out, new = "", []
    for d in deltas:
        text, cited = filt.feed(d)
        out, new = out + text, new + cited
    text, cited = filt.flush()
    return out + text, filt, new + cited


def test_a_marker_split_across_deltas_is_kept_and_cited_once() -> None:
    text, filt, new = run(["Power is 4 MW [", "2", "]. Again [2] and [1]."], {1, 2})
    assert text == "Power is 4 MW [2]. Again [2] and [1]."
    assert new == [2, 1] and filt.invalid == []


def test_an_invented_marker_is_removed_even_split_or_grouped() -> None:
    text, filt, _ = run(["A [1", "2]. B [1, 9]. C [0]."], {1, 2, 3})
    assert text == "A . B [1]. C ."
    assert filt.invalid == ["[12]", "[1, 9]", "[0]"]


def test_a_bracket_that_is_not_a_marker_is_not_held_forever() -> None:
    text, filt, new = run(["see [note", " here] and [", "x]"], {1})
    assert text == "see [note here] and [x]" and new == [] and filt.invalid == []
    assert strip_markers("a [1] b [2, 3]") == "a  b "


def test_follow_up_heuristic() -> None:
    assert heuristic(None, "and its size?") == "and its size?"
    assert heuristic("What is X9?", "and its size?") == "What is X9? and its size?"
    assert heuristic("What is X9?", "How long is the Danube river in kilometres today") == (
        "How long is the Danube river in kilometres today")


def test_extractive_picks_relevant_sentences_in_reading_order_without_duplicates() -> None:
    from app.providers.embeddings import get_embedder

    passages = [
        Passage(1, "Cats sleep most of the day in warm places. The turbine is rated at 4.2 MW."),
        Passage(2, "The turbine is rated at 4.2 MW. Bread needs yeast and flour to rise well."),
    ]
    picked = select("What is the turbine's rated power?", passages,
                    get_embedder().embed_documents, limit=2)
    texts = [s for _, _, s in picked]
    assert texts.count("The turbine is rated at 4.2 MW.") == 1
    assert picked == sorted(picked)
    assert sentences("Too short. This one is a long enough sentence.") == [
        "This one is a long enough sentence."]
