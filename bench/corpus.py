"""A deterministic synthetic corpus: small English documents and queries drawn from them.

Every document is built from topic vocabularies and sentence templates with a seeded RNG,
so two runs with the same seed upload the same bytes, and no two documents are identical
(each has its own title, and hundreds of random slot fillings), so dedup keeps all of them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

TOPICS: dict[str, dict[str, list[str]]] = {
    "gardening": {
        "noun": ["tomato seedlings", "compost heap", "raised bed", "clay soil", "rose bushes",
                 "drip irrigation", "mulch layer", "greenhouse", "pollinators", "fruit trees"],
        "verb": ["protects", "feeds", "shades", "drains", "attracts", "strengthens", "dries out"],
        "adj": ["acidic", "well-drained", "shaded", "frost-prone", "nitrogen-rich", "sandy"],
        "time": ["in early spring", "after the first frost", "during a dry July",
                 "before the autumn rains", "at dawn"],
    },
    "astronomy": {
        "noun": ["the telescope mirror", "a red dwarf", "the spiral galaxy", "the comet tail",
                 "Jupiter's moons", "the light curve", "a binary star", "the nebula",
                 "the meteor shower", "the observatory dome"],
        "verb": ["reflects", "obscures", "reveals", "distorts", "outshines", "orbits"],
        "adj": ["faint", "distant", "variable", "luminous", "dusty", "redshifted"],
        "time": ["on a moonless night", "near opposition", "just after sunset",
                 "during the eclipse", "in the winter months"],
    },
    "finance": {
        "noun": ["the quarterly budget", "an index fund", "the interest rate", "cash flow",
                 "the mortgage payment", "a bond ladder", "the pension plan", "operating costs",
                 "the exchange rate", "retained earnings"],
        "verb": ["reduces", "offsets", "inflates", "stabilises", "depletes", "compounds"],
        "adj": ["volatile", "diversified", "long-term", "tax-efficient", "leveraged", "liquid"],
        "time": ["at the end of the fiscal year", "during a recession", "after the audit",
                 "before the rate decision", "every month"],
    },
    "cooking": {
        "noun": ["the sourdough starter", "a cast-iron pan", "the tomato sauce", "fresh basil",
                 "the braising liquid", "brown butter", "the pie crust", "a pinch of saffron",
                 "the stock pot", "roasted garlic"],
        "verb": ["thickens", "seasons", "caramelises", "softens", "balances", "enriches"],
        "adj": ["crispy", "tangy", "smoky", "tender", "fragrant", "velvety"],
        "time": ["over low heat", "after resting overnight", "just before serving",
                 "while the oven preheats", "for twenty minutes"],
    },
    "history": {
        "noun": ["the medieval guild", "a trade route", "the river port", "the city charter",
                 "the royal archive", "a border fortress", "the printing press",
                 "the harvest tax", "the merchant fleet", "a monastery library"],
        "verb": ["controlled", "funded", "recorded", "challenged", "expanded", "protected"],
        "adj": ["fortified", "prosperous", "contested", "forgotten", "influential", "ancient"],
        "time": ["in the twelfth century", "after the plague", "during the long siege",
                 "under the new dynasty", "before the reformation"],
    },
    "software": {
        "noun": ["the message queue", "a database index", "the cache layer", "the API gateway",
                 "a background worker", "the deployment pipeline", "the connection pool",
                 "a feature flag", "the retry policy", "the schema migration"],
        "verb": ["throttles", "retries", "serialises", "invalidates", "batches", "replicates"],
        "adj": ["idempotent", "distributed", "stateless", "asynchronous", "fault-tolerant",
                "versioned"],
        "time": ["under peak load", "during a rolling deploy", "after a network partition",
                 "at startup", "when the disk fills up"],
    },
    "medicine": {
        "noun": ["the blood pressure reading", "a vaccine trial", "the immune response",
                 "the clinical guideline", "a physiotherapy plan", "the dosage schedule",
                 "the cardiac monitor", "chronic inflammation", "the patient record",
                 "an allergy test"],
        "verb": ["lowers", "triggers", "improves", "suppresses", "tracks", "predicts"],
        "adj": ["chronic", "acute", "preventive", "randomised", "mild", "inherited"],
        "time": ["after the first dose", "during recovery", "within six weeks",
                 "at the follow-up visit", "overnight"],
    },
    "geology": {
        "noun": ["the limestone cliff", "a fault line", "the glacier valley", "volcanic ash",
                 "the river delta", "a granite outcrop", "the aquifer", "sediment layers",
                 "the tectonic plate", "a mineral vein"],
        "verb": ["erodes", "deposits", "fractures", "uplifts", "filters", "compresses"],
        "adj": ["porous", "layered", "metamorphic", "weathered", "crystalline", "unstable"],
        "time": ["over millions of years", "after the ice age", "during heavy floods",
                 "in a single eruption", "each winter"],
    },
}

TEMPLATES = [
    "{Noun} {verb} {noun2} {time}.",
    "Most guides agree that {noun} {verb} {noun2}, especially when conditions are {adj}.",
    "{Time}, {noun} is usually {adj}, which is why {noun2} matters so much.",
    "One common mistake is to ignore how {noun} {verb} {noun2}.",
    "A {adj} setting changes everything: {noun} {verb} {noun2} {time}.",
    "In our notes from trial {num}, {noun} {verb} {noun2} far more than expected.",
    "Experts recommend checking {noun} {time}, because it often {verb} {noun2}.",
    "When {noun2} becomes {adj}, {noun} rarely {verb} it as well as before.",
    "The record shows {num} separate cases where {noun} {verb} {noun2}.",
    "It is easy to overlook {noun}, yet it {verb} {noun2} {time}.",
]

_STOPWORDS_TEXT = """a an the is it its as of to in on at by for and or but so when which why
    yet how far
    more than most many much every each one our from with who that this these those be was
    were are been rarely usually often well before after during under over into just near
    while until within"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass
