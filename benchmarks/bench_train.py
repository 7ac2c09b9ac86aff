"""sgns against gensim's Word2Vec on the cleaned 20 Newsgroups corpus, same recipe, same run.

Skip-gram (or, with --model cbow, CBOW: gensim's sg=0 with cbow_mean=1), window 10,
5 negatives, dimension 100, sample 1e-3, 5 epochs, 2 workers; every word kept (min_count 1).
Runs alternate between the trainers (gensim, native, keras, gensim, ...) with seeds 1..runs,
and the table shows medians: training seconds (corpus already cleaned and in memory; numba's
one-off compile excluded and shown apart, as is the Keras engine's compile of its step, which
happens in every run: a line after the table gives it and the Keras times with it), words/s,
and the quality figures (WordSim-353 and SimLex-999 Spearman, Google analogy accuracy), which
are means over the seeds with their standard deviation. From one seed to the next SimLex moves
by about 0.005 to 0.009 for every trainer, so a mean over 3 seeds is uncertain by about as
much as half of a 0.01 quality margin; 8 seeds is the default.

Each trainer runs at its own default learning rate (gensim's alpha 0.025 for both models;
sgns' default for the model) unless --lr or --gensim-alpha say otherwise.

    python benchmarks/bench_train.py [--runs 8] [--engines native native-pair keras]
    python benchmarks/bench_train.py --model cbow --engines native native-share1 keras
"""

from __future__ import annotations

import argparse
import statistics
import time

from gensim.models import Word2Vec

import sgns
from common import median, newsgroups, quality


def run_gensim(corpus, seed: int, workers: int, model: str = "skipgram",
               alpha: float = 0.025) -> tuple[float, object]:
    start = time.perf_counter()
    trained = Word2Vec(corpus.documents, sg=int(model == "skipgram"), cbow_mean=1, negative=5,
                       window=10, vector_size=100, epochs=5, workers=workers, min_count=1,
                       sample=1e-3, seed=seed, alpha=alpha)
    return time.perf_counter() - start, trained.wv


def run_sgns(corpus, engine: str, seed: int, workers: int, model: str = "skipgram",
             lr: float | None = None) -> tuple[float, object, dict]:
    # "native-pair": the native engine with word2vec's pair-by-pair update order;
    # "native-share1": CBOW with fresh negatives for every center (--cbow-share 1), as word2vec.
    engine, _, variant = engine.partition("-")
    settings = {"update": "pair"} if variant == "pair" else {}
    if variant.startswith("share"):
        settings["cbow_share"] = int(variant.removeprefix("share"))
    config = sgns.TrainConfig(engine=engine, seed=seed, workers=workers, model=model, lr=lr,
                              **settings)
    result = sgns.train(corpus, config, verbose=False)
    return result.info["train_seconds"], result.keyed_vectors(), result.info


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engines", nargs="+", default=["native", "native-pair", "keras"],
                        help="sgns engines; native-pair is --engine native --update pair, "
                        "native-shareN --engine native --cbow-share N")
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--lr", type=float, default=None,
                        help="sgns' learning rate [default: the model's default]")
    parser.add_argument("--gensim-alpha", type=float, default=0.025)
    args = parser.parse_args()
    corpus = newsgroups()
    words = corpus.tokens * 5
    names = ["gensim", *[f"sgns {e}" for e in args.engines]]
    seconds = {n: [] for n in names}
    scores = {n: [] for n in names}
    neighbours = {}
    compiles = {n: [] for n in names}  # the Keras engine's, every run
    # numba compiles (or loads its cache) once per process: do it outside the timed runs.
    warm = sgns.train(corpus.documents[:50], sgns.TrainConfig(engine="native", epochs=1),
                      verbose=False)
    for seed in range(1, args.runs + 1):
        t, kv = run_gensim(corpus, seed, args.workers, args.model, args.gensim_alpha)
        seconds["gensim"].append(t)
        scores["gensim"].append(quality(kv))
        neighbours.setdefault("gensim", kv)
        for engine in args.engines:
            t, kv, info = run_sgns(corpus, engine, seed, args.workers, args.model, args.lr)
            seconds[f"sgns {engine}"].append(t)
            if engine.startswith("keras"):
                compiles[f"sgns {engine}"].append(info["compile_seconds"])
            scores[f"sgns {engine}"].append(quality(kv))
            neighbours.setdefault(f"sgns {engine}", kv)
        print(f"seed {seed}: " + ", ".join(f"{n} {seconds[n][-1]:.2f} s" for n in names),
              flush=True)

    base = median(seconds["gensim"])
    print(f"\n{args.model}, cleaned 20 Newsgroups, {corpus.tokens:,} tokens x 5 epochs; "
          f"{args.runs} runs each, sgns lr {args.lr or 'default'}, gensim alpha "
          f"{args.gensim_alpha}; "
          f"{args.workers} workers; numba compile or cache load, once per process: "
          f"{warm.info['compile_seconds']:.2f} s (not in the times)")
    print("| trainer | seconds (median) | words/s | time vs gensim | WS353 | SimLex | analogies |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        t = median(seconds[name])
        figures = " | ".join(_mean_sd([s[k] for s in scores[name]])
                             for k in ("ws353", "simlex", "analogy"))
        print(f"| {name} | {t:.2f} | {words / t / 1e3:,.0f}K | {t / base:.2f}x | {figures} |")
    for name, spent in compiles.items():
        if spent:
            whole = median([t + c for t, c in zip(seconds[name], spent, strict=True)])
            print(f"{name}: compiling its step took {median(spent):.2f} s a run (median, not in "
                  f"the times); with it, {whole:.2f} s, {whole / base:.2f}x gensim's time")
    print("\nnearest neighbours (seed 1):")
    for word in ("doctor", "police", "knife", "engine"):
        for name, kv in neighbours.items():
            print(f"| {word} | {name} | {', '.join(w for w, _ in kv.most_similar(word, topn=6))} |")


if __name__ == "__main__":
    main()
