"""Reading, cleaning, counting and encoding a corpus: sgns' compiled scanner against the Python
cleaner it replaced and against polars (a multi-threaded column engine, the other candidate),
on the raw 20 Newsgroups text repeated (one document a line), with the notebook's cleaning.
Each does the same work: tokens, stop words, the short-document rule, counts, a vocabulary
ranked by count, the corpus as int32 ids. Median of 3, alternating.

A second table starts from token lists already in memory (the cleaned corpus repeated, as
``sgns.train(list_of_token_lists)`` gets them): counted and encoded by ``Vocabulary.build``
and ``encode`` (Counter and dict lookups), and by ``scanned_documents`` (the compiled
interner), which ``sgns.train`` uses. Median of 5, alternating.

    python benchmarks/bench_ingest.py [--copies 10]     # polars: pip install polars
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import sgns
from common import median
from sgns.encoding.ingest import scan_corpus
from sgns.encoding.token_lists import scanned_documents


def with_sgns(path: Path) -> int:
    scanned = scan_corpus(path, sgns.Cleaner.mode("notebook"))
    return scanned.encode(scanned.vocabulary()).n_tokens


def with_python(path: Path) -> int:
    corpus = sgns.clean(sgns.read_text_corpus(path), sgns.Cleaner.mode("notebook"))
    return sgns.Vocabulary.build(corpus.documents).encode(corpus.documents).n_tokens


def with_polars(path: Path) -> int:
    import polars as pl

    stop = sorted(sgns.english_stop_words())
    lines = pl.read_csv(path, has_header=False, separator="\x1f", quote_char=None,
                        new_columns=["text"], schema_overrides={"text": pl.Utf8})
    tokens = (lines.lazy().with_row_index("doc")
              .select("doc", pl.col("text").str.replace_all("[^a-zA-Z]", " ")
                      .str.split(" ").alias("token"))
              .explode("token")
              .filter(pl.col("token").str.len_bytes() >= 4)
              .with_columns(pl.col("token").str.to_lowercase())
              .filter(~pl.col("token").is_in(stop)))
    kept = tokens.group_by("doc").len().filter(pl.col("len") >= 2).select("doc")
    tokens = tokens.join(kept, on="doc", how="semi").collect()
    vocab = (tokens.group_by("token", maintain_order=True).len()
             .sort("len", descending=True, maintain_order=True)
             .with_row_index("id", offset=1))
    ids = tokens.join(vocab.select("token", "id"), on="token", how="left", maintain_order="left")
    return int(ids["id"].cast(pl.Int32).to_numpy().astype(np.int32).size)


def token_lists(documents: list[list[str]]) -> None:
    def python() -> int:
        return sgns.Vocabulary.build(documents).encode(documents).n_tokens

    def interner() -> int:
        scanned = scanned_documents(documents)
        return scanned.encode(scanned.vocabulary()).n_tokens

    seconds: dict[str, list[float]] = {"Vocabulary.build + encode": [],
                                       "scanned_documents (interner)": []}
    for _ in range(5):
        for name, run in zip(seconds, (python, interner), strict=True):
            start = time.perf_counter()
            n = run()
            seconds[name].append(time.perf_counter() - start)
    print(f"\ntoken lists in memory: {len(documents):,} documents, {n:,} tokens; median of 5")
    print("| counted and encoded by | seconds | tokens/s |")
    print("|---|---|---|")
    for name, times in seconds.items():
        print(f"| {name} | {median(times):.3f} | {n / median(times) / 1e6:.1f}M |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    docs = sgns.load_20newsgroups(archive=os.environ.get("SGNS_20NEWS_ARCHIVE"))
    raw = "".join(" ".join(d.split()) + "\n" for d in docs)
    engines = {"sgns (numba scanner)": with_sgns, "Python (re, dict)": with_python}
    try:
        import polars  # noqa: F401

        engines["polars"] = with_polars
    except ImportError:
        print("(polars is not installed: pip install polars to compare it)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.txt"
        path.write_text(raw * args.copies)
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        tokens = {}
        for _ in range(3):
            for name, run in engines.items():
                start = time.perf_counter()
                tokens[name] = run(path)
                seconds[name].append(time.perf_counter() - start)
        size = path.stat().st_size
    print(f"\n20 Newsgroups raw text x{args.copies} ({size / 1e6:.0f} MB), the notebook's "
          f"cleaning, {os.cpu_count()} cores; median of 3")
    print("| reader | seconds | tokens encoded | tokens/s | MB/s |")
    print("|---|---|---|---|---|")
    for name, times in seconds.items():
        s = median(times)
        print(f"| {name} | {s:.2f} | {tokens[name]:,} | {tokens[name] / s / 1e6:.1f}M | "
              f"{size / s / 1e6:.0f} |")
    token_lists(sgns.clean(docs).documents * args.copies)


if __name__ == "__main__":
    main()
