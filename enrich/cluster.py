"""MinHash signatures and LSH band keys of an article's text, computed once at enrichment.

Why: copies of one report (wire stories republished, light rewrites) must land in one story at once.
Two texts sharing any band key are candidates for the sink's grouping (api/sink/linking.py), and the
estimated Jaccard similarity of their MinHash values tells a near-copy apart from a new report.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
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
    return set(map(" ".join, zip(*(words[i:] for i in range(k)), strict=False)))  # the k-word windows


@functools.cache
def _constants() -> tuple[np.uint64, np.uint64, np.uint64]:
    """The prime, its exponent and the 32-bit mask as numpy scalars (numpy is imported on first use)."""
    import numpy as np

    return np.uint64(_PRIME), np.uint64(61), np.uint64(_MAX_HASH)


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
    packed = struct.pack(f"<{rows * bands}Q", *hashvalues[:rows * bands])  # one pack; each band is a slice
    width = rows * 8
    return tuple(f"{b}:{hashlib.blake2b(packed[b * width:(b + 1) * width], digest_size=6).hexdigest()}"
                 for b in range(bands))


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
    prime, bits, mask = _constants()
    hv = np.fromiter(map(zlib.crc32, map(str.encode, sh)), dtype=np.uint64, count=len(sh))
    v = np.outer(hv, a)
    v += b  # wraps modulo 2**64, as ``+`` does
    # v mod (2**61 - 1) without a division: 2**61 = 1 modulo the prime, so v = hi * 2**61 + lo is congruent to
    # hi + lo (at most prime + 7), less the prime once if it is still not below it
    r = v & prime
    r += v >> bits
    np.subtract(r, prime, out=r, where=r >= prime)
    r &= mask
    return r.min(axis=0)


_BAND_PREFIX = tuple(f"{b}:" for b in range(BANDS))


def signature(title: str, text: str) -> Signature:
    """MinHash values and band keys for one article (to store next to the enriched event).

    The band keys are :func:`band_keys` of the values, hashed from the array's own little-endian bytes (the
    bytes ``struct.pack`` would make of them, without the round trip through 64 Python ints)."""
    arr = minhash_values(title, text)
    packed = arr.astype("<u8", copy=False).tobytes()
    width = NUM_PERM // BANDS * 8
    blake = hashlib.blake2b
    bands = tuple([prefix + blake(packed[b * width:(b + 1) * width], digest_size=6).hexdigest()
                   for b, prefix in enumerate(_BAND_PREFIX)])
    return Signature(tuple(arr.tolist()), bands)
