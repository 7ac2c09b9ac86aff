"""Where two native workers lose time to each other, on the cleaned 20 Newsgroups, one epoch's
slices at a fixed learning rate:

- the split: each worker's half of every slice timed alone (one thread), against the two
  halves together (two threads): how even the halves are, and how much slower each worker runs
  beside the other;
- the shared rows: the two workers on the shared tables, or each on its own copy of the output
  table, of the input table, or of both (false or true sharing of rows would show as a faster
  run with copies).

    python benchmarks/bench_contention.py [--model cbow] [--loss ns] [--rounds 4]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from numba import njit, prange

from common import median, newsgroups
from sgns.config import CBOW_SHARE
from sgns.encoding.bags import identity_bags
from sgns.encoding.huffman import huffman_paths, no_paths
from sgns.encoding.pairs import keep_probabilities, noise_distribution
from sgns.encoding.tables import row_width
from sgns.encoding.vocab import Vocabulary
from sgns.engines.native import driver, loops, sampling
from sgns.engines.native.tree_top import TreeTop

SLICES = driver.SLICES_PER_EPOCH
COPIES = ("shared", "own output table", "own input table", "own both")


def two_workers(documents):
    """Two threads, each on its half of a slice through ``documents`` (a model path's compiled
    function), on the shared tables or on copies of them."""

    @njit(parallel=True)
    def run(copies, input_table, output_table, input_copies, output_copies, ids, starts, ranges,
            keep, noise, paths, tops, settings, bag_starts, bag_ids, states, stats):
        for w in prange(2):
            own_input, own_output = copies in (2, 3), copies in (1, 3)
            documents(
                input_copies[w] if own_input else input_table,
                output_copies[w] if own_output else output_table, ids, starts, ranges[w, 0],
                ranges[w, 1], keep, noise, paths, tops[w], settings, bag_starts, bag_ids, 0.025,
                0.025,
                states[w], stats[w])

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("skipgram", "cbow"), default="cbow")
    parser.add_argument("--loss", choices=("ns", "hs"), default="ns")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    corpus = newsgroups()
    vocab = Vocabulary.build(corpus.documents, min_count=1)
    encoded = vocab.encode(corpus.documents)
    keep = keep_probabilities(vocab.counts, 1e-3).astype(np.float32)
    noise = sampling.alias_table(noise_distribution(vocab.counts, "unigram"))
    width = row_width(100)
    input_table, output_table = driver.initial_tables(vocab.size, 100, 1, width)
    input_copies = np.stack([input_table, input_table])
    output_copies = np.stack([output_table, output_table])
    share = CBOW_SHARE if args.model == "cbow" else 1
    hs = args.loss == "hs"
    settings = loops.LoopSettings(10, True, 0 if hs else 5, share, args.model == "cbow",
                                  loops.UPDATE_WINDOW, hs)
    # With --loss hs, every variant keeps each worker's own copy of the tree's top, as the
    # engine does (sgns.engines.native.tree_top).
    top = TreeTop(huffman_paths(vocab.counts) if hs else no_paths(vocab.size), output_table, 2,
                  loops.shares_tree_top(settings))
    paths, tops = top.paths, top.copies
    bag_starts, bag_ids = identity_bags(vocab.size)
    _two_workers = two_workers(loops.compiled_path(settings)[0])
    ranges = driver.worker_ranges(encoded.starts, 2, SLICES)

    def states(n):
        out = np.zeros((n, driver.STATE_STRIDE), np.uint64)
        out[:, 0] = np.arange(1, n + 1) * 12345
        return out

    def alone(r):  # one worker's half of a slice, on one thread
        numba.set_num_threads(1)
        began = time.perf_counter()
        loops.train_slice(input_table, output_table, encoded.ids, encoded.starts, r, keep, noise,
                          paths, tops[:1], settings, bag_starts, bag_ids, 0.025, 0.025, states(1),
                          np.zeros((1, 4)))
        return time.perf_counter() - began

    def together(copies, r):
        numba.set_num_threads(2)
        began = time.perf_counter()
        _two_workers(copies, input_table, output_table, input_copies, output_copies, encoded.ids,
                     encoded.starts, r, keep, noise, paths, tops, settings, bag_starts, bag_ids,
                     states(2),
                     np.zeros((2, 4)))
        return time.perf_counter() - began

    alone(ranges[0][:1])
    together(0, ranges[0])  # compiles
    split = {"each half alone, summed": [], "the longer half, summed": [], "together": []}
    copies = {name: [] for name in COPIES}
    for _ in range(args.rounds):
        halves = np.array([[alone(r[:1]), alone(r[1:])] for r in ranges])
        split["each half alone, summed"].append(halves.sum())
        split["the longer half, summed"].append(halves.max(axis=1).sum())
        split["together"].append(sum(together(0, r) for r in ranges))
        for k, name in enumerate(COPIES):
            copies[name].append(sum(together(k, r) for r in ranges))
    print(f"{args.model} --loss {args.loss}, 2 workers, one epoch's {SLICES} slices, {args.rounds} rounds (medians)")
    print("| run | seconds |\n|---|---|")
    for name, values in (*split.items(), *copies.items()):
        print(f"| {name} | {median(values):.3f} |")
    longer, both = median(split["the longer half, summed"]), median(split["together"])
    print(f"\nhalves even to {median(split['each half alone, summed']) / 2 / longer:.3f} "
          f"(mean over longer); together {both / longer:.2f} times the longer half alone")


if __name__ == "__main__":
    main()
