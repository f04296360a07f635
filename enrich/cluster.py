"""Pure story-clustering helpers: MinHash signatures, LSH band keys and a same-story decision.

Why: the sink groups articles about one event into a story. Candidate lookup
must be cheap (band keys are indexable strings: two articles sharing any key are
candidates), and the final decision combines text similarity with what
enrichment found (shared entities and topics) inside a time window, so two
different strikes on the same city on different days are not merged.

Story id rule: a new story's id is the id of its first article; an article that
joins a story takes that story's id (see :func:`assign_story`).
"""

from __future__ import annotations

import functools
import hashlib
import operator
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from services.text import WORD

if TYPE_CHECKING:  # numpy is imported only where signatures are computed: the sink never needs it
    import numpy as np

NUM_PERM = 64
BANDS = 32  # 32 bands x 2 rows: rewrites of one report (Jaccard ~0.2) collide with p ~0.8, unrelated texts rarely
SHINGLE = 3
SEED = 7
_PRIME = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1


@dataclass(frozen=True)
class Signature:
    """What the clusterer stores per article."""

    minhash: tuple[int, ...]
    bands: tuple[str, ...]


def shingles(title: str, text: str, k: int = SHINGLE) -> set[str]:
    """Lower-cased word k-shingles of title + text (single words for very short texts)."""
    words = WORD.findall(f"{title} {text}".lower())
    if len(words) < k:
        return set(words)
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) pairs of the hash family, drawn as datasketch 2's ``MinHash(num_perm=64, seed=7)`` draws
    them (its default affine32 scheme; a test checks they are equal), so stored signatures keep their
    meaning. Drawn here because importing datasketch costs ~40 MB of RSS (it pulls in scipy)."""
    import numpy as np

    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a.astype(np.uint64), b.astype(np.uint64)


def band_keys(hashvalues: Sequence[int], bands: int = BANDS) -> tuple[str, ...]:
    """LSH band keys: ``"<band>:<12 hex>"``, one per band (each band's values as little-endian uint64s)."""
    rows = len(hashvalues) // bands
    keys = []
    for b in range(bands):
        chunk = struct.pack(f"<{rows}Q", *hashvalues[b * rows:(b + 1) * rows])
        keys.append(f"{b}:{hashlib.blake2b(chunk, digest_size=6).hexdigest()}")
    return tuple(keys)


def minhash_values(title: str, text: str) -> np.ndarray:
    """The NUM_PERM MinHash values of the article's shingles: min over shingles of (a·crc32 + b) mod (2^61 − 1),
    truncated to 32 bits.

    One vectorised numpy pass: this runs for every enriched article.
    """
    import numpy as np

    sh = shingles(title, text)
    if not sh:
        return np.full(NUM_PERM, _MAX_HASH, dtype=np.uint64)
    a, b = _permutations()
    hv = np.fromiter((zlib.crc32(s.encode()) for s in sh), dtype=np.uint64, count=len(sh))
    return np.bitwise_and((np.outer(hv, a) + b) % np.uint64(_PRIME), np.uint64(_MAX_HASH)).min(axis=0)


def signature(title: str, text: str) -> Signature:
    """MinHash values and band keys for one article (to store next to the enriched event)."""
    values = tuple(minhash_values(title, text).tolist())
    return Signature(values, band_keys(values))


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two MinHash value vectors (share of equal positions)."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(map(operator.eq, a, b)) / len(a)  # map(eq): ~4x a generator, and the sink calls it per candidate


@dataclass(frozen=True)
class StoryFeatures:
    """The inputs of :func:`same_story` for one article."""

    minhash: Sequence[int]
    published_at: datetime
    entities: frozenset[str] = frozenset()  # entity ids
    topics: frozenset[str] = frozenset()


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def story_score(a: StoryFeatures, b: StoryFeatures, *, window_s: float = 72 * 3600) -> float:
    """How strongly two articles look like the same story (0 = never; 1 = near-duplicate).

    Outside the time window: 0. Otherwise 0.6 x Jaccard + 0.3 x entity overlap + 0.1 x topic
    overlap (overlaps relative to the smaller set); near-duplicates (Jaccard >= 0.8) score 1.
    A different topic set with almost no text overlap scores 0.
    """
    if abs((a.published_at - b.published_at).total_seconds()) > window_s:
        return 0.0
    j = jaccard(a.minhash, b.minhash)
    if j >= 0.8:
        return 1.0
    ents = _overlap(a.entities, b.entities)
    tops = _overlap(a.topics, b.topics) if a.topics or b.topics else 1.0
    if j < 0.05 and tops == 0.0:
        return 0.0
    return 0.6 * j + 0.3 * ents + 0.1 * tops


def same_story(a: StoryFeatures, b: StoryFeatures, *, threshold: float = 0.5, window_s: float = 72 * 3600) -> bool:
    """Whether two articles report the same story: :func:`story_score` reaches ``threshold``."""
    score = story_score(a, b, window_s=window_s)
    return score > 0.0 and score >= threshold


def best_story(article_id: str, candidates: Iterable[tuple[str, StoryFeatures]], me: StoryFeatures, *,
               threshold: float = 0.5, window_s: float = 72 * 3600) -> str:
    """The story id of the best-scoring candidate that reaches ``threshold``, else ``article_id``.

    Ties go to the candidate seen first (callers pass the oldest story first), so the choice is stable.
    """
    best, best_score = article_id, 0.0
    for story_id, feats in candidates:
        score = story_score(me, feats, window_s=window_s)
        if score > best_score and score >= threshold:
            best, best_score = story_id, score
            if score >= 1.0:  # a near-duplicate: nothing later can score higher, and ties keep the first
                break
    return best


def assign_story(article_id: str, candidates: Iterable[tuple[str, StoryFeatures]], me: StoryFeatures,
                 **kw: float) -> str:
    """The story id for ``article_id``: the first matching candidate's story id, else its own id."""
    for story_id, feats in candidates:
        if same_story(me, feats, **kw):
            return story_id
    return article_id
