"""The native engine: its sampling tables, schedule, determinism and what training achieves."""

from pathlib import Path

import numpy as np
import pytest

from sgns.config import SPLIT_WINDOW, TrainConfig
from sgns.embeddings.vectors import to_keyed_vectors
from sgns.encoding.huffman import no_paths
from sgns.encoding.pairs import noise_distribution
from sgns.encoding.vocab import Vocabulary
from sgns.engines.base import Start
from sgns.engines.native import alias_table, initial_tables, loops, train_native, worker_ranges
from sgns.engines.native.cache import STAMP, forget_stale_compiles
from sgns.engines.native.driver import _alpha
from sgns.engines.native.kernels import (
    gradient_and_loss,
    update_bag,
    update_bag6,
    update_pair_by_pair,
    update_window,
    update_window6,
)
from sgns.engines.native.sampling import split_alias_table
from sgns.engines.native.windows import write_window


@pytest.mark.parametrize("seed", range(4))
def test_alias_table_draws_exactly_the_noise_distribution(seed):
    rng = np.random.default_rng(seed)
    counts = np.r_[0, rng.integers(1, 1000, size=200)]
    p = noise_distribution(counts, "unigram")
    accept, alias = split_alias_table(alias_table(p))
    n = len(p)
    # P(k) = (accept[k] + sum of (1 - accept[j]) over the j whose alias is k) / n
    drawn = accept + np.bincount(alias, weights=1 - accept, minlength=n)
    np.testing.assert_allclose(drawn / n, p, atol=1e-6)
    assert accept[0] == 0 or alias[0] != 0  # the padding id is never drawn


def test_learning_rate_decays_linearly_to_min_lr():
    config = TrainConfig(lr=0.05, min_lr=0.001)
    assert _alpha(config, 0.0) == pytest.approx(0.05)
    assert _alpha(config, 0.5) == pytest.approx(0.0255)
    assert _alpha(config, 1.0) == pytest.approx(0.001)
    assert _alpha(config.replace(schedule="constant"), 0.7) == pytest.approx(0.05)


def test_worker_ranges_cover_every_document_once():
    starts = np.r_[0, np.cumsum(np.random.default_rng(0).integers(1, 50, size=333))]
    ranges = worker_ranges(starts, workers=3, slices=7)
    assert ranges.shape == (7, 3, 2)
    pieces = sorted(map(tuple, ranges.reshape(-1, 2)))
    covered = np.concatenate([np.arange(a, b) for a, b in pieces])
    np.testing.assert_array_equal(np.sort(covered), np.arange(333))


def test_workers_of_a_slice_train_consecutive_pieces_not_the_same_text():
    """A slice's workers take neighbouring pieces, in corpus order; so on a corpus that
    repeats itself (20 Newsgroups x10) no two workers start a slice on the same document of
    the copy, which put two cores on the same rows at once."""
    copy = np.random.default_rng(1).integers(1, 50, size=97)
    starts = np.r_[0, np.cumsum(np.tile(copy, 10))]
    ranges = worker_ranges(starts, workers=2, slices=20)
    flat = ranges.reshape(-1, 2)
    np.testing.assert_array_equal(flat[1:, 0], flat[:-1, 1])  # in order, no gaps
    assert flat[0, 0] == 0 and flat[-1, 1] == copy.size * 10
    for first, second in ranges:
        assert first[1] == second[0]
        assert first[0] % copy.size != second[0] % copy.size


def test_initial_tables_as_word2vec():
    input_table, output_table = initial_tables(100, 20, seed=0)
    assert input_table.dtype == np.float32 and np.abs(input_table).max() <= 0.5 / 20
    assert not output_table.any()


