"""The measurements behind the defaults: quality per second of candidate recipes on the cleaned
20 Newsgroups corpus (skip-gram, window 10, 5 negatives per positive, sample 1e-3, 5 epochs).

Keras engine: negatives drawn per pair by the pair stream, or shared by groups of pairs inside
the step (several group sizes). Native engine: learning rates around word2vec's 0.025, and
the pair-by-pair update order. With --model cbow: learning rates for CBOW on both engines;
with --model subwords: for subwords (skip-gram) on the Keras engine; with --model
cbow-subwords: for CBOW with subwords on the Keras engine.

    python benchmarks/bench_defaults.py [--seeds 1 2] [--model cbow|subwords|cbow-subwords]
"""

from __future__ import annotations

import argparse
import statistics

import sgns
from common import newsgroups, quality

CANDIDATES = [
    ("keras", "negatives per pair (stream), batch 4096", dict(shared_negatives=0)),
    ("keras", "256 shared by the whole batch of 4096", dict(shared_negatives=256,
                                                            shared_group=4096)),
    ("keras", "16 shared per group of 256 (default)", dict(shared_negatives=16,
                                                           shared_group=256)),
    ("keras", "16 shared per group of 256, batch 16384", dict(batch_size=16384)),
    ("native", "lr 0.018", dict(lr=0.018)),
    ("native", "lr 0.025 (default, word2vec's)", dict(lr=0.025)),
    ("native", "lr 0.030", dict(lr=0.03)),
    ("native", "lr 0.025, --update pair", dict(update="pair")),
]
CBOW_CANDIDATES = [
    ("native", "lr 0.025", dict(lr=0.025)),
    ("native", "lr 0.05 (default, word2vec's)", dict(lr=0.05)),
    ("native", "lr 0.075", dict(lr=0.075)),
    ("keras", "lr 0.05", dict(lr=0.05)),
    ("keras", "lr 0.1 (default)", dict(lr=0.1)),
    ("keras", "lr 0.2", dict(lr=0.2)),
    ("keras", "lr 0.3", dict(lr=0.3)),
]

# Subwords on the Keras engine (skip-gram): each row of a bag gets the whole gradient.
SUBWORD_CANDIDATES = [
    ("keras", "lr 0.025", dict(lr=0.025, subwords=True)),
    ("keras", "lr 0.04", dict(lr=0.04, subwords=True)),
    ("keras", "lr 0.06 (default)", dict(lr=0.06, subwords=True)),
]


# CBOW with subwords on the Keras engine: the bag is every row of the window.
CBOW_SUBWORD_CANDIDATES = [
    ("keras", "lr 0.02", dict(lr=0.02, subwords=True)),
    ("keras", "lr 0.05 (default)", dict(lr=0.05, subwords=True)),
    ("keras", "lr 0.1", dict(lr=0.1, subwords=True)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--model", choices=("skipgram", "cbow", "subwords", "cbow-subwords"),
                        default="skipgram")
    args = parser.parse_args()
    candidates = {"cbow": CBOW_CANDIDATES, "subwords": SUBWORD_CANDIDATES,
                  "cbow-subwords": CBOW_SUBWORD_CANDIDATES}.get(args.model, CANDIDATES)
    model = "cbow" if args.model.startswith("cbow") else "skipgram"
    corpus = newsgroups()
    sgns.train(corpus.documents[:50], sgns.TrainConfig(engine="native", epochs=1), verbose=False)
    print(f"{args.model}; seeds {args.seeds}; seconds are training time, quality the mean "
          "over seeds")
    print("| engine | recipe | seconds | WS353 | SimLex | analogies |")
    print("|---|---|---|---|---|---|")
    for engine, name, changes in candidates:
        seconds, scores = [], []
        for seed in args.seeds:
            config = sgns.TrainConfig(engine=engine, seed=seed, model=model, **changes)
            try:
                result = sgns.train(corpus, config, verbose=False)
            except sgns.SgnsError as exc:  # a rate too high diverges: that is a finding too
                print(f"| {engine} | {name} | diverged: {exc} |||", flush=True)
                break
            seconds.append(result.info["train_seconds"])
            scores.append(quality(result.keyed_vectors()))
        if len(scores) < len(args.seeds):
            continue
        mean = {k: statistics.fmean(s[k] for s in scores) for k in scores[0]}
        print(f"| {engine} | {name} | {statistics.median(seconds):.1f} | {mean['ws353']:.3f} | "
              f"{mean['simlex']:.3f} | {mean['analogy']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
