"""The native engine's compiled loop: documents → subsampled sentence → windows → one kernel
call per center word (:mod:`sgns.engines.native.sentences`), in numba threads over runs of
documents (:func:`train_slice`).

Threads share the tables without locks (Hogwild: Recht et al., 2011), each over its own run of
documents. A run's settings travel as one :data:`LoopSettings`, its scratch as one
:data:`~sgns.engines.native.windows.Scratch`. Nothing here imports back from the driver.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit, prange

from .cache import forget_stale_compiles
from .compiler import FASTMATH, borrowed, wide_vectors
from .sentences import (
    CBOW_BLOCK,
    UPDATE_BAGS,
    UPDATE_PAIR,
    UPDATE_WINDOW,
    LoopSettings,
    bag_sentence,
    cbow_hs_sentence,
    cbow_sentence,
    skipgram_general_sentence,
    skipgram_hs_sentence,
    skipgram_sentence,
)
from .windows import WINDOW6_NEGATIVES, scratch, subsample

__all__ = ["UPDATE_BAGS", "UPDATE_PAIR", "UPDATE_WINDOW", "LoopSettings", "cbow_sentence",
           "compiled_path", "model_path", "shares_tree_top", "train_documents", "train_slice"]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts, paths):
    """The worker's scratch, sized for the longest document, the largest bag and the longest
    path."""
    longest = 0
    for doc in range(first_doc, end_doc):
        longest = max(longest, starts[doc + 1] - starts[doc])
    largest_bag = 0
    for w in range(bag_starts.shape[0] - 1):
        largest_bag = max(largest_bag, bag_starts[w + 1] - bag_starts[w])
    longest_path = 0
    for w in range(paths.starts.shape[0] - 1):
        longest_path = max(longest_path, paths.starts[w + 1] - paths.starts[w])
    return scratch(settings.window, settings.negative, input_table.shape[1], longest,
                   largest_bag, CBOW_BLOCK, longest_path)


@njit(cache=True, inline="always")
def _borrowed_arguments(input_table, output_table, ids, starts, keep, noise, paths, top,
                        bag_starts, bag_ids, state, stats):
    """A worker's arrays as views that own nothing (:func:`~.compiler.borrowed`): the caller
    holds them for the whole call, and their reference counts, shared by the threads, are
    not touched per center word."""
    return borrowed((input_table, output_table, ids, starts, keep, noise, paths, top,
                     bag_starts, bag_ids, state, stats))


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _sum_up(stats, loss, examples, dots, tokens):
    stats[0] += loss
    stats[1] += examples
    stats[2] += dots
    stats[3] += tokens


# The documents of a worker, one function a model path (skip-gram, CBOW, bags of rows), so
# that a run compiles only the path it trains: all three in one function compiled every
# path on a first run (28 s on 2 cores). Train on documents ``first_doc:end_doc``, the
# learning rate going from ``alpha_start`` to ``alpha_end`` over them; ``stats`` gets loss
# sum, examples (skip-gram pairs or CBOW windows), dot products and tokens seen.
@njit(cache=True, fastmath=FASTMATH)
def skipgram_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep,
                       noise, paths, top, settings, bag_starts, bag_ids, alpha_start, alpha_end,
                       state, stats):
    wide_vectors()
    (input_table, output_table, ids, starts, keep, noise, paths, top, bag_starts, bag_ids,
     state, stats) = _borrowed_arguments(input_table, output_table, ids, starts, keep, noise,
                                         paths, top, bag_starts, bag_ids, state, stats)
    owned = _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts,
                               paths)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen, loss, examples, dots = 0, 0.0, 0, 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        s = borrowed(owned)  # taken in the loop, so that ``owned`` lives through it
        length = subsample(ids, starts[doc], starts[doc + 1], keep, state, s.sentence)
        seen += starts[doc + 1] - starts[doc]
        done = skipgram_sentence(input_table, output_table, length, settings, noise, paths,
                                 state, alpha, s)
        loss, examples, dots = loss + done[0], examples + done[1], dots + done[2]
    _sum_up(stats, loss, examples, dots, seen)


@njit(cache=True, fastmath=FASTMATH)
def skipgram_general_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep,
                               noise, paths, top, settings, bag_starts, bag_ids, alpha_start,
                               alpha_end, state, stats):
    wide_vectors()
    (input_table, output_table, ids, starts, keep, noise, paths, top, bag_starts, bag_ids,
     state, stats) = _borrowed_arguments(input_table, output_table, ids, starts, keep, noise,
                                         paths, top, bag_starts, bag_ids, state, stats)
    owned = _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts,
                               paths)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen, loss, examples, dots = 0, 0.0, 0, 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        s = borrowed(owned)  # taken in the loop, so that ``owned`` lives through it
        length = subsample(ids, starts[doc], starts[doc + 1], keep, state, s.sentence)
        seen += starts[doc + 1] - starts[doc]
        done = skipgram_general_sentence(input_table, output_table, length, settings, noise,
                                         paths, state, alpha, s)
        loss, examples, dots = loss + done[0], examples + done[1], dots + done[2]
    _sum_up(stats, loss, examples, dots, seen)


@njit(cache=True, fastmath=FASTMATH)
def skipgram_hs_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep,
                          noise, paths, top, settings, bag_starts, bag_ids, alpha_start,
                          alpha_end, state, stats):
    wide_vectors()
    (input_table, output_table, ids, starts, keep, noise, paths, top, bag_starts, bag_ids,
     state, stats) = _borrowed_arguments(input_table, output_table, ids, starts, keep, noise,
                                         paths, top, bag_starts, bag_ids, state, stats)
    owned = _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts,
                               paths)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen, loss, examples, dots = 0, 0.0, 0, 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        s = borrowed(owned)  # taken in the loop, so that ``owned`` lives through it
        length = subsample(ids, starts[doc], starts[doc + 1], keep, state, s.sentence)
        seen += starts[doc + 1] - starts[doc]
        done = skipgram_hs_sentence(input_table, output_table, length, settings, noise, paths,
                                    top, state, alpha, s)
        loss, examples, dots = loss + done[0], examples + done[1], dots + done[2]
    _sum_up(stats, loss, examples, dots, seen)


@njit(cache=True, fastmath=FASTMATH)
def cbow_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep, noise,
                   paths, top, settings, bag_starts, bag_ids, alpha_start, alpha_end, state,
                   stats):
    wide_vectors()
    (input_table, output_table, ids, starts, keep, noise, paths, top, bag_starts, bag_ids,
     state, stats) = _borrowed_arguments(input_table, output_table, ids, starts, keep, noise,
                                         paths, top, bag_starts, bag_ids, state, stats)
    owned = _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts,
                               paths)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen, loss, examples, dots = 0, 0.0, 0, 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        s = borrowed(owned)  # taken in the loop, so that ``owned`` lives through it
        length = subsample(ids, starts[doc], starts[doc + 1], keep, state, s.sentence)
        seen += starts[doc + 1] - starts[doc]
        done = cbow_sentence(input_table, output_table, length, settings, noise, paths,
                             state, alpha, s)
        loss, examples, dots = loss + done[0], examples + done[1], dots + done[2]
    _sum_up(stats, loss, examples, dots, seen)


@njit(cache=True, fastmath=FASTMATH)
def cbow_hs_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep, noise,
                      paths, top, settings, bag_starts, bag_ids, alpha_start, alpha_end, state,
                      stats):
    wide_vectors()
    (input_table, output_table, ids, starts, keep, noise, paths, top, bag_starts, bag_ids,
     state, stats) = _borrowed_arguments(input_table, output_table, ids, starts, keep, noise,
                                         paths, top, bag_starts, bag_ids, state, stats)
    owned = _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts,
                               paths)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen, loss, examples, dots = 0, 0.0, 0, 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        s = borrowed(owned)  # taken in the loop, so that ``owned`` lives through it
        length = subsample(ids, starts[doc], starts[doc + 1], keep, state, s.sentence)
        seen += starts[doc + 1] - starts[doc]
        done = cbow_hs_sentence(input_table, output_table, length, settings, noise, paths,
                                top, state, alpha, s)
        loss, examples, dots = loss + done[0], examples + done[1], dots + done[2]
    _sum_up(stats, loss, examples, dots, seen)


@njit(cache=True, fastmath=FASTMATH)
def bag_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep, noise,
                  paths, top, settings, bag_starts, bag_ids, alpha_start, alpha_end, state,
                  stats):
    wide_vectors()
    (input_table, output_table, ids, starts, keep, noise, paths, top, bag_starts, bag_ids,
     state, stats) = _borrowed_arguments(input_table, output_table, ids, starts, keep, noise,
                                         paths, top, bag_starts, bag_ids, state, stats)
    owned = _documents_scratch(input_table, starts, first_doc, end_doc, settings, bag_starts,
                               paths)
    total = max(1, starts[end_doc] - starts[first_doc])
    seen, loss, examples, dots = 0, 0.0, 0, 0
    for doc in range(first_doc, end_doc):
        alpha = np.float32(alpha_start + (alpha_end - alpha_start) * (seen / total))
        s = borrowed(owned)  # taken in the loop, so that ``owned`` lives through it
        length = subsample(ids, starts[doc], starts[doc + 1], keep, state, s.sentence)
        seen += starts[doc + 1] - starts[doc]
        done = bag_sentence(input_table, output_table, length, settings, noise, paths,
                            state, alpha, bag_starts, bag_ids, s)
        loss, examples, dots = loss + done[0], examples + done[1], dots + done[2]
    _sum_up(stats, loss, examples, dots, seen)


# One slice of an epoch: worker ``w`` trains documents ``ranges[w, 0]:ranges[w, 1]`` in a
# thread of its own, with the random state ``states[w]``, its copy of the tree's top
# ``tops[w]`` (hierarchical softmax; none otherwise) and its sums in ``stats[w]``. (Python
# threads calling the documents' functions without the GIL would spare the 3 s of compiling
# this parallel wrapper on a first run, but trained skip-gram 8% slower: bench_ab.py.)
@njit(cache=True, parallel=True)
def skipgram_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths,
                   tops, settings, bag_starts, bag_ids, alpha_start, alpha_end, states, stats):
    for w in prange(ranges.shape[0]):
        skipgram_documents(input_table, output_table, ids, starts, ranges[w, 0], ranges[w, 1],
                           keep, noise, paths, tops[w], settings, bag_starts, bag_ids,
                           alpha_start, alpha_end, states[w], stats[w])


@njit(cache=True, parallel=True)
def skipgram_general_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths,
                           tops, settings, bag_starts, bag_ids, alpha_start, alpha_end, states,
                           stats):
    for w in prange(ranges.shape[0]):
        skipgram_general_documents(input_table, output_table, ids, starts, ranges[w, 0],
                                   ranges[w, 1], keep, noise, paths, tops[w], settings,
                                   bag_starts, bag_ids, alpha_start, alpha_end, states[w],
                                   stats[w])


@njit(cache=True, parallel=True)
def skipgram_hs_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths,
                      tops, settings, bag_starts, bag_ids, alpha_start, alpha_end, states, stats):
    for w in prange(ranges.shape[0]):
        skipgram_hs_documents(input_table, output_table, ids, starts, ranges[w, 0], ranges[w, 1],
                              keep, noise, paths, tops[w], settings, bag_starts, bag_ids,
                              alpha_start, alpha_end, states[w], stats[w])


@njit(cache=True, parallel=True)
def cbow_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths,
               tops, settings, bag_starts, bag_ids, alpha_start, alpha_end, states, stats):
    for w in prange(ranges.shape[0]):
        cbow_documents(input_table, output_table, ids, starts, ranges[w, 0], ranges[w, 1],
                       keep, noise, paths, tops[w], settings, bag_starts, bag_ids,
                       alpha_start, alpha_end, states[w], stats[w])


@njit(cache=True, parallel=True)
def cbow_hs_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths,
                  tops, settings, bag_starts, bag_ids, alpha_start, alpha_end, states, stats):
    for w in prange(ranges.shape[0]):
        cbow_hs_documents(input_table, output_table, ids, starts, ranges[w, 0], ranges[w, 1],
                          keep, noise, paths, tops[w], settings, bag_starts, bag_ids,
                          alpha_start, alpha_end, states[w], stats[w])


@njit(cache=True, parallel=True)
def bag_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths,
              tops, settings, bag_starts, bag_ids, alpha_start, alpha_end, states, stats):
    for w in prange(ranges.shape[0]):
        bag_documents(input_table, output_table, ids, starts, ranges[w, 0], ranges[w, 1],
                      keep, noise, paths, tops[w], settings, bag_starts, bag_ids,
                      alpha_start, alpha_end, states[w], stats[w])


_PATHS = {"skipgram": (skipgram_documents, skipgram_slice),
          "skipgram+general": (skipgram_general_documents, skipgram_general_slice),
          "skipgram+hs": (skipgram_hs_documents, skipgram_hs_slice),
          "cbow": (cbow_documents, cbow_slice), "cbow+hs": (cbow_hs_documents, cbow_hs_slice),
          "bags": (bag_documents, bag_slice)}


def model_path(settings: LoopSettings) -> str:
    """Which compiled path trains ``settings``: ``bags`` (subwords, either model and loss),
    else ``skipgram`` or ``cbow``, with ``+hs`` for hierarchical softmax; skip-gram with
    negative sampling pair by pair or with more than ``WINDOW6_NEGATIVES`` negatives is
    ``skipgram+general``."""
    if settings.update == UPDATE_BAGS:
        return "bags"
    if settings.cbow or settings.hs:
        return ("cbow" if settings.cbow else "skipgram") + ("+hs" if settings.hs else "")
    if settings.update == UPDATE_PAIR or settings.negative > WINDOW6_NEGATIVES:
        return "skipgram+general"
    return "skipgram"


def compiled_path(settings: LoopSettings):
    """The compiled ``(documents, slice)`` functions of the model path of ``settings``."""
    return _PATHS[model_path(settings)]


def train_documents(input_table, output_table, ids, starts, first_doc, end_doc, keep, noise,
                    paths, top, settings, bag_starts, bag_ids, alpha_start, alpha_end, state,
                    stats):
    """One worker's documents on this thread (the model path's compiled function)."""
    compiled_path(settings)[0](input_table, output_table, ids, starts, first_doc, end_doc, keep,
                               noise, paths, top, settings, bag_starts, bag_ids, alpha_start,
                               alpha_end, state, stats)


def train_slice(input_table, output_table, ids, starts, ranges, keep, noise, paths, tops,
                settings, bag_starts, bag_ids, alpha_start, alpha_end, states, stats):
    """One slice of an epoch on ``ranges.shape[0]`` threads (the model path's compiled
    function)."""
    compiled_path(settings)[1](input_table, output_table, ids, starts, ranges, keep, noise,
                               paths, tops, settings, bag_starts, bag_ids, alpha_start,
                               alpha_end, states, stats)


def shares_tree_top(settings: LoopSettings) -> bool:
    """Whether the path's kernels take the top of hierarchical softmax's tree from each
    worker's own copy (:mod:`.tree_top`): skip-gram through HogBatch windows, and CBOW."""
    return bool(settings.hs and settings.update != UPDATE_BAGS
                and (settings.cbow or settings.update == UPDATE_WINDOW))


# Before any of this module's compiled functions is loaded from numba's cache: they hold code
# from the package's other files and a constant of sgns.config, which numba does not check.
COMPILED_SOURCES = [*Path(__file__).parent.glob("*.py"), Path(__file__).parents[2] / "config.py"]
forget_stale_compiles(skipgram_documents.stats.cache_path, COMPILED_SOURCES)