def test_tables_and_the_kernels_scratch_start_on_cache_lines():
    """Rows of whole 64-byte lines starting on a line: no row straddles an extra line and no
    vector load of one is split (README, Engines)."""
    from sgns.encoding.tables import aligned_zeros, row_width
    from sgns.engines.native.driver import _aligned_copy, starting_tables
    from sgns.engines.native.windows import aligned_rows

    config = TrainConfig(dim=100)
    for shape in [(3, 5), (1000, 112), (70_000, 112)]:
        table = aligned_zeros(shape)
        assert table.ctypes.data % 64 == 0 and table.shape == shape and not table.any()
    assert row_width(100) * 4 % 64 == 0
    buckets = np.ones((30, 100), np.float32)
    for start in (None, Start(input_rows=np.zeros((50, 100), np.float32),
                              given=np.zeros(50, bool), bucket_rows=buckets)):
        input_table, output_table = starting_tables(50, config, 112, 80, start)
        assert input_table.ctypes.data % 64 == 0 and output_table.ctypes.data % 64 == 0
    resumed = _aligned_copy(np.arange(12, dtype=np.float32).reshape(3, 4)[1:])  # 16 bytes in
    assert resumed.ctypes.data % 64 == 0 and resumed[0, 0] == 4
    for rows, dim in [(6, 112), (20, 112), (1, 112)]:
        assert aligned_rows(rows, dim).ctypes.data % 64 == 0


def test_the_first_state_is_a_copy_made_ready_while_the_epoch_trains(topic_corpus):
    """With ``state_ahead`` the first state copy goes into arrays mapped in the background
    (README, checkpoints): it must hold the tables as they are at the end of the epoch."""
    vocab = Vocabulary.build(topic_corpus)
    config = TrainConfig(engine="native", dim=24, epochs=2, window=4, sample=0, workers=1)
    taken = []

    def hook(end):
        first, second = end.state(), end.state()  # the spare's, then a fresh copy
        taken.append((first, second))

    train_native(corpus=vocab.encode(topic_corpus), vocab=vocab, config=config, verbose=False,
                 on_epoch_end=hook, state_ahead=True)
    for first, second in taken:
        for name in ("input_table", "output_table"):
            assert first[name] is not second[name]
            np.testing.assert_array_equal(first[name], second[name])
    assert taken[0][0]["output_table"].any()  # trained rows, not the spare's zeros
    assert not np.array_equal(taken[0][0]["input_table"], taken[1][0]["input_table"])  # a copy, not a view


def _train(corpus, **changes):
    vocab = Vocabulary.build(corpus)
    settings = dict(engine="native", dim=24, epochs=4, window=4, sample=0)
    config = TrainConfig(**{**settings, **changes})
    done = train_native(corpus=vocab.encode(corpus), vocab=vocab, config=config, verbose=False)
    return vocab, (done.input_table, done.output_table, done.history, done.compile_seconds)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_one_worker_is_reproducible_bit_for_bit(topic_corpus, model):
    _, (a, a_out, history_a, _) = _train(topic_corpus, workers=1, seed=3, model=model)
    _, (b, b_out, history_b, _) = _train(topic_corpus, workers=1, seed=3, model=model)
    _, (c, _, _, _) = _train(topic_corpus, workers=1, seed=4, model=model)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a_out, b_out)
    assert [h["loss"] for h in history_a] == [h["loss"] for h in history_b]
    assert not np.array_equal(a, c)


# 10 negatives take the general window kernel, up to 7 the register-blocked one.
@pytest.mark.parametrize("model,workers,update,negative", [
    ("skipgram", 1, "window", 5), ("skipgram", 2, "window", 5), ("skipgram", 1, "pair", 5),
    ("skipgram", 1, "window", 10), ("cbow", 1, "window", 5), ("cbow", 2, "window", 5),
    ("cbow", 1, "window", 10),
])
def test_training_lowers_the_loss_and_groups_topic_words(topic_corpus, model, workers, update,
                                                         negative):
    vocab, (center, _, history, _) = _train(topic_corpus, workers=workers, seed=1, update=update,
                                            negative=negative, model=model)
    losses = [h["loss"] for h in history]
    untrained = (1 + negative) * np.log(2)  # every score is 0 at the start: log 2 per row
    # Pair by pair, the first epoch already ends near this corpus' floor (about 2.17).
    assert losses[-1] < losses[0] and losses[-1] < 0.6 * untrained
    assert all(h["tokens"] == sum(map(len, topic_corpus)) for h in history)
    kv = to_keyed_vectors(vocab.words[1:], center[1:])
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.3
    assert kv.most_similar("violin", topn=3)[0][0] in {"cello", "flute", "oboe", "trumpet", "harp"}


