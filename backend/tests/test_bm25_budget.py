"""The postings budget of the lexical term rule (search/lexical.py, step 4): past a query's
8 rarest terms, a term stays only while the kept terms' postings fit QUERY_MAX_POSTINGS."""

from __future__ import annotations

import math
import uuid

from app.core.config import Settings
from app.search.lexical import BUDGET_FREE_TERMS, QueryTerm, select_terms

A, B = uuid.uuid4(), uuid.uuid4()


def _terms(dfs: list[float], n: float = 10_000) -> list[QueryTerm]:
    """One term per df, its idf as BM25 computes it (rarer: higher idf)."""
    return [QueryTerm(A, f"t{i:02d}", math.log(1 + (n - df + 0.5) / (df + 0.5)), df)
            for i, df in enumerate(dfs)]  # fmt: skip


def test_past_the_free_terms_terms_are_kept_rarest_first_while_the_postings_fit() -> None:
    dfs = [10.0] * BUDGET_FREE_TERMS + [100, 200, 400, 800, 1600]
    kept = select_terms(_terms(dfs), max_terms=64, min_idf=0.0, max_postings=80 + 700)
    # 8 free terms (80 postings), then 100 + 200 + 400 = 780 fit, 800 more would not
    assert sorted(t.df for t in kept) == [10.0] * BUDGET_FREE_TERMS + [100, 200, 400]
    assert len(select_terms(_terms(dfs), 64, 0.0, None)) == len(dfs)  # no budget: all


def test_a_query_of_few_terms_is_never_cut_by_the_budget() -> None:
    dfs = [5_000.0] * BUDGET_FREE_TERMS  # far over any budget, but only the free terms
    assert len(select_terms(_terms(dfs), 64, 0.0, max_postings=1)) == BUDGET_FREE_TERMS
    assert len(select_terms(_terms([9_000.0]), 64, 0.0, max_postings=0)) == 1


def test_the_first_term_past_the_budget_ends_the_selection() -> None:
    # a cheap common-ish term after an expensive one is not taken: the cut is where the
    # running total first crosses the budget (terms ranked by idf, i.e. by df)
    dfs = [1.0] * BUDGET_FREE_TERMS + [50, 500, 501]
    kept = {t.df for t in select_terms(_terms(dfs), 64, 0.0, max_postings=8 + 60)}
    assert 50 in kept and 500 not in kept and 501 not in kept
    # a lexeme of two collections counts its postings once, with its summed df
    both = [*_terms([1.0] * BUDGET_FREE_TERMS), QueryTerm(A, "x", 1.0, 30),
            QueryTerm(B, "x", 1.0, 30)]  # fmt: skip
    assert {t.collection_id for t in select_terms(both, 64, 0.0, 8 + 30) if t.term == "x"} == {A, B}
    assert Settings().query_max_postings > 0  # the default budget is on
