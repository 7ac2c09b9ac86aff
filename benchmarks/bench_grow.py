"""Growing a model on the cleaned 20 Newsgroups corpus split into halves A and B (documents in
the corpus's order): A then B continued (sgns --from, gensim build_vocab(update=True)) against
A+B from scratch, and B started from A's vectors.txt (--init-vectors) against B from scratch.

Skip-gram, each trainer at its defaults as elsewhere in benchmarks/ (window 10, 5 negatives,
dimension 100, 5 epochs, min_count 1, 2 workers); the native engine for sgns. Quality is the
mean over seeds, seconds the median (a continued run's: its own, without A's); "knows A and B"
checks that the vocabulary holds every word of both halves.

    python benchmarks/bench_grow.py [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

from gensim.models import Word2Vec

import sgns
from common import newsgroups, quality

GENSIM = dict(sg=1, negative=5, window=10, vector_size=100, epochs=5, workers=2, min_count=1,
              sample=1e-3, alpha=0.025)


def sgns_runs(a, b, seed: int, folder: Path) -> dict:
    config = sgns.TrainConfig(engine="native", seed=seed)
    runs = {}
    start = time.perf_counter()
    whole = sgns.train(a + b, config, verbose=False)
    runs["sgns: A+B from scratch"] = (whole, time.perf_counter() - start)
    start = time.perf_counter()
    first = sgns.train(a, config, verbose=False)
    runs["sgns: A"] = (first, time.perf_counter() - start)
    start = time.perf_counter()
    runs["sgns: A, then B with --from A"] = (
        sgns.train(b, config, parent=first, verbose=False), time.perf_counter() - start)
    start = time.perf_counter()
    runs["sgns: B from scratch"] = (sgns.train(b, config, verbose=False),
                                    time.perf_counter() - start)
    first.save(folder / f"a-{seed}")
    start = time.perf_counter()
    runs["sgns: B with --init-vectors A/vectors.txt"] = (
        sgns.train(b, config, init_vectors=folder / f"a-{seed}" / "vectors.txt", verbose=False),
        time.perf_counter() - start)
    return {name: (result.keyed_vectors(), seconds) for name, (result, seconds) in runs.items()}


def gensim_runs(a, b, seed: int) -> dict:
    runs = {}
    start = time.perf_counter()
    runs["gensim: A+B from scratch"] = (Word2Vec(a + b, seed=seed, **GENSIM).wv,
                                        time.perf_counter() - start)
    start = time.perf_counter()
    model = Word2Vec(a, seed=seed, **GENSIM)
    runs["gensim: A"] = (copy.deepcopy(model.wv), time.perf_counter() - start)  # grows next
    start = time.perf_counter()
    model.build_vocab(b, update=True)
    model.train(b, total_examples=len(b), epochs=model.epochs)
    runs["gensim: A, then B with update=True"] = (model.wv, time.perf_counter() - start)
    start = time.perf_counter()
    runs["gensim: B from scratch"] = (Word2Vec(b, seed=seed, **GENSIM).wv,
                                      time.perf_counter() - start)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    docs = newsgroups().documents
    a, b = docs[: len(docs) // 2], docs[len(docs) // 2:]
    both = {w for d in docs for w in d}
    print(f"A: {len(a):,} documents, {sum(map(len, a)):,} tokens; B: {len(b):,} documents, "
          f"{sum(map(len, b)):,} tokens; {len(both):,} distinct words in A and B; "
          f"seeds {args.seeds}")
    sgns.train(docs[:50], sgns.TrainConfig(engine="native", epochs=1), verbose=False)  # compile
    scores: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for name, (kv, seconds) in {**sgns_runs(a, b, seed, Path(tmp)),
                                        **gensim_runs(a, b, seed)}.items():
                q = quality(kv)
                scores.setdefault(name, []).append(
                    (seconds, q["ws353"], q["simlex"], q["analogy"],
                     both <= set(kv.key_to_index)))
    print("| run | seconds | WS353 | SimLex | analogies | knows A and B |")
    print("|---|---|---|---|---|---|")
    for name, rows in scores.items():
        seconds, ws, simlex, analogy, knows = zip(*rows, strict=True)
        print(f"| {name} | {statistics.median(seconds):.1f} | {statistics.mean(ws):.3f} | "
              f"{statistics.mean(simlex):.3f} | {statistics.mean(analogy):.3f} | "
              f"{'yes' if all(knows) else 'no'} |")


if __name__ == "__main__":
    main()