def test_shrunk_window_trains_on_the_expected_share_of_pairs():
    rng = np.random.default_rng(0)
    long_docs = [[f"w{k}" for k in rng.integers(0, 50, size=2000)] for _ in range(10)]
    _, (_, _, shrunk, _) = _train(long_docs, workers=1, epochs=1, window=5)
    _, (_, _, full, _) = _train(long_docs, workers=1, epochs=1, window=5, shrink_window=False)
    assert full[0]["pairs"] == pytest.approx(10 * 2000 * 10, rel=0.01)
    # Windows drawn uniformly from 1..5 give (5 + 1) / (2 * 5) of the full window's pairs.
    assert shrunk[0]["pairs"] / full[0]["pairs"] == pytest.approx(0.6, abs=0.02)


def test_subsampling_trains_on_fewer_pairs_of_frequent_words():
    docs = [["the"] * 30 + ["rare", "word"] for _ in range(50)]
    _, (_, _, plain, _) = _train(docs, workers=1, epochs=1)
    _, (_, _, sub, _) = _train(docs, workers=1, epochs=1, sample=1e-3)
    assert sub[0]["pairs"] < 0.5 * plain[0]["pairs"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _window_problem(seed, n_out=4):
    rng = np.random.default_rng(seed)
    input_table = rng.normal(0, 0.5, (12, 16)).astype(np.float32)
    output_table = rng.normal(0, 0.5, (12, 16)).astype(np.float32)
    contexts = np.array([3, 7, 3, 9, 0, 0], dtype=np.int32)  # a repeat; 4 of 6 slots used
    outputs = np.array([5, 1, 7, 11, 2, 7, 4, 8][:n_out], dtype=np.int32)  # center, negatives
    labels = np.zeros(n_out, dtype=np.float32)
    labels[0] = 1.0
    return input_table, output_table, contexts, 4, outputs, labels, n_out, np.float32(0.1)


def _hogbatch(kernel, problem):
    input_table, output_table, contexts, m, outputs, labels, n_out, alpha = problem
    if kernel == "general":
        return update_window(input_table, output_table, contexts, m, outputs, labels, n_out, alpha,
                              np.empty((6, n_out), np.float32), np.empty((n_out, 16), np.float32))
    return update_window6(input_table, output_table, contexts, m, outputs, n_out, alpha,
                          np.empty(6 * 8, np.float32), np.empty((6, 16), np.float32),
                          np.empty((6, 16), np.float32))


def _nll(f, label):
    return -np.log(_sigmoid(f)) if label else -np.log(1 - _sigmoid(f))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kernel,n_out", [("general", 1), ("general", 4), ("general", 8),
                                          ("blocked", 1), ("blocked", 5), ("blocked", 6)])
def test_window_update_is_hogbatch(seed, n_out, kernel):
    """All the window's gradients from the rows as they were, then written (Ji et al., 2016);
    the same from the general kernel and the register-blocked one."""
    problem = _window_problem(seed, n_out)
    input_table, output_table, contexts, m, outputs, labels, n_out, alpha = problem
    in_rows, out_rows = input_table[contexts[:m]].astype(float), output_table[outputs].astype(float)
    scores = in_rows @ out_rows.T
    g = (labels - _sigmoid(scores)) * alpha
    want0, want1 = input_table.astype(float), output_table.astype(float)
    np.add.at(want0, contexts[:m], g @ out_rows)
    np.add.at(want1, outputs, g.T @ in_rows)
    loss = sum(_nll(scores[j, k], labels[k]) for j in range(m) for k in range(n_out))
    got = _hogbatch(kernel, problem)
    np.testing.assert_allclose(input_table, want0, atol=2e-3)
    np.testing.assert_allclose(output_table, want1, atol=2e-3)
    assert got == pytest.approx(loss, rel=0.01)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_out", [4, 6])
def test_pair_update_follows_word2vec_order(seed, n_out):
    """word2vec.c's order: for each context word in turn, every output row is written right
    after its own gradient, and the context row after all of them; an output listed twice
    (6 outputs here: a negative drawn twice) is scored again after its first update."""
    input_table, output_table, contexts, m, outputs, labels, n_out, alpha = _window_problem(seed, n_out)
    want0, want1 = input_table.astype(float), output_table.astype(float)
    loss = 0.0
    for r in contexts[:m]:
        neu = np.zeros(16)
        for o, label in zip(outputs, labels, strict=True):
            f = want0[r] @ want1[o]
            loss += _nll(f, label)
            g = (label - _sigmoid(f)) * alpha
            neu += g * want1[o]
            want1[o] += g * want0[r]
        want0[r] += neu
    got = update_pair_by_pair(input_table, output_table, contexts, m, outputs, labels, n_out, alpha,
                              np.empty(16, np.float32), np.empty(n_out, np.float32))
    np.testing.assert_allclose(input_table, want0, atol=2e-3)
    np.testing.assert_allclose(output_table, want1, atol=2e-3)
    assert got == pytest.approx(loss, rel=0.01)
    # The two orders differ once a window has more than one context word.
    window = _window_problem(seed, n_out)
    _hogbatch("blocked", window)
    assert np.abs(window[1] - output_table).max() > 1e-3


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("kernel", "n_out"),
                         [("bag", 1), ("bag", 6), ("bag", 11), ("bag6", 1), ("bag6", 4),
                          ("bag6", 6)])
