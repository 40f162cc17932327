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
from datetime import date

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge.followup import organisation
from bot.knowledge.model import Entry, KnowledgeBase
from bot.knowledge.query import ask_types, law_time, quick_fold, rewrite_dates
from bot.knowledge.subjects import NOT_SUBJECTS, subject_groups
from bot.text import Lexicon, bigrams, fold, tokens

# Calibrated on tests/labelled (see bench/calibrate.py): answer at or above THRESHOLD; below, say
# "I don't know". When the runner-up (another entry) is within AMBIGUITY_MARGIN, ask which was meant.
THRESHOLD = 0.46
AMBIGUITY_MARGIN = 0.015
# Ranking only (scores shown stay the similarity): an entry of the repealed law gives way to one in force
# unless the question names the old law or a past date; a phrasing that asks the same kind of thing
# (how many, who, where, when …) as the question is preferred.
OLD_LAW_PENALTY = 0.08
OLD_LAW_BONUS = 0.0
TODAY_FIRST_MARGIN = 0.15  # an in-force entry this close behind an out-of-force one is answered instead
SAME_ASK_BONUS = 0.03
OTHER_ASK_PENALTY = 0.03
# How far below the top-ranked entry an entry that names every subject of the question may be and still
# be preferred to it.
SUBJECT_MARGIN = 0.08
# A phrasing that names a subject the question does not ("cuộc họp HĐQT cần bao nhiêu thành viên dự" for
# "HĐQT có bao nhiêu thành viên") asks something else: its rank drops by this much per such subject.
EXTRA_SUBJECT_PENALTY = 0.1
# Ranking only: an entry whose answer text holds the question's words (and word pairs) is preferred among
# close phrasings ("nghị quyết giải thể gửi trong bao nhiêu ngày" → the dissolution steps, "07 ngày").
ANSWER_WEIGHT = 0.3
# A confident match whose answer (not only its phrasings) names a subject the top entry lacks may be put
# first, when its answer holds this share of the question's words.
ANSWER_COVER = 0.6


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    phrasing: str = ""  # the entry's question phrasing that matched best


