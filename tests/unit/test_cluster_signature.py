"""MinHash signatures: equal to what was stored before, drawn like datasketch, and cheap to import.

Why: stored article signatures and LSH band keys must keep their meaning across releases (a changed
hash family would silently stop new articles from joining old stories), and the store sink must not pay
numpy/datasketch/scipy memory just to compare two signatures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from api.sink.linking import jaccard
from enrich import cluster

SEED = (Path(__file__).resolve().parent.parent / "data" / "seed_article.txt").read_text()


def test_permutations_are_datasketchs() -> None:
    datasketch = pytest.importorskip("datasketch")
    a, b = datasketch.MinHash(num_perm=cluster.NUM_PERM, seed=cluster.SEED).permutations
    ours_a, ours_b = cluster._permutations()
    assert np.array_equal(a.astype(np.uint64), ours_a) and np.array_equal(b.astype(np.uint64), ours_b)


def test_seed_signature_is_stable() -> None:
    """Pinned values of the first release's signature of the seed article (stored rows depend on them)."""
    sig = cluster.signature("Seed", SEED)
    assert sig.minhash[:3] == (2435361, 2526087, 35402)
    assert sig.bands[0] == "0:442a2cc4de3e" and len(sig.bands) == cluster.BANDS
    assert all(isinstance(v, int) and 0 <= v < 2**32 for v in sig.minhash)


def test_empty_text_has_the_empty_signature() -> None:
    sig = cluster.signature("", "")
    assert set(sig.minhash) == {2**32 - 1} and len(sig.minhash) == cluster.NUM_PERM


def test_jaccard_estimates_share_of_equal_positions() -> None:
    lead = " ".join(SEED.split()[:60])
    a = cluster.signature("Ceasefire agreed", lead).minhash
    b = cluster.signature("Ceasefire agreed", lead + " Kyiv reacted cautiously to the news on Wednesday.").minhash
    assert jaccard(a, a) == 1.0
    assert 0.5 < jaccard(a, b) < 1.0
    assert jaccard(a, b) == sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    assert jaccard(a, a[:10]) == 0.0 and jaccard((), ()) == 0.0


def test_the_sink_path_imports_neither_numpy_nor_datasketch() -> None:
    code = ("import sys, services.db.clusters, api.sink.service; "
            "print(sorted(m for m in ('numpy', 'datasketch', 'scipy', 'spacy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]", out.stdout