def test_cbow_update_is_word2vecs(seed, kernel, n_out):
    """word2vec's CBOW with cbow_mean=1: the hidden vector is the mean of the context rows; each
    output row is scored against it and updated in turn; every context row (a repeated one once
    per occurrence) gets the hidden vector's whole gradient. The blocked kernel for up to 6
    distinct outputs gives the same."""
    rng = np.random.default_rng(seed)
    input_table = rng.normal(0, 0.5, (14, 16)).astype(np.float32)
    output_table = rng.normal(0, 0.5, (14, 16)).astype(np.float32)
    contexts = np.array([3, 7, 3, 9, 0, 0], dtype=np.int32)  # a repeat; 4 of 6 slots used
    outputs = np.array([5, 1, 7, 11, 2, 12, 4, 8, 6, 10, 13][:n_out], dtype=np.int32)
    labels = np.zeros(n_out, dtype=np.float32)
    labels[0] = 1.0
    # Weights: an output shared by several examples with this hidden vector (fastText-direction
    # skip-gram with subwords) counts once per example; CBOW's are all 1.
    weights = rng.choice(np.array([1.0, 3.0], np.float32), n_out)
    if kernel == "bag6":
        weights[:] = 1.0  # each output counted once
    alpha, m = np.float32(0.05), 4
    want0, want1 = input_table.astype(float), output_table.astype(float)
    hidden = want0[contexts[:m]].mean(axis=0)
    neu, loss = np.zeros(16), 0.0
    for o, label, weight in zip(outputs, labels, weights, strict=True):
        f = hidden @ want1[o]
        loss += weight * _nll(f, label)
        g = (label - _sigmoid(f)) * alpha * weight
        neu += g * want1[o]
        want1[o] += g * hidden
    for r in contexts[:m]:
        want0[r] += neu
    # Padding slots past n_out hold a row that must not be touched.
    outputs = np.r_[outputs, [13] * (6 - n_out)].astype(np.int32) if kernel == "bag6" else outputs
    hidden, neu = np.empty(16, np.float32), np.empty(16, np.float32)
    if kernel == "bag6":
        got = update_bag6(input_table, output_table, contexts, m, outputs, labels, n_out, alpha, hidden, neu,
                          np.empty(16, np.float32))
    else:
        got = update_bag(input_table, output_table, contexts, m, outputs, labels, weights, n_out, alpha,
                         np.float32(1.0), hidden, neu)
    np.testing.assert_allclose(input_table, want0, atol=2e-3)
    np.testing.assert_allclose(output_table, want1, atol=2e-3)
    assert got == pytest.approx(loss, rel=0.01)


@pytest.mark.parametrize(("length", "window", "negative"),
                         [(40, 2, 1), (40, 3, 5), (75, 10, 7), (12, 4, 2), (1, 2, 1), (2, 1, 0)])
