"""Fit the story link rule's weights and thresholds on the dev part of the labelled stream.

Usage: ``python -m tests.eval.fit_links [--stream PATH]`` — prints ``LinkRules`` values to paste into
``api/sink/linking.py``. Only articles of ``dev`` events are used: the held-out part is never seen here.

How: every pair of dev articles inside the time window is a sample (same event or not); a logistic
regression (class-balanced, L2, plain gradient descent in numpy) weighs ``linking.features``; then the
two thresholds (``alone``, ``supported``) are chosen by grouping the dev stream with each candidate pair
and keeping the best pairwise F1 among those with pairwise precision >= 0.95 (else the best F1).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from api.sink.linking import FEATURES, LinkRules, _share_something, features, jaccard, profile_of
from tests.eval.stories import STREAM, enrich_stream, evaluate, load_stream


def samples(items: list[dict[str, Any]], events: list[Any], rules: LinkRules) -> tuple[np.ndarray, np.ndarray]:
    profs = [profile_of(e, rules) for e in events]
    xs, ys = [], []
    for i, j in itertools.combinations(range(len(items)), 2):
        a, b = profs[i], profs[j]
        if abs((a.published_at - b.published_at).total_seconds()) > rules.window_s:
            continue
        if jaccard(a.minhash, b.minhash) >= rules.near_duplicate or not _share_something(a, b, rules):
            continue  # decided before the model
        xs.append(features(a, b, rules))
        ys.append(items[i]["event"] == items[j]["event"])
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, steps: int = 20000, lr: float = 2.0) -> np.ndarray:
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    pos = max(y.mean(), 1e-9)
    sample_w = np.where(y > 0, (1 - pos) / pos, 1.0)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ ((p - y) * sample_w) / len(y) + l2 * np.r_[w[:-1], 0.0]
        w -= lr * grad
    return w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stream", type=Path, default=STREAM)
    args = ap.parse_args(argv)
    items = [it for it in load_stream(args.stream) if it["split"] == "dev"]
    events = enrich_stream(items)
    base = LinkRules()
    x, y = samples(items, events, base)
    w = fit(x, y)
    print(f"{len(y)} dev pairs in the window, {int(y.sum())} same-event")
    for name, wi in zip((*FEATURES, "intercept"), w, strict=True):
        print(f"  {name:16s} {wi:+.2f}")
    weighted = dataclasses.replace(base, weights=tuple(round(float(v), 2) for v in w))
    best: tuple[Any, ...] | None = None
    for alone, supported in itertools.product((0.8, 0.85, 0.9, 0.95, 0.97), (0.6, 0.7, 0.8, 0.9, 0.95)):
        if supported > alone:
            continue
        rules = dataclasses.replace(weighted, alone=alone, supported=supported)
        r = evaluate(items, events, rules=rules)["dev"]
        key = (r["pairwise_precision"] >= 0.95, r["pairwise_f1"])
        print(f"  alone {alone:.2f} supported {supported:.2f}: P {r['pairwise_precision']:.3f} "
              f"R {r['pairwise_recall']:.3f} F1 {r['pairwise_f1']:.3f} BCubed {r['bcubed_f1']:.3f} "
              f"cross-language R {r['cross_language_recall']:.3f}")
        if best is None or key > best[0]:
            best = (key, alone, supported)
    assert best is not None
    print(f"weights = {weighted.weights}\nalone = {best[1]}\nsupported = {best[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