@dataclass(frozen=True)
class SearchResult:
    """The outcome of one query: the best hit (if good enough) and a close runner-up, if any."""

    query_tokens: tuple[str, ...]
    hits: tuple[Hit, ...]
    threshold: float
    margin: float
    doubt: tuple[str, ...] = ()  # key terms of the question the top entry does not contain
    old_law: bool = False  # the question names the repealed law or a past date

    @property
    def top(self) -> Hit | None:
        """The best-ranked hit above the threshold, even when in doubt."""
        return self.hits[0] if self.hits and self.hits[0].score >= self.threshold else None

    @property
    def best(self) -> Hit | None:
        """The hit to answer with: above the threshold and accounting for every key term."""
        return None if self.doubt else self.top

    def candidates(self, limit: int = 3) -> list[Hit]:
        """The closest answer entries, for "did you mean …" buttons."""
        floor = self.threshold * 0.8
        return [h for h in self.hits if h.entry.kind == "answer" and h.score >= floor][:limit]

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

    def __init__(self, kb: KnowledgeBase, threshold: float = 0.0, margin: float = 0.0,
                 today: date | None = None) -> None:
        self.kb = kb
        self.entries = kb.entries
        self.lexicon = kb.lexicon
        self.threshold = threshold or THRESHOLD
        self.margin = margin or AMBIGUITY_MARGIN
        self.today = today or date.today()
        texts: list[str] = []
        owners: list[int] = []
        phrasings: list[str] = []
        asks: list[frozenset[str]] = []
        uni_sets: list[set[str]] = []
        uni_post: dict[str, list[int]] = defaultdict(list)
        bi_post: dict[str, list[int]] = defaultdict(list)
        df: dict[str, int] = defaultdict(int)
        self._subject_alts = sorted(((f" {alt} ", g) for g, (_, alts) in enumerate(subject_groups()) for alt in alts),
                                    key=lambda a: -len(a[0]))
        self._subject_names = [name for name, _ in subject_groups()]
        self._subjects_of: list[frozenset[int]] = []
        self._phrasing_subjects: list[frozenset[int]] = []
        self._asked_subjects_of: list[frozenset[int]] = []
        self._asks_of: list[frozenset[str]] = []
        self._answer_words: list[frozenset[str]] = []  # an entry's answer syllables and syllable pairs
        for i, entry in enumerate(self.entries):
            seen: set[str] = set()
            entry_asks: set[str] = set()
            first = len(self._phrasing_subjects)
            for q in entry.questions:
                toks = search_tokens(q, self.lexicon)
                if not toks:
                    continue
                pi = len(texts)
                texts.append(" ".join(toks))
                owners.append(i)
                phrasings.append(q)
                kinds = ask_types(fold(q))
                self._phrasing_subjects.append(frozenset(self.subjects(toks)))
                asks.append(kinds)
                entry_asks |= kinds
                uni_sets.append(set(toks))
                for t in set(toks):
                    uni_post[t].append(pi)
                for b in set(_bigrams(toks)):
                    bi_post[b].append(pi)
                seen.update(toks)
            for t in seen:
                df[t] += 1
            self._asked_subjects_of.append(frozenset().union(*self._phrasing_subjects[first:]))
            said = " ".join([entry.answer, entry.today])
            self._subjects_of.append(self._asked_subjects_of[-1] | self._entry_subjects(
                [part for t in quick_fold(said).split() for part in self.lexicon.expand(t)]))
            self._asks_of.append(frozenset(entry_asks))
            said_toks = [part for t in quick_fold(said).split() for part in self.lexicon.expand(t)]
            self._answer_words.append(frozenset(said_toks) | frozenset(_bigrams(said_toks)))
        n = max(1, len(self.entries))
        self._idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self._unknown_idf = math.log(1.0 + n)
        self._texts = texts
        self._phrasings = phrasings
        self._phrasing_asks = asks
        self._owner = np.array(owners, dtype=np.int64)
        self._p_weight = np.array([sum(self._idf[t] for t in u) or 1.0 for u in uni_sets])
        self._uni_post = {t: np.array(v, dtype=np.int64) for t, v in uni_post.items()}
        self._bi_post = {b: np.array(v, dtype=np.int64) for b, v in bi_post.items()}
        self._vocab = sorted(self._idf)
        self._old = [self.is_old(e) for e in self.entries]
        self._position = {e.id: i for i, e in enumerate(self.entries)}

    def is_old(self, entry: Entry) -> bool:
        """An entry of the repealed 2012 law, or one whose `valid_to` has passed."""
        return entry.law == "2012" or (entry.valid_to is not None and entry.valid_to < self.today)

    def known_share(self, toks: tuple[str, ...] | list[str]) -> float:
        """The share of a question's syllables that the knowledge base uses at all."""
        plain = [t for t in toks if "_" not in t]
        return sum(t in self._idf for t in plain) / len(plain) if plain else 0.0

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

    def _entry_subjects(self, toks: list[str]) -> frozenset[int]:
        text = " " + " ".join(t for t in toks if "_" not in t) + " "
        for phrase in NOT_SUBJECTS:
            text = text.replace(f" {phrase} ", " # ")
        return frozenset(g for alt, g in self._subject_alts if alt in text)

    def subjects(self, toks: list[str] | tuple[str, ...]) -> list[int]:
        """The subjects a question names (longest alternatives first, each span counted once)."""
        text = " " + " ".join(t for t in toks if "_" not in t) + " "
        for phrase in NOT_SUBJECTS:
            text = text.replace(f" {phrase} ", " # ")
        found: list[int] = []
        for alt, g in self._subject_alts:
            if alt in text:
                if g not in found:
                    found.append(g)
                text = text.replace(alt, " # ")
        return found

    def asks_about(self, entry: Entry, toks: list[str] | tuple[str, ...]) -> bool:
        """The entry's phrasings ask about every subject these tokens name."""
        position = self._position.get(entry.id)
        return position is not None and set(self.subjects(toks)) <= self._asked_subjects_of[position]

    def mentions(self, entry: Entry, toks: list[str] | tuple[str, ...]) -> bool:
        """The entry (its phrasings, answer or `today`) mentions every subject these tokens name."""
        position = self._position.get(entry.id)
        return position is not None and not self.missing_subjects(toks, position)

    def missing_subjects(self, toks: list[str] | tuple[str, ...], entry_index: int) -> tuple[str, ...]:
        """Subjects the question names that the entry never mentions."""
        covered = self._subjects_of[entry_index]
        return tuple(self._subject_names[g] for g in self.subjects(toks) if g not in covered)

    def search(self, query: str, limit: int = 5) -> SearchResult:
        folded = fold(query)
        when = law_time(folded)
        old_law = when == "old"
        toks = self.correct(search_tokens(query, self.lexicon))
        empty = SearchResult(tuple(toks), (), self.threshold, self.margin, (), old_law)
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
        q_asks = ask_types(folded)
        q_subjects = frozenset(self.subjects(toks))
        best: dict[int, tuple[float, float, int]] = {}  # entry → (rank, score, phrasing)
        for pi in candidates.tolist():
            if shared[pi] <= 0:
                continue
            score = float(lexical[pi]) + 0.2 * fuzz.token_sort_ratio(q_text, self._texts[pi]) / 100.0
            entry_index = int(self._owner[pi])
            rank = score + self._adjust(entry_index, pi, q_asks, when)
            extra = len(self._phrasing_subjects[pi] - q_subjects)
            rank -= EXTRA_SUBJECT_PENALTY * min(2, extra)
            # The entry ranks by its best-ranked phrasing and is as similar as its most similar one.
            known = best.get(entry_index)
            if known is None:
                best[entry_index] = (rank, score, pi)
            elif rank > known[0]:
                best[entry_index] = (rank, max(score, known[1]), pi)
            elif score > known[1]:
                best[entry_index] = (known[0], score, known[2])
        ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)[:max(limit, 12)]
        if when not in ("old", "past"):
            ranked = self._today_first(ranked)
        ranked, doubt = self._by_subject(toks, ranked, organisation(folded) is not None, q_bi)
        if doubt or (ranked and ranked[0][1][1] < self.threshold):
            # The topics to offer when not answering; never promoted to an answer by being offered.
            ranked = self._asked_first(toks, ranked, lexical, cap=None if doubt else self.threshold - 1e-4)
        ranked = ranked[:limit]
        hits = tuple(Hit(self.entries[i], round(sc, 4), self._phrasings[pi]) for i, (_, sc, pi) in ranked)
        return SearchResult(tuple(toks), hits, self.threshold, self.margin, doubt, old_law)

    def _answer_cover(self, entry_index: int, toks: list[str], q_bi: set[str]) -> float:
        """How much of the question (its informative syllables and word pairs) the entry's answer holds."""
        words = self._answer_words[entry_index]
        plain = [t for t in set(toks) if "_" not in t]
        weight = sum(self.idf(t) for t in plain) or 1.0
        uni = sum(self.idf(t) for t in plain if t in words) / weight
        bi = sum(b in words for b in q_bi) / len(q_bi) if q_bi else uni
        return 0.5 * uni + 0.5 * bi

    def _by_subject(self, toks: list[str], ranked: list[tuple[int, tuple[float, float, int]]], names_org: bool,
                    q_bi: set[str]) -> tuple[list[tuple[int, tuple[float, float, int]]], tuple[str, ...]]:
        """Put first the best entry that names every subject of the question (when close enough to the
        top); when none does, report what the top entry misses."""
        if not ranked:
            return ranked, ()
        top_confident = ranked[0][1][1] >= self.threshold
        if top_confident and self.entries[ranked[0][0]].kind != "answer":
            return ranked, ()
        if not top_confident:
            return self._covering_first(toks, ranked, q_bi), ()
        if not self.subjects(toks):
            if names_org:
                return ranked, ()
            # A question that names nothing ("nộp ở đâu?") matched to a phrasing that names a subject: a guess.
            extra = self._phrasing_subjects[ranked[0][1][2]]
            return ranked, tuple(sorted(self._subject_names[g] for g in extra))
        covering = self._covering_first(toks, ranked, q_bi)
        if covering is not ranked:
            return covering, ()
        return ranked, self.missing_subjects(toks, ranked[0][0])

    def _covering_first(self, toks: list[str], ranked: list[tuple[int, tuple[float, float, int]]], q_bi: set[str]
                        ) -> list[tuple[int, tuple[float, float, int]]]:
        """The ranking with the best confident answer entry that names every subject of the question put
        first, when it ranks close enough to the top; else the ranking unchanged (the same list). What the
        top entry lacks must be asked about in the other entry's phrasings, or said in its answer when that
        answer holds most of the question ("lãi quá hạn" inside the entry on a fund loan's interest)."""
        wanted = set(self.subjects(toks))
        if not wanted:
            return ranked
        top_rank = ranked[0][1][0]
        # What the top entry lacks must be what another entry's phrasings ask about, not a word of its answer.
        lacking = wanted - self._subjects_of[ranked[0][0]]
        for pos, (i, (rank, score, pi)) in enumerate(ranked):
            if rank < top_rank - SUBJECT_MARGIN - EXTRA_SUBJECT_PENALTY:
                break
            by_phrasing = (rank >= top_rank - SUBJECT_MARGIN and lacking <= self._asked_subjects_of[i]
                           and (pos == 0 or self._phrasing_subjects[pi] <= wanted))
            by_answer = bool(lacking) and self._answer_cover(i, toks, q_bi) >= ANSWER_COVER
            covers = wanted <= self._subjects_of[i] and (by_phrasing or by_answer)
            if score >= self.threshold and self.entries[i].kind == "answer" and covers:
                return [ranked[pos], *ranked[:pos], *ranked[pos + 1:]] if pos else ranked
        return ranked

    def _asked_first(self, toks: list[str], ranked: list[tuple[int, tuple[float, float, int]]],
                     lexical: np.ndarray, cap: float | None = None) -> list[tuple[int, tuple[float, float, int]]]:
        """In doubt, the candidates to offer: entries whose phrasings ask about every subject of the question
        (best lexical match first), then the rest as ranked."""
        wanted = set(self.subjects(toks))
        if not wanted:
            return ranked
        by_entry: dict[int, tuple[float, int]] = {}
        for pi in np.argsort(-lexical)[:400].tolist():
            i = int(self._owner[pi])
            if self.entries[i].kind == "answer" and wanted <= self._asked_subjects_of[i] and i not in by_entry:
                by_entry[i] = (float(lexical[pi]), pi)
        asked = sorted(by_entry.items(), key=lambda kv: kv[1][0], reverse=True)[:3]
        chosen = {i for i, _ in asked}
        q_text = " ".join(toks)
        scored = [(i, float(lx) + 0.2 * fuzz.token_sort_ratio(q_text, self._texts[pi]) / 100.0, pi)
                  for i, (lx, pi) in asked]
        if cap is not None:
            scored = [(i, min(sc, cap), pi) for i, sc, pi in scored]
        return [*[(i, (sc, sc, pi)) for i, sc, pi in scored], *[r for r in ranked if r[0] not in chosen]]

    def _today_first(self, ranked: list[tuple[int, tuple[float, float, int]]]
                     ) -> list[tuple[int, tuple[float, float, int]]]:
        """A question that names no old law or past date gets the rule in force: when an out-of-force entry
        leads, the best in-force entry close behind it (and good enough to answer) goes first."""
        if not ranked or not self._old[ranked[0][0]]:
            return ranked
        top_rank = ranked[0][1][0]
        for pos, (i, (rank, score, _)) in enumerate(ranked[1:], start=1):
            if top_rank - rank > TODAY_FIRST_MARGIN:
                break
            if not self._old[i] and self.entries[i].kind == "answer" and score >= self.threshold:
                return [ranked[pos], *ranked[:pos], *ranked[pos + 1:]]
        return ranked

    def _adjust(self, entry_index: int, phrasing: int, q_asks: frozenset[str], when: str) -> float:
        """Ranking adjustments: law version in force, and the kind of thing asked."""
        adjust = 0.0
        if self._old[entry_index]:
            # An earlier year alone ("lập năm 2018") may ask what applies now: neither pushed up nor down.
            adjust += OLD_LAW_BONUS if when == "old" else 0.0 if when == "past" else -OLD_LAW_PENALTY
        specific = q_asks - {"what", "yes-no", "how"}
        if specific and self.entries[entry_index].kind != "answer":
            adjust += SAME_ASK_BONUS  # a recognised out-of-scope intent is never pushed down by how it is asked
        elif specific:
            if specific & self._phrasing_asks[phrasing]:
                adjust += SAME_ASK_BONUS
            elif not specific & self._asks_of[entry_index]:
                adjust -= OTHER_ASK_PENALTY
        return adjust


def search_tokens(text: str, lexicon: Lexicon | None) -> list[str]:
    """The searchable tokens of a phrasing or a question (dates rewritten as words first)."""
    return tokens(rewrite_dates(text), lexicon)


def _bigrams(toks: list[str]) -> list[str]:
    """Bigrams of adjacent syllables (compound-term tokens, appended at the end, are left out)."""
    return bigrams([t for t in toks if "_" not in t])
