"""``--loss hs`` (hierarchical softmax) against gensim's ``hs=1, negative=0`` on the cleaned
20 Newsgroups corpus, same recipe: window 10, dimension 100, sample 1e-3, 5 epochs, 2 workers,
every word kept. Runs alternate (gensim, sgns, gensim, ...) with seeds 1..runs, through the
Python API, from the token lists in memory to the trained vectors: gensim's ``Word2Vec(...)``
call, ``sgns.train(...)``'s (vocabulary and encoding included; the kernels compiled before the
clock starts). The table shows median seconds, their ratio, and WordSim-353 and SimLex-999
means over the seeds.

    python benchmarks/bench_hs.py [--runs 3] [--models skipgram cbow]
"""

from __future__ import annotations

import argparse
import statistics
import time

from gensim.models import Word2Vec

import sgns
from common import cpu, median, newsgroups, quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["skipgram", "cbow"])
    args = parser.parse_args()
    corpus = newsgroups()
    for model in args.models:  # compile each path before any clock starts
        sgns.train(corpus.documents[:50], sgns.TrainConfig(engine="native", model=model,
                                                           loss="hs", epochs=1), verbose=False)
    print(f"CPU: {cpu()}")
    print("| model | gensim s | sgns s | ratio | WS353 gensim / sgns | SimLex gensim / sgns |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        times: dict[str, list[float]] = {"gensim": [], "sgns": []}
        scores: dict[str, list[dict]] = {"gensim": [], "sgns": []}
        for seed in range(1, args.runs + 1):
            began = time.perf_counter()
            theirs = Word2Vec(corpus.documents, sg=int(model == "skipgram"), hs=1, negative=0,
                              window=10, vector_size=100, sample=1e-3, epochs=5, workers=2,
                              min_count=1, seed=seed)
            times["gensim"].append(time.perf_counter() - began)
            scores["gensim"].append(quality(theirs.wv))
            config = sgns.TrainConfig(engine="native", model=model, loss="hs", seed=seed,
                                      workers=2)
            began = time.perf_counter()
            ours = sgns.train(corpus, config, verbose=False)
            times["sgns"].append(time.perf_counter() - began)
            scores["sgns"].append(quality(ours.keyed_vectors()))

        def mean(who, key, scores=scores):
            return statistics.mean(s[key] for s in scores[who])

        g, s = median(times["gensim"]), median(times["sgns"])
        print(f"| {model} | {g:.1f} | {s:.1f} | {s / g:.2f}x | {mean('gensim', 'ws353'):.3f} / "
              f"{mean('sgns', 'ws353'):.3f} | {mean('gensim', 'simlex'):.3f} / "
              f"{mean('sgns', 'simlex'):.3f} |", flush=True)


if __name__ == "__main__":
    main()