class SyntheticDoc:
    filename: str
    title: str
    text: str
    content_type: str = "text/plain"

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def _sentence(rng: random.Random, vocab: dict[str, list[str]]) -> str:
    noun, noun2 = rng.sample(vocab["noun"], 2)
    time = rng.choice(vocab["time"])
    values = {
        "noun": noun, "Noun": noun[0].upper() + noun[1:], "noun2": noun2,
        "verb": rng.choice(vocab["verb"]), "adj": rng.choice(vocab["adj"]),
        "time": time, "Time": time[0].upper() + time[1:], "num": str(rng.randint(2, 9999)),
    }
    return rng.choice(TEMPLATES).format(**values)


def make_documents(count: int, seed: int = 20261125) -> list[SyntheticDoc]:
    """`count` documents of 150-400 words: a title line, then 2-5 paragraphs."""
    rng = random.Random(seed)
    names = sorted(TOPICS)
    docs: list[SyntheticDoc] = []
    for i in range(count):
        topic = names[i % len(names)]
        vocab = TOPICS[topic]
        target = rng.randint(150, 400)
        subject = rng.choice(vocab["noun"])
        title = f"Field notes {i + 1:04d} on {topic}: {subject}"
        words = 0
        paragraphs: list[str] = []
        while words < target:
            para: list[str] = []
            for _ in range(rng.randint(3, 6)):
                sentence = _sentence(rng, vocab)
                para.append(sentence)
                words += len(sentence.split())
                if words >= target:
                    break
            paragraphs.append(" ".join(para))
        text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        docs.append(SyntheticDoc(f"bench-{i + 1:04d}-{topic}.txt", title, text))
    return docs


def _sentences(text: str) -> list[str]:
    body = text.split("\n\n", 1)[-1]
    return [s.strip() for s in re.split(r"(?<=[.])\s+", body) if len(s.split()) >= 6]


def make_queries(docs: list[SyntheticDoc], count: int = 200, seed: int = 7) -> list[str]:
    """Half exact sentences from the documents, half paraphrase-like content-word subsets."""
    rng = random.Random(seed)
    queries: list[str] = []
    for i in range(count):
        doc = docs[rng.randrange(len(docs))]
        sentence = rng.choice(_sentences(doc.text))
        if i % 2 == 0:
            queries.append(sentence)
            continue
        words = [w.strip(".,:;").lower() for w in sentence.split()]
        content = [w for w in words if w and w not in STOPWORDS and not w.isdigit()]
        picked = rng.sample(content, min(len(content), rng.randint(3, 6)))
        queries.append(" ".join(picked) or sentence)
    return queries
