"""Phrase detection against gensim's ``Phrases`` on 20 Newsgroups ×N (default 10), the same
settings (min_count 5, threshold 10, word2vec's scorer): gensim learns the counts from the
cleaned token lists and joins the text with its frozen model; sgns finds and joins the phrases
on the scanned corpus's ids (``learn_phrases``). Runs alternate; the table shows median seconds
of each and their ratio, and whether the phrases agree. Reading and cleaning the text are left
out of both.

    python benchmarks/bench_phrases.py [--copies 10] [--runs 3] [--scoring default]
"""

from __future__ import annotations

import argparse
import os
import time

from gensim.models.phrases import Phrases

import sgns
from common import cpu, median
from sgns.encoding.ingest import scan_corpus
from sgns.encoding.phrases import PhraseSettings, learn_phrases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scoring", choices=("default", "npmi"), default="default")
    args = parser.parse_args()
    threshold = 10.0 if args.scoring == "default" else 0.5
    texts = sgns.load_20newsgroups(archive=os.environ.get("SGNS_20NEWS_ARCHIVE")) * args.copies
    cleaner = sgns.Cleaner.mode("notebook")
    documents = sgns.clean(texts, cleaner).documents
    scanned = scan_corpus(texts, cleaner)
    settings = PhraseSettings(threshold=threshold, scoring=args.scoring)
    times: dict[str, list[float]] = {"gensim": [], "sgns": []}
    for _ in range(args.runs):
        began = time.perf_counter()
        frozen = Phrases(documents, threshold=threshold, scoring=args.scoring).freeze()
        joined = [frozen[d] for d in documents]
        times["gensim"].append(time.perf_counter() - began)
        began = time.perf_counter()
        model, _ = learn_phrases(scanned, settings)
        times["sgns"].append(time.perf_counter() - began)
    same = set(model.phrases()) == set(frozen.phrasegrams)
    tokens = sum(map(len, documents))
    print(f"CPU: {cpu()}; 20 Newsgroups x{args.copies}, "
          f"{tokens / 1e6:.1f}M tokens, {len(joined):,} documents, scoring {args.scoring}")
    print("| gensim Phrases + apply s | sgns find + join s | ratio | same phrases |")
    print("|---|---|---|---|")
    g, s = median(times["gensim"]), median(times["sgns"])
    print(f"| {g:.2f} | {s:.2f} | {s / g:.3f}x | {same} ({len(model.phrases()):,}) |")


if __name__ == "__main__":
    main()
