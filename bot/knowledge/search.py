"""Retrieval over the knowledge base: IDF-weighted syllable/bigram overlap plus rapidfuzz similarity.

Each entry is indexed by its question phrasings (normalised: folded, abbreviations expanded). A query
is normalised the same way; syllables unknown to the index are corrected to the closest known one
(typos) when they are close enough. The score rewards covering the query's informative syllables and
its word order (bigrams); unknown syllables lower the score, which is what keeps out-of-scope
questions ("giá cà phê hôm nay") below the threshold.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge.model import Entry, KnowledgeBase
from bot.text import bigrams, tokens

# Calibrated on tests/labelled (see bench/calibrate.py): answer at or above THRESHOLD; below, say
# "I don't know". When the runner-up (another entry) is within AMBIGUITY_MARGIN, ask which was meant.
THRESHOLD = 0.46
AMBIGUITY_MARGIN = 0.015


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


@dataclass(frozen=True)
class SearchResult:
    """The outcome of one query: the best hit (if good enough) and a close runner-up, if any."""

    query_tokens: tuple[str, ...]
    hits: tuple[Hit, ...]
    threshold: float
    margin: float

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits and self.hits[0].score >= self.threshold else None

    @property
    def runner_up(self) -> Hit | None:
        best = self.best
        if not best or len(self.hits) < 2:
            return None
        second = self.hits[1]
        if second.score >= self.threshold and best.score - second.score <= self.margin:
            return second
        return None


@dataclass
class _Phrasing:
    entry_index: int
    toks: tuple[str, ...]
    uni: frozenset[str]
    bi: frozenset[str]
    text: str
    weight: float


class SearchIndex:
    """An in-memory index of the knowledge base; build once at start-up, query many times."""

    def __init__(self, kb: KnowledgeBase, threshold: float = 0.0, margin: float = 0.0) -> None:
        self.kb = kb
        self.entries = kb.entries
        self.lexicon = kb.lexicon
        self.threshold = threshold or THRESHOLD
        self.margin = margin or AMBIGUITY_MARGIN
        self._phrasings: list[_Phrasing] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        df: dict[str, int] = defaultdict(int)
        for i, entry in enumerate(self.entries):
            seen: set[str] = set()
            for q in entry.questions:
                toks = tuple(tokens(q, self.lexicon))
                if not toks:
                    continue
                self._phrasings.append(_Phrasing(i, toks, frozenset(toks), frozenset(bigrams(list(toks))),
                                                 " ".join(toks), 0.0))
                seen.update(toks)
            for t in seen:
                df[t] += 1
        n = max(1, len(self.entries))
        self._idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self._unknown_idf = math.log(1.0 + n)
        for pi, p in enumerate(self._phrasings):
            p.weight = sum(self._idf[t] for t in p.uni) or 1.0
            for t in p.uni:
                self._postings[t].append(pi)
        self._vocab = sorted(self._idf)
        self._texts = [p.text for p in self._phrasings]

    def idf(self, token: str) -> float:
        return self._idf.get(token, self._unknown_idf)

    def correct(self, toks: list[str]) -> list[str]:
        """Replace syllables unknown to the index by the closest known one, when close enough."""
        out = []
        for t in toks:
            if t in self._idf or len(t) < 3 or t[0].isdigit():
                out.append(t)
                continue
            match = process.extractOne(t, self._vocab, scorer=fuzz.ratio, score_cutoff=80)
            out.append(match[0] if match else t)
        return out

    def search(self, query: str, limit: int = 5) -> SearchResult:
        toks = self.correct(tokens(query, self.lexicon))
        if not toks:
            return SearchResult((), (), self.threshold, self.margin)
        q_uni = set(toks)
        q_bi = set(bigrams(toks))
        q_weight = sum(self.idf(t) for t in q_uni)
        candidates = {pi for t in q_uni for pi in self._postings.get(t, ())}
        best: dict[int, float] = {}
        q_text = " ".join(toks)
        for pi in candidates:
            p = self._phrasings[pi]
            shared = q_uni & p.uni
            shared_weight = sum(self._idf[t] for t in shared)
            q_cover = shared_weight / q_weight
            p_cover = shared_weight / p.weight
            bi_cover = len(q_bi & p.bi) / len(q_bi) if q_bi else q_cover
            similarity = fuzz.token_sort_ratio(q_text, p.text) / 100.0
            score = 0.4 * q_cover + 0.25 * p_cover + 0.15 * bi_cover + 0.2 * similarity
            if score > best.get(p.entry_index, 0.0):
                best[p.entry_index] = score
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:limit]
        hits = tuple(Hit(self.entries[i], round(s, 4)) for i, s in ranked)
        return SearchResult(tuple(toks), hits, self.threshold, self.margin)
