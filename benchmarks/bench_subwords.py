"""sgns --subwords against gensim's FastText on the cleaned 20 Newsgroups corpus, same recipe.

Skip-gram (or --model cbow), window 10, 5 negatives, dimension 100, sample 1e-3, 5 epochs,
2 workers (threads, for gensim and the native engine), every word kept, n-grams of 3 to 6
characters hashed into 2M buckets (fastText's
defaults). Runs alternate (gensim, sgns, gensim, ...) with seeds 1..runs. The table shows the
median training seconds, WordSim-353 and SimLex-999 on vocabulary words (means over seeds), and
the misspelling probe: 200 words seen at least 20 times, each with one inner letter dropped
(a string that is not in the vocabulary), and how often the word is among the 10 nearest
neighbours of its misspelling.

    python benchmarks/bench_subwords.py [--runs 3] [--model skipgram] [--buckets 2000000]
        [--engine native]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from gensim.models import FastText

import sgns
from common import median, newsgroups, quality


def probes(corpus, n: int = 200, seed: int = 0) -> list[tuple[str, str]]:
    """(misspelling, word) pairs: one inner letter dropped from frequent words of 6+ letters."""
    vocab = sgns.Vocabulary.build(corpus.documents)
    rng = np.random.default_rng(seed)
    frequent = [w for w, c in zip(vocab.words[1:], vocab.counts[1:], strict=True)
                if c >= 20 and len(w) >= 6]
    pairs = []
    for word in rng.permutation(frequent):
        k = int(rng.integers(1, len(word) - 1))
        typo = word[:k] + word[k + 1:]
        if typo not in vocab:
            pairs.append((typo, str(word)))
        if len(pairs) == n:
            break
    return pairs


def found(kv, pairs) -> float:
    """Share of misspellings whose word is among their 10 nearest neighbours."""
    return float(np.mean([word in {w for w, _ in kv.most_similar(typo, topn=10)}
                          for typo, word in pairs]))


def run_gensim(corpus, seed, args):
    start = time.perf_counter()
    model = FastText(corpus.documents, sg=int(args.model == "skipgram"), negative=5, window=10,
                     vector_size=100, epochs=5, workers=2, min_count=1, sample=1e-3,
                     min_n=3, max_n=6, bucket=args.buckets, seed=seed)
    return time.perf_counter() - start, model.wv


def run_sgns(corpus, seed, args):
    config = sgns.TrainConfig(engine=args.engine, model=args.model, subwords=True,
                              buckets=args.buckets, seed=seed)
    result = sgns.train(corpus, config, verbose=False)
    return result.info["train_seconds"], result.keyed_vectors()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--buckets", type=int, default=2_000_000)
    parser.add_argument("--engine", choices=("native", "keras"), default="native")
    args = parser.parse_args()
    corpus = newsgroups()
    pairs = probes(corpus)
    sgns.train(corpus.documents[:50], sgns.TrainConfig(engine="native", epochs=1,
                                                       subwords=True, buckets=100),
               verbose=False)  # numba's compile, outside the times
    names = ("gensim FastText", f"sgns {args.engine} --subwords")
    seconds = {n: [] for n in names}
    scores = {n: [] for n in names}
    for seed in range(1, args.runs + 1):
        for name, runner in zip(names, (run_gensim, run_sgns), strict=True):
            t, kv = runner(corpus, seed, args)
            seconds[name].append(t)
            scores[name].append({**quality(kv), "probe": found(kv, pairs)})
            print(f"seed {seed}: {name} {t:.1f} s", flush=True)
    base = median(seconds[names[0]])
    print(f"\n{args.model}, cleaned 20 Newsgroups, {corpus.tokens:,} tokens x 5 epochs, "
          f"{args.buckets:,} buckets; {args.runs} runs each; probe: {len(pairs)} misspellings")
    print("| trainer | seconds (median) | time vs gensim | WS353 | SimLex | misspelling -> word "
          "in top 10 |")
    print("|---|---|---|---|---|---|")
    for name in names:
        t = median(seconds[name])
        mean = {k: statistics.fmean(s[k] for s in scores[name]) for k in scores[name][0]}
        print(f"| {name} | {t:.1f} | {t / base:.2f}x | {mean['ws353']:.3f} | "
              f"{mean['simlex']:.3f} | {mean['probe']:.1%} |")


if __name__ == "__main__":
    main()
