"""The reference notebook's two bottlenecks against sgns, on the cleaned 20 Newsgroups corpus.

1. Pairs: Keras 2's ``skipgrams`` per document (window 10, one negative per positive) over a
   sample of documents, extrapolated to the corpus by tokens, against one epoch of sgns' pair
   stream with the same recipe.
2. Training: the notebook's loop, one ``train_on_batch`` per document on the stock Keras model
   (Adam), over a sample of documents extrapolated to the corpus, against one epoch of
   ``sgns train --preset notebook --engine keras`` (the same recipe, sparse steps).

    python benchmarks/bench_notebook.py [--sample 300]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

from bench_step import stock_model  # noqa: E402
from common import newsgroups  # noqa: E402
from sgns.config import preset  # noqa: E402
from sgns.encoding.pairs import PairStream  # noqa: E402
from sgns.encoding.vocab import Vocabulary  # noqa: E402
from sgns.engines.keras.driver import pair_config, train_keras  # noqa: E402
from sgns.text.preprocessing import skipgrams  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="documents timed per loop")
    args = parser.parse_args()
    corpus = newsgroups()
    vocab = Vocabulary.build(corpus.documents)
    encoded = vocab.encode(corpus.documents)
    docs = [encoded.document(k).tolist() for k in range(encoded.n_documents)]
    rng = np.random.default_rng(0)
    sample = rng.choice(len(docs), args.sample, replace=False)
    token_share = sum(len(docs[k]) for k in sample) / encoded.n_tokens

    start = time.perf_counter()
    batches = [skipgrams(docs[k], vocab.size, window_size=10) for k in sample]
    notebook_pairs = (time.perf_counter() - start) / token_share
    config = preset("notebook", engine="keras", epochs=1)
    start = time.perf_counter()
    n = sum(len(b[0]) for b in PairStream(encoded, vocab.counts, pair_config(config)).epoch(0))
    sgns_pairs = time.perf_counter() - start

    model = stock_model(vocab.size, 100)
    for pairs, labels in batches[:20]:  # warm-up: first shapes compile
        _fit_document(model, pairs, labels)
    start = time.perf_counter()
    for pairs, labels in batches[20:]:
        _fit_document(model, pairs, labels)
    per_doc_tokens = sum(len(docs[k]) for k in sample[20:]) / encoded.n_tokens
    notebook_epoch = (time.perf_counter() - start) / per_doc_tokens
    start = time.perf_counter()
    train_keras(corpus=encoded, vocab=vocab, config=config, verbose=False)
    sgns_epoch = time.perf_counter() - start

    print(f"cleaned 20 Newsgroups: {encoded.n_documents:,} documents, {encoded.n_tokens:,} "
          f"tokens; sgns epoch: {n:,} pairs; notebook loops timed on {args.sample} documents")
    print("| step | notebook (Keras 2 style) | sgns | speed-up |")
    print("|---|---|---|---|")
    print(f"| pairs for one epoch (window 10, 1 negative) | {notebook_pairs:.1f} s "
          f"(extrapolated) | {sgns_pairs:.2f} s | {notebook_pairs / sgns_pairs:.0f}x |")
    print(f"| one training epoch, notebook recipe | {notebook_epoch / 60:.1f} min "
          f"(extrapolated) | {sgns_epoch:.1f} s | {notebook_epoch / sgns_epoch:.0f}x |")


def _fit_document(model, pairs, labels) -> None:
    if not pairs:
        return
    pairs = np.asarray(pairs, dtype="int32")
    model.train_on_batch([pairs[:, 0], pairs[:, 1]], np.asarray(labels, dtype="float32"))


if __name__ == "__main__":
    main()