def test_cbow_sentence_updates_rows_a_block_at_a_time(length, window, negative):
    """Native CBOW over a sentence: blocks of CBOW_BLOCK centers; each window's mean of the
    context rows as the block began, scored against the center and the negatives (their rows
    written as they go, as in word2vec); every context row gets each window's whole gradient
    (a word twice in a window, twice), added at the end of the block. Blocks cut anywhere in
    the sentence, a window reaching across one, sentences shorter than a block: all the same
    against this numpy reference (full windows; the noise is one word, so draws are known, and
    it repeats)."""
    from sgns.engines.native.loops import CBOW_BLOCK, UPDATE_WINDOW, LoopSettings, cbow_sentence
    from sgns.engines.native.windows import scratch

    rng = np.random.default_rng(length + window)
    vocab, dim, noise_word, alpha = 14, 16, 13, np.float32(0.05)
    input_table = rng.normal(0, 0.5, (vocab, dim)).astype(np.float32)
    output_table = rng.normal(0, 0.5, (vocab, dim)).astype(np.float32)
    sentence = rng.integers(1, 7, length).astype(np.int32)  # few words: many repeats
    probabilities = np.zeros(vocab)
    probabilities[noise_word] = 1.0
    noise = alias_table(probabilities)
    want0, want1 = input_table.astype(float), output_table.astype(float)
    want_loss = 0.0
    for begin in range(0, length, CBOW_BLOCK):
        rows = want0.copy()  # the context rows as the block began
        for p in range(begin, min(length, begin + CBOW_BLOCK)):
            context = [q for q in range(max(0, p - window), min(length, p + window + 1))
                       if q != p]
            if not context:
                continue
            hidden = rows[sentence[context]].mean(axis=0)
            neu = np.zeros(dim)
            outputs = [(sentence[p], 1.0)] + [(noise_word, 0.0)] * negative
            # Up to 6 outputs are scored before any is written (the blocked kernel); more, one
            # after the other. The orders differ here, where the noise word repeats.
            before = want1.copy() if len(outputs) <= 6 else want1
            for o, label in outputs:
                # The kernel's own score-to-gradient lookup (its edges are tested apart), so
                # that the tables' steps do not add up over the sentence's repeats.
                g, pair_loss = gradient_and_loss(np.float32(hidden @ before[o]),
                                                 np.float32(label), alpha)
                want_loss += pair_loss
                neu += g * before[o]
                want1[o] += g * hidden
            for q in context:
                want0[sentence[q]] += neu
    work = scratch(window, negative, dim, length, 1, CBOW_BLOCK)
    work.sentence[:] = sentence
    settings = LoopSettings(window, False, negative, 1, True, UPDATE_WINDOW, False)
    loss, examples, dots = cbow_sentence(input_table, output_table, length, settings, noise,
                                         no_paths(input_table.shape[0]),
                                         np.array([7], np.uint64), alpha, work)
    np.testing.assert_allclose(input_table, want0, atol=2e-4)
    np.testing.assert_allclose(output_table, want1, atol=2e-4)
    assert examples == (length if length > 1 else 0) and dots == examples * (1 + negative)
    assert loss == pytest.approx(want_loss, rel=1e-4, abs=1e-6)


def test_cbow_trains_one_example_per_window(topic_corpus):
    """CBOW's examples are center words (with a non-empty window), not pairs."""
    _, (_, _, cbow, _) = _train(topic_corpus, workers=1, epochs=1, model="cbow")
    _, (_, _, sg, _) = _train(topic_corpus, workers=1, epochs=1)
    tokens = sum(map(len, topic_corpus))
    assert cbow[0]["pairs"] == tokens  # no subsampling here, every document has 2+ words
    assert sg[0]["pairs"] > 3 * tokens


def test_cached_compiles_are_dropped_when_any_of_the_package_sources_change(tmp_path):
    """numba checks a cached function against its own file only; the loops compile in the
    kernels from another file, so a change to any source drops the package's cache files."""
    sources = tmp_path / "native"
    sources.mkdir()
    (sources / "kernels.py").write_text("ALPHA = 1\n")
    (sources / "loop.py").write_text("def train(): pass\n")
    folder = tmp_path / "__pycache__"
    folder.mkdir()
    compiled = [folder / "loop.train-1.py311.nbi", folder / "loop.train-1.py311.1.nbc",
                folder / "kernels.update-5.py311.nbi"]
    someone_elses = folder / "other.f-1.py311.nbi"

    def compile_all():
        for path in [*compiled, someone_elses]:
            path.write_bytes(b"compiled")

    compile_all()
    assert forget_stale_compiles(folder, sources.glob("*.py"))  # no stamp yet
    assert not any(path.exists() for path in compiled) and someone_elses.exists()
    compile_all()
    assert not forget_stale_compiles(folder, sources.glob("*.py"))  # the same sources
    assert all(path.exists() for path in compiled)
    (sources / "kernels.py").write_text("ALPHA = 2\n")  # loop.py itself unchanged
    assert forget_stale_compiles(folder, sources.glob("*.py"))
    assert not any(path.exists() for path in compiled) and someone_elses.exists()
    # The engine stamps its own cache folder when it is imported.
    engine_folder = Path(loops.skipgram_documents.stats.cache_path)
    assert not forget_stale_compiles(engine_folder, loops.COMPILED_SOURCES)
    assert (engine_folder / STAMP).exists()


