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

import numpy as np
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


class SearchIndex:
    """An in-memory index of the knowledge base; build once at start-up, query many times.

    Postings are numpy arrays of phrasing numbers, so the lexical score of every phrasing is a handful of
    vector additions; the (costlier) fuzzy similarity is computed only for the best lexical candidates.
    """

    FUZZY_CANDIDATES = 48

    def __init__(self, kb: KnowledgeBase, threshold: float = 0.0, margin: float = 0.0) -> None:
        self.kb = kb
        self.entries = kb.entries
        self.lexicon = kb.lexicon
        self.threshold = threshold or THRESHOLD
        self.margin = margin or AMBIGUITY_MARGIN
        texts: list[str] = []
        owners: list[int] = []
        uni_sets: list[set[str]] = []
        uni_post: dict[str, list[int]] = defaultdict(list)
        bi_post: dict[str, list[int]] = defaultdict(list)
        df: dict[str, int] = defaultdict(int)
        for i, entry in enumerate(self.entries):
            seen: set[str] = set()
            for q in entry.questions:
                toks = tokens(q, self.lexicon)
                if not toks:
                    continue
                pi = len(texts)
                texts.append(" ".join(toks))
                owners.append(i)
                uni_sets.append(set(toks))
                for t in set(toks):
                    uni_post[t].append(pi)
                for b in set(_bigrams(toks)):
                    bi_post[b].append(pi)
                seen.update(toks)
            for t in seen:
                df[t] += 1
        n = max(1, len(self.entries))
        self._idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self._unknown_idf = math.log(1.0 + n)
        self._texts = texts
        self._owner = np.array(owners, dtype=np.int64)
        self._p_weight = np.array([sum(self._idf[t] for t in u) or 1.0 for u in uni_sets])
        self._uni_post = {t: np.array(v, dtype=np.int64) for t, v in uni_post.items()}
        self._bi_post = {b: np.array(v, dtype=np.int64) for b, v in bi_post.items()}
        self._vocab = sorted(self._idf)

    def idf(self, token: str) -> float:
        return self._idf.get(token, self._unknown_idf)

    def correct(self, toks: list[str]) -> list[str]:
        """Replace syllables unknown to the index by the closest known one, when close enough."""
        out = []
        for t in toks:
            if t in self._idf or len(t) < 3 or t[0].isdigit() or "_" in t:
                out.append(t)
                continue
            match = process.extractOne(t, self._vocab, scorer=fuzz.ratio, score_cutoff=80)
            out.append(match[0] if match else t)
        return out

    def search(self, query: str, limit: int = 5) -> SearchResult:
        toks = self.correct(tokens(query, self.lexicon))
        empty = SearchResult(tuple(toks), (), self.threshold, self.margin)
        if not toks or not self._texts:
            return empty
        q_uni = set(toks)
        q_bi = set(_bigrams(toks))
        q_weight = sum(self.idf(t) for t in q_uni)
        shared = np.zeros(len(self._texts))
        for t in q_uni:
            posting = self._uni_post.get(t)
            if posting is not None:
                shared[posting] += self._idf[t]
        if not shared.any():
            return empty
        q_cover = shared / q_weight
        if q_bi:
            bi_hits = np.zeros(len(self._texts))
            for b in q_bi:
                posting = self._bi_post.get(b)
                if posting is not None:
                    bi_hits[posting] += 1.0
            bi_cover = bi_hits / len(q_bi)
        else:
            bi_cover = q_cover
        lexical = 0.4 * q_cover + 0.25 * (shared / self._p_weight) + 0.15 * bi_cover
        k = min(self.FUZZY_CANDIDATES, len(lexical))
        candidates = np.argpartition(-lexical, k - 1)[:k]
        q_text = " ".join(toks)
        best: dict[int, float] = {}
        for pi in candidates.tolist():
            if shared[pi] <= 0:
                continue
            score = float(lexical[pi]) + 0.2 * fuzz.token_sort_ratio(q_text, self._texts[pi]) / 100.0
            entry_index = int(self._owner[pi])
            if score > best.get(entry_index, 0.0):
                best[entry_index] = score
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:limit]
        hits = tuple(Hit(self.entries[i], round(sc, 4)) for i, sc in ranked)
        return SearchResult(tuple(toks), hits, self.threshold, self.margin)


def _bigrams(toks: list[str]) -> list[str]:
    """Bigrams of adjacent syllables (compound-term tokens, appended at the end, are left out)."""
    return bigrams([t for t in toks if "_" not in t])
