"""`cairn eval`: retrieval quality of a running Cairn on a BEIR-format dataset.

The harness talks to Cairn only over HTTP, as users do: it uploads the corpus through the
documents API, waits for the worker to ingest it, runs every judged query through the search
API in each retrieval mode and scores the rankings with ranx (nDCG@10, Recall@100, MRR@10).
"""