def _window_scratch(m, n_out, dim):
    return (np.empty(8 * m, np.float32), np.empty((max(6, n_out), dim), np.float32),
            np.empty((m, dim), np.float32),
            np.empty((m, n_out), np.float32))


def _hogbatch_window(tables, contexts, outputs, labels, alpha):
    """The window through the kernel the engine picks for its number of outputs."""
    m, n_out = len(contexts), len(outputs)
    lanes, grad_out, in_rows, scores = _window_scratch(m, n_out, tables[0].shape[1])
    if n_out <= 6:
        return update_window6(*tables, contexts, m, outputs, n_out, alpha, lanes, grad_out,
                              in_rows)
    return update_window(*tables, contexts, m, outputs, labels, n_out, alpha, scores, grad_out)


@pytest.mark.parametrize("n_out", [6, 8])
@pytest.mark.parametrize("m,before,parts", [
    (SPLIT_WINDOW, 5, [(0, 5), (5, SPLIT_WINDOW)]),  # long: before the center, then after
    (SPLIT_WINDOW + 3, 9, [(0, 9), (9, SPLIT_WINDOW + 3)]),
    (SPLIT_WINDOW - 1, 4, [(0, SPLIT_WINDOW - 1)]),  # short: at once
    (SPLIT_WINDOW, 0, [(0, SPLIT_WINDOW)]),  # at a sentence's start or end: at once
    (SPLIT_WINDOW, SPLIT_WINDOW, [(0, SPLIT_WINDOW)]),
])
def test_a_long_window_is_written_in_two_parts_split_at_its_center(m, before, parts, n_out):
    """The second part is scored against the output rows as the first part left them: the
    same as two kernel calls, one after the other, and not the same as one call (with up to 6
    outputs and with more, which take different kernels)."""
    rng = np.random.default_rng(m + before)
    input_table = rng.normal(0, 0.5, (40, 16)).astype(np.float32)
    output_table = rng.normal(0, 0.5, (40, 16)).astype(np.float32)
    contexts = rng.integers(9, 40, m).astype(np.int32)
    outputs = np.arange(1, n_out + 1, dtype=np.int32)
    labels = np.zeros(n_out, np.float32)
    labels[0] = 1.0
    alpha = np.float32(0.1)
    split = (input_table.copy(), output_table.copy())
    lanes, grad_out, in_rows, scores = _window_scratch(m, n_out, 16)
    loss = write_window(*split, contexts, m, before, outputs, labels, n_out, alpha, lanes,
                        grad_out, in_rows, scores)
    expected, once = (input_table.copy(), output_table.copy()), (input_table.copy(), output_table.copy())
    expected_loss = sum(_hogbatch_window(expected, contexts[a:b], outputs, labels, alpha)
                        for a, b in parts)
    _hogbatch_window(once, contexts, outputs, labels, alpha)
    np.testing.assert_allclose(split[0], expected[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(split[1], expected[1], rtol=1e-6, atol=1e-7)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    if len(parts) == 2:
        assert not np.allclose(split[1], once[1], rtol=1e-4, atol=1e-6)


def test_an_epoch_is_sliced_by_tokens_and_often_for_a_tree_tops_copies():
    """Slices of about SLICE_TOKENS tokens (20 Newsgroups' 0.95M: one), at least one a chunk;
    with copies of the tree's top, at least TREE_TOP_SLICES an epoch, spread over its chunks."""
    from sgns.engines.native.driver import SLICE_TOKENS, TREE_TOP_SLICES, slices_of

    assert slices_of(950_000, 950_000, tree_top=False) == 1
    assert slices_of(10, 10, tree_top=False) == 1
    assert slices_of(5 * SLICE_TOKENS, 5 * SLICE_TOKENS, tree_top=False) == 5
    assert slices_of(950_000, 950_000, tree_top=True) == TREE_TOP_SLICES
    assert slices_of(950_000, 4 * 950_000, tree_top=True) == TREE_TOP_SLICES // 4
    many = 100 * SLICE_TOKENS
    assert slices_of(many, many, tree_top=True) == 100
