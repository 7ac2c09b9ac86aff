"""The Keras model: the notebook's architecture, and sparse steps equal to the dense gradient.
JAX's autodiff is the oracle on every backend."""

import os

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from sgns.config import TrainConfig
from sgns.embeddings.vectors import to_keyed_vectors
from sgns.encoding.tables import uniform_rows
from sgns.encoding.vocab import Vocabulary
from sgns.engines.keras.driver import train_keras
from sgns.engines.keras.models import CBOW, SkipGram
from sgns.engines.native import initial_tables


def _np(variable) -> np.ndarray:
    """A variable's value as numpy, on any backend."""
    return np.array(keras.ops.convert_to_numpy(variable.value))


def test_the_backend_is_the_one_asked_for():
    """This file also runs under KERAS_BACKEND=tensorflow and torch (test_backends.py)."""
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "jax")


def test_the_step_ops_are_keras_ops_or_give_what_they_give():
    """On PyTorch the step calls torch directly for its frequent operations (sgns.engines.keras.torch_ops):
    the same values and dtypes as ``keras.ops``, and ``keras.ops`` itself for what it does not
    take (symbolic tensors, Python numbers, mixed dtypes). Elsewhere the step uses keras.ops."""
    import sgns.engines.keras.models

    if keras.backend.backend() != "torch":
        assert sgns.engines.keras.models.ops is keras.ops
        return
    import torch

    from sgns.engines.keras.torch_ops import TorchOps

    ours, theirs = TorchOps(), keras.ops
    assert sgns.engines.keras.models.ops.__class__ is TorchOps
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(4, 6)).astype("float32"))
    y = torch.from_numpy(rng.normal(size=(6, 3)).astype("float32"))
    ids = torch.from_numpy(rng.integers(0, 5, 12))  # int64
    small = torch.from_numpy(rng.integers(0, 5, 12).astype("int32"))
    cases = [
        ("reshape", (x, (-1, 2, 3))), ("reshape", (ids, (3, -1))), ("shape", (x,)),
        ("cast", (ids, "float32")), ("cast", (x, "int32")), ("cast", (small, "int64")),
        ("sum", (x,)), ("sum", (x, -1)), ("sum", (ids, 0)), ("sum", (x, 1, True)),
        ("einsum", ("ij,jk->ik", x, y)), ("einsum", ("ij,ij->i", x, x)),
        ("sigmoid", (x,)), ("softplus", (x,)), ("sqrt", (torch.abs(x),)), ("ones_like", (x,)),
        ("ones_like", (small,)), ("not_equal", (ids, 0)), ("minimum", (ids, 3)),
        ("minimum", (x, 0.5)), ("where", (x > 0, x, -x)), ("where", (small > 2, small, small + 1)),
        ("concatenate", ([ids, ids],)), ("concatenate", ([x, x], 1)),
        ("concatenate", ([ids, small],)), ("copy", (x,)), ("maximum", (x, 1.0)),
    ]
    for name, args in cases:
        got, want = getattr(ours, name)(*args), getattr(theirs, name)(*args)
        if name == "shape":
            assert got == want
            continue
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=name)
    copied = ours.copy(x)
    copied += 1
    assert not torch.equal(copied, x)
    symbolic = keras.KerasTensor((2, 6))
    assert ours.reshape(symbolic, (3, 4)).shape == (3, 4)
    assert ours.sum(symbolic, axis=-1).shape == (2,)


def test_summary_has_the_notebooks_tables():
    model = SkipGram(64277, 100)
    lines = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)
    assert text.count("6,427,700") == 2
    assert model.input_table.embeddings.shape == (64277, 100)
    center = np.array([1, 2], dtype="int32")
    probs = keras.ops.convert_to_numpy(model((center, center)))
    np.testing.assert_allclose(probs, 0.5)  # word2vec init: context table zero


def _batch(vocab_size, n, seed):
    rng = np.random.default_rng(seed)
    center = rng.integers(1, vocab_size, n).astype("int32")
    context = rng.integers(1, vocab_size, n).astype("int32")
    label = (rng.random(n) < 0.5).astype("float32")
    return center, context, label


def _bce(tables, center, context, label):
    x = jnp.sum(tables[0][center] * tables[1][context], axis=-1)
    return jnp.sum(jax.nn.softplus(x) - label * x)


def test_sparse_sgd_step_equals_dense_autodiff_step():
    vocab_size, dim, lr = 50, 8, 0.1
    model = SkipGram(vocab_size, dim, learning_rate=lr, init="keras", seed=3)
    model.compile()
    before = [_np(v) for v in (model.input_table.embeddings,
                                          model.output_table.embeddings)]
    # Repeated rows on purpose: their gradients must add up.
    center, context, label = _batch(vocab_size, 64, seed=0)
    center[:8] = 7
    model.fit((center, context), label, batch_size=64, epochs=1, verbose=0, shuffle=False)
    grads = jax.grad(_bce)([jnp.array(t) for t in before], center, context, label)
    np.testing.assert_allclose(_np(model.input_table.embeddings),
                               before[0] - lr * np.array(grads[0]), atol=1e-6)
    np.testing.assert_allclose(_np(model.output_table.embeddings),
                               before[1] - lr * np.array(grads[1]), atol=1e-6)


def test_lazy_adam_touches_only_the_batch_rows():
    vocab_size, dim, lr = 40, 4, 0.01
    model = SkipGram(vocab_size, dim, learning_rate=lr, optimizer="adam", init="keras", seed=1)
    model.compile()
    start = _np(model.input_table.embeddings)
    center, context, label = _batch(vocab_size, 16, seed=2)
    center[:4] = 5
    model.fit((center, context), label, batch_size=16, epochs=1, verbose=0, shuffle=False)
    after = _np(model.input_table.embeddings)
    untouched = np.setdiff1d(np.arange(vocab_size), center)
    np.testing.assert_array_equal(after[untouched], start[untouched])
    assert not np.allclose(after[np.unique(center)], start[np.unique(center)])


def test_lazy_adam_equals_keras_adam_when_the_same_rows_are_touched():
    """Two steps on one batch: every touched row sees the same gradients as under dense Adam,
    so lazy Adam must agree with Keras' own Adam there."""
    vocab_size, dim, lr = 30, 4, 0.01
    model = SkipGram(vocab_size, dim, learning_rate=lr, optimizer="adam", init="keras", seed=4)
    model.compile()
    tables = [keras.Variable(_np(v)) for v in (model.input_table.embeddings,
                                                           model.output_table.embeddings)]
    center, context, label = _batch(vocab_size, 16, seed=5)
    center[:3] = 9  # repeated rows
    model.fit((center, context), label, batch_size=16, epochs=2, verbose=0, shuffle=False)
    adam = keras.optimizers.Adam(learning_rate=lr, epsilon=1e-7)
    for _ in range(2):
        grads = jax.grad(_bce)([jnp.array(_np(t)) for t in tables], center, context, label)
        adam.apply([keras.ops.convert_to_tensor(np.array(g)) for g in grads], tables)
    for ours, reference, rows in ((model.input_table.embeddings, tables[0], center),
                                  (model.output_table.embeddings, tables[1], context)):
        touched = np.unique(rows)
        np.testing.assert_allclose(_np(ours)[touched],
                                   _np(reference)[touched], atol=1e-6)


def test_shared_negatives_use_the_noise_distribution_and_lower_the_loss(topic_corpus):
    vocab = Vocabulary.build(topic_corpus)
    config = TrainConfig(engine="keras", epochs=3, dim=16, batch_size=512, shared_negatives=4,
                         shared_group=128, sample=0, seed=0)
    done = train_keras(corpus=vocab.encode(topic_corpus), vocab=vocab, config=config,
                       verbose=False)
    center, history = done.input_table, done.history
    losses = [h["loss"] for h in history]
    assert losses[-1] < losses[0]
    # The padding row of the center table is never a center word: it keeps its initial value.
    fresh = SkipGram(vocab.size, 16, seed=0)
    np.testing.assert_array_equal(center[0], _np(fresh.input_table.embeddings)[0])


@pytest.mark.parametrize("shared", [0, 8])
def test_same_seed_same_keras_embeddings(topic_corpus, shared):
    vocab = Vocabulary.build(topic_corpus)
    config = TrainConfig(engine="keras", epochs=1, dim=8, batch_size=256,
                         shared_negatives=shared, seed=11)
    a, b = (train_keras(corpus=vocab.encode(topic_corpus), vocab=vocab, config=config,
                        verbose=False).input_table for _ in range(2))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("init", ["word2vec", "keras"])
def test_every_backend_and_the_native_engine_start_from_the_same_tables(init):
    # Drawn with numpy from the seed: this test runs on each backend, against the same numbers.
    model = SkipGram(50, 8, init=init, seed=7, row_multiple=4)  # 52 rows: 2 of padding
    center = _np(model.input_table.embeddings)
    context = _np(model.output_table.embeddings)
    assert center.shape == context.shape == (52, 8)
    if init == "word2vec":
        expected = initial_tables(50, 8, seed=7)
        assert np.abs(center).max() <= 0.5 / 8
    else:  # Keras' Embedding default: uniform in +-0.05, the output table drawn too
        expected = uniform_rows(50, 8, 10, 7), uniform_rows(50, 8, 10, 8)
        assert 0.04 < np.abs(center).max() <= 0.05 and 0.04 < np.abs(context).max() <= 0.05
    np.testing.assert_array_equal(center[:50], expected[0])
    np.testing.assert_array_equal(context[:50], expected[1])
    assert not center[50:].any() and not context[50:].any()


def _cbow_batch(vocab_size, n, width, seed):
    rng = np.random.default_rng(seed)
    window = rng.integers(1, vocab_size, (n, width)).astype("int32")
    window[rng.random((n, width)) < 0.4] = 0  # shrunk windows and document ends
    window[:, 0] = rng.integers(1, vocab_size, n)  # at least one context word each
    window[:6, 1] = window[:6, 0]  # a word twice in one window
    center = rng.integers(1, vocab_size, n).astype("int32")
    label = (rng.random(n) < 0.5).astype("float32")
    return window, center, label


def _cbow_bce(tables, window, center, label):
    mask = (window != 0)[..., None].astype(jnp.float32)
    hidden = jnp.sum(tables[0][window] * mask, axis=1) / jnp.maximum(jnp.sum(mask, axis=1), 1)
    x = jnp.sum(hidden * tables[1][center], axis=-1)
    return jnp.sum((center != 0) * (jax.nn.softplus(x) - label * x))  # center 0: padding


def _cbow_runs(topic_corpus, run, batch, seed=1):
    """A batch of the stream's runs of consecutive CBOW windows (the padding of a chunk's last
    run included), with random labels."""
    from sgns.encoding.pairs import PairConfig, PairStream

    vocab = Vocabulary.build(topic_corpus)
    config = PairConfig(window=3, negative=0, shrink_window=True, batch_size=batch, run=run,
                        model="cbow", chunk_tokens=40)
    epoch = PairStream(vocab.encode(topic_corpus), vocab.counts, config, seed=seed).epoch(0)
    window, center, _ = next(b for b in epoch if len(b[1]) == batch and (b[1] == 0).any())
    label = (np.random.default_rng(seed).random(len(center)) < 0.5).astype("float32")
    return vocab.size, window, center, label


def test_bag_models_say_what_they_need():
    from sgns.engines.keras.models import SubwordSkipGram
    from sgns.errors import SgnsError

    with pytest.raises(SgnsError, match="CBOW needs batch_size"):
        CBOW(30, 4)
    with pytest.raises(SgnsError, match="SubwordSkipGram needs shared negatives"):
        SubwordSkipGram(30, 4, window=2, batch_size=8)
    with pytest.raises(SgnsError, match=r"batch_size \(12\) must be a multiple of its run \(8\)"):
        CBOW(30, 4, batch_size=12, run=8)
    CBOW(30, 4, batch_size=8)  # CBOW's negatives may come from the stream


def test_cbow_model_is_the_mean_of_the_window_dotted_with_the_center():
    model = CBOW(30, 4, init="keras", seed=2, batch_size=8)
    window, center, _ = _cbow_batch(30, 8, 6, seed=1)
    tables = [_np(v) for v in (model.input_table.embeddings,
                                          model.output_table.embeddings)]
    mask = (window != 0)[..., None]
    hidden = (tables[0][window] * mask).sum(1) / mask.sum(1)
    want = 1 / (1 + np.exp(-(hidden * tables[1][center]).sum(-1)))
    got = keras.ops.convert_to_numpy(model((window, center[:, None])))
    np.testing.assert_allclose(got.ravel(), want, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("run", [1, 8])
def test_cbow_sparse_step_equals_dense_autodiff_step(topic_corpus, optimizer, run):
    """Window by window (any windows) and in runs of consecutive windows (the rows of a run
    gathered once, its means a banded product): the step is autodiff's of the same loss."""
    if run == 1:
        vocab_size, (window, center, label) = 40, _cbow_batch(40, 64, 6, seed=0)
    else:
        vocab_size, window, center, label = _cbow_runs(topic_corpus, run, 64)
    dim, lr = 8, 0.1
    model = CBOW(vocab_size, dim, learning_rate=lr, optimizer=optimizer, init="keras", seed=3,
                 batch_size=64, run=run)
    model.compile()
    variables = (model.input_table.embeddings, model.output_table.embeddings)
    before = [_np(v) for v in variables]
    batch = ((window, center[:, None]), label)
    model.fit((b for b in [batch]), steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
    grads = jax.grad(_cbow_bce)([jnp.array(t) for t in before], window, center, label)
    if optimizer == "sgd":
        for variable, start, grad in zip(variables, before, grads, strict=True):
            np.testing.assert_allclose(_np(variable), start - lr * np.array(grad), atol=1e-6)
        return
    # Adam's first step moves every touched row by lr * sign(gradient); others stay.
    for variable, start, grad in zip(variables, before, grads, strict=True):
        grad = np.array(grad)
        moved = np.abs(grad) > 1e-3
        np.testing.assert_allclose(_np(variable)[moved],
                                   (start - lr * np.sign(grad))[moved], atol=1e-3)
        untouched = ~np.abs(grad).any(axis=1)
        untouched[0] = False  # padding: touched with a zero gradient
        np.testing.assert_array_equal(_np(variable)[untouched], start[untouched])


def test_cbow_runs_gather_each_row_of_a_run_once(topic_corpus):
    """A run of consecutive windows reads its text once: ``run + 2 * window`` rows, the text
    from ``window`` words before its first center to ``window`` after its last (0 where no
    window reaches), against a row for every word of every window. Its bands (the products'
    matrix off JAX) put each window's shares at its words' places in that text."""
    _, window, center, _ = _cbow_runs(topic_corpus, 8, 64)
    from sgns.engines.keras.runs import bands

    model = CBOW(40, 4, batch_size=64, run=8)
    stretch, shares = model._runs(keras.ops.convert_to_tensor(window))
    stretch, bands = (keras.ops.convert_to_numpy(a) for a in (stretch, bands(shares)))
    assert stretch.shape == (8, 8 + 6) and bands.shape == (8, 8, 8 + 6)
    np.testing.assert_array_equal(stretch[:, 3:-3], center.reshape(8, 8))
    assert stretch.size < np.count_nonzero(window)
    offsets = [o for d in range(1, 4) for o in (-d, d)]
    for r in range(8):
        for i in range(8):
            slots = window[8 * r + i]
            # Window i's word in slot k is at place 3 + i + offset k of the stretch; its band
            # holds 1 / the window's length there, and nothing elsewhere.
            used = [3 + i + o for k, o in enumerate(offsets) if slots[k]]
            np.testing.assert_array_equal(stretch[r, used], slots[slots != 0])
            want = np.zeros(8 + 6, np.float32)
            want[used] = 1 / max(1, len(used))
            np.testing.assert_allclose(bands[r, i], want, atol=1e-7)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_the_step_is_compiled_on_padding_that_changes_nothing(topic_corpus, model):
    """The engine compiles the step before the first epoch's clock starts, on a batch of
    padding shaped like the first: every variable (tables, step count, the negatives' random
    state) is as it was."""
    from sgns.encoding.pairs import PairStream
    from sgns.engines.keras.batches import padded_batches
    from sgns.engines.keras.driver import _compile_step, build_model, pair_config

    vocab = Vocabulary.build(topic_corpus)
    config = TrainConfig(engine="keras", model=model, batch_size=64, dim=8, shared_negatives=4,
                         shared_group=32, seed=1).for_engine("keras")
    trained = build_model(vocab, config, total_steps=10)
    epoch = PairStream(vocab.encode(topic_corpus), vocab.counts, pair_config(config),
                       seed=1).epoch(0)
    batch = next(padded_batches([epoch], 64, stack=trained.steps_per_call))
    trained.fit((b for b in [batch]), steps_per_epoch=1, epochs=1, verbose=0)  # a real step
    state = trained.trainable_variables + trained.non_trainable_variables
    before = [_np(v) for v in state]
    assert _compile_step(trained, batch) > 0
    after = [_np(v) for v in state]
    assert len(before) == len(after) > 3
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_tensorflow_is_fed_without_tf_data_autotuning(topic_corpus):
    """README ("The Keras engine on each backend"): on TensorFlow the batches reach ``fit``
    through a tf.data pipeline with the autotuner off (with it, whole epochs ran at half speed
    at random), the same batches in the same order; the other backends take the generator
    itself."""
    from sgns.encoding.pairs import PairStream
    from sgns.engines.keras.batches import fed as feed
    from sgns.engines.keras.batches import padded_batches
    from sgns.engines.keras.driver import pair_config

    vocab = Vocabulary.build(topic_corpus)
    config = TrainConfig(engine="keras", batch_size=64, dim=8, seed=1).for_engine("keras")
    stream = PairStream(vocab.encode(topic_corpus), vocab.counts, pair_config(config), seed=1)
    want = list(padded_batches([stream.epoch(0)], 64))
    assert len(want) > 2
    given = iter(want)
    fed = feed(given, want[0])
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        assert isinstance(fed, tf.data.Dataset)
        assert fed.options().autotune.enabled is False
        got = [keras.tree.map_structure(lambda t: t.numpy(), b) for b in fed]
    else:
        assert fed is given
        got = list(fed)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        keras.tree.map_structure(np.testing.assert_array_equal, a, b)


def test_the_engine_feeds_cbow_runs_of_64_where_they_fit():
    """README (Engines): runs of 64 consecutive windows with the model's shared negatives and
    a batch of whole runs on every device; window by window otherwise."""
    from sgns.engines.keras.driver import cbow_run

    def run(devices=1, **settings):
        return cbow_run(TrainConfig(engine="keras", model="cbow", **settings)
                        .for_engine("keras"), devices)

    assert run() == 64 and run(devices=8) == 64
    assert run(shared_negatives=0) == 1  # the stream's negatives repeat windows
    assert run(batch_size=4000) == 1 and run(batch_size=64, devices=2) == 1
    assert run(subwords=True) == 1
    assert cbow_run(TrainConfig(engine="keras").for_engine("keras")) == 1  # skip-gram


def test_a_cbow_run_asked_for_is_taken_or_refused_in_one_line():
    """``cbow_run`` (``--cbow-run``) overrides the engine's choice: 1 trains window by window
    where runs of 64 would fit; a run that the batch or the negatives cannot take is an error,
    as is a run for a model without windows of input rows."""
    from sgns.engines.keras.driver import cbow_run
    from sgns.errors import SgnsError

    def run(devices=1, **settings):
        return cbow_run(TrainConfig(engine="keras", model="cbow", **settings)
                        .for_engine("keras"), devices)

    assert run(cbow_run=1) == 1 and run(cbow_run=8) == 8 and run(cbow_run=8, devices=4) == 8
    assert run(cbow_run=1, shared_negatives=0) == 1
    with pytest.raises(SgnsError, match="shared negatives"):
        run(cbow_run=64, shared_negatives=0)
    with pytest.raises(SgnsError, match="multiple of 128"):
        run(cbow_run=64, devices=2, batch_size=4032)
    for bad, message in ((dict(cbow_run=0), "cbow_run must be >= 1"),
                         (dict(cbow_run=8, model="skipgram"), "cbow_run is for CBOW"),
                         (dict(cbow_run=8, subwords=True), "cbow_run is for CBOW")):
        with pytest.raises(SgnsError, match=message):
            TrainConfig(**{"model": "cbow", **bad})


@pytest.mark.parametrize("shared", [0, 8])
def test_keras_cbow_groups_topic_words(topic_corpus, shared):
    vocab = Vocabulary.build(topic_corpus)
    # A vocabulary of 24 words repeats each word dozens of times per batch, whose gradients add
    # up: the 20 Newsgroups default rate (0.1) is too high here (see the README's limits).
    config = TrainConfig(engine="keras", model="cbow", epochs=4, dim=16, window=4, lr=0.05,
                         batch_size=256, shared_negatives=shared, shared_group=64, sample=0,
                         seed=1)
    done = train_keras(corpus=vocab.encode(topic_corpus), vocab=vocab, config=config,
                       verbose=False)
    center, history = done.input_table, done.history
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[0]["pairs"] == sum(map(len, topic_corpus))  # one example per window
    kv = to_keyed_vectors(vocab.words[1:], center[1:])
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.3


def test_several_steps_per_call():
    """README (Engines): 32 steps per call on TensorFlow (Keras' steps_per_execution), 16 over
    a stacked batch on JAX (one compiled loop) and PyTorch."""
    from sgns.engines.keras.driver import build_model

    vocab = Vocabulary(["a", "b", "c"], [3, 2, 1])
    model = build_model(vocab, TrainConfig(engine="keras", dim=4).for_engine("keras"), 10)
    backend = keras.backend.backend()
    assert model.steps_per_execution == (32 if backend == "tensorflow" else 1)
    assert model.steps_per_call == (1 if backend == "tensorflow" else 16)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_stacked_steps_in_one_call_equal_the_steps_one_by_one(optimizer):
    """A call can run several steps over a stacked batch (JAX in one compiled loop, the others
    one after the other); the last call's padding batches (all weights zero) change nothing,
    the step count and the negatives' random state included."""
    from sgns.engines.keras.batches import stacked, zeros_like

    rng = np.random.default_rng(0)
    vocab_size, batch = 50, 64
    noise = np.full(vocab_size, 1 / vocab_size)
    batches = [((rng.integers(1, vocab_size, batch).astype("int32"),
                 rng.integers(1, vocab_size, batch).astype("int32")),
                np.ones(batch, "float32"), np.ones(batch, "float32")) for _ in range(6)]
    models = []
    for per_call in (1, 4):
        model = SkipGram(vocab_size, 8, noise=noise, shared=4, group=32, seed=5, learning_rate=0.1,
                         optimizer=optimizer, batch_size=batch, steps_per_call=per_call)
        model.compile()
        if per_call == 1:
            model.fit((b for b in batches), steps_per_epoch=6, verbose=0)
        else:
            padding = [zeros_like(batches[0])] * 2
            calls = [stacked(batches[:4]), stacked([*batches[4:], *padding])]
            model.fit((c for c in calls), steps_per_epoch=2, verbose=0)
        models.append(model)
    one, stacked = models
    assert int(_np(one.steps)) == int(_np(stacked.steps)) == 6
    np.testing.assert_array_equal(_np(one._rng.state), _np(stacked._rng.state))
    for a, b in zip(one.trainable_variables, stacked.trainable_variables, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-6)
    assert not np.allclose(_np(one.output_table.embeddings), 0)  # it learnt something


@pytest.mark.parametrize("devices,given,model,expected", [
    (["cpu:0"], None, {}, 4096), (["gpu:0"], None, {}, 32768), (["gpu:0"], 512, {}, 512),
    # CBOW and subwords diverged at 32768 (a step sums its examples' gradients)
    (["gpu:0"], None, {"model": "cbow"}, 4096),
    (["gpu:0"], None, {"subwords": True, "buckets": 1000, "lr": 0.01}, 4096),
])
def test_the_default_batch_suits_the_device(monkeypatch, topic_corpus, devices, given, model,
                                            expected):
    import importlib

    import sgns

    # What Keras sees decides only the default batch (the steps still run on this CPU).
    monkeypatch.setattr(importlib.import_module("sgns.engines.keras.backend"), "keras_devices",
                        lambda: devices)
    config = TrainConfig(engine="keras", epochs=1, dim=8, batch_size=given, **model)
    result = sgns.train(topic_corpus, config, verbose=False)
    assert result.info["params"]["batch_size"] == expected
    assert result.info["engine"] == "keras" and result.info["devices"] == devices


def test_tensorflow_never_asks_xla_for_the_step(monkeypatch):
    """Keras turns XLA on where TensorFlow sees a GPU, and XLA cannot compile lazy Adam's unique
    rows: the model keeps TensorFlow's graphs even then. On JAX the step stays jit-compiled."""
    from sgns.engines.keras.driver import build_model

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        class FakeGPU:
            device_type, name = "GPU", "/physical_device:GPU:0"

        seen = tf.config.list_physical_devices()
        monkeypatch.setattr(tf.config, "list_physical_devices", lambda *a: [*seen, FakeGPU()])
    vocab = Vocabulary.build([["a", "b", "c"]] * 3)
    config = TrainConfig(engine="keras", optimizer="adam", shared_negatives=0,
                         batch_size=8).for_engine("keras")
    model = build_model(vocab, config, total_steps=1)
    assert model.jit_compile is {"tensorflow": False, "jax": True, "torch": False}[
        keras.backend.backend()]


def test_the_linear_decay_is_keras_polynomial_decay_of_power_one():
    """word2vec's rate, from lr down to min_lr over the run's steps, then min_lr: the same as
    Keras' PolynomialDecay(power=1), which it replaces (fewer operations a step)."""
    from sgns.engines.keras.driver import LinearDecay

    ours = LinearDecay(0.025, 0.0001, 1000)
    keras_own = keras.optimizers.schedules.PolynomialDecay(0.025, 1000, 0.0001, power=1.0)
    for step in (0, 1, 499, 500, 999, 1000, 1001, 10**6):
        got = float(keras.ops.convert_to_numpy(ours(keras.ops.convert_to_tensor(step, "int32"))))
        want = float(keras.ops.convert_to_numpy(keras_own(step)))
        assert got == pytest.approx(want, rel=1e-5, abs=1e-9), step
    assert LinearDecay.from_config(ours.get_config()).get_config() == ours.get_config()


def test_the_reported_loss_is_the_weighted_mean_over_the_epochs_pairs():
    """The epoch's loss is the sum of the pairs' weighted cross-entropies over the sum of
    their weights, accumulated over the steps (a rate of 0 keeps the tables as they start)."""
    model = SkipGram(20, 4, learning_rate=0.0, init="keras", seed=3)
    model.compile()
    rng = np.random.default_rng(0)
    batches = [((rng.integers(1, 20, 8).astype("int32"), rng.integers(1, 20, 8).astype("int32")),
                rng.integers(0, 2, 8).astype("float32"), rng.uniform(0.5, 2, 8).astype("float32"))
               for _ in range(2)]
    c, o = _np(model.input_table.embeddings), _np(model.output_table.embeddings)
    total = weight = 0.0
    for (center, context), label, w in batches:
        x = (c[center].astype(float) * o[context]).sum(axis=1)
        total += float((w * (np.logaddexp(0, x) - label * x)).sum())
        weight += float(w.sum())
    history = model.fit((b for b in batches), steps_per_epoch=2, epochs=1, verbose=0)
    assert history.history["loss"][-1] == pytest.approx(total / weight, rel=1e-5)


@pytest.mark.parametrize("accelerated,cores,expected", [
    (False, 16, 1), (False, 2, 1), (True, 16, 4), (True, 3, 2), (True, 1, 1)])
def test_the_pair_stream_gets_threads_where_a_device_trains(monkeypatch, accelerated, cores,
                                                             expected):
    """One thread makes the examples on a CPU (its cores train); up to 4 where Keras sees a
    GPU or TPU, a core left over; the engine's pair config carries the count."""
    import importlib

    from sgns.engines.keras.driver import pair_config, stream_threads

    backend = importlib.import_module("sgns.engines.keras.backend")
    monkeypatch.setattr(backend, "keras_accelerated", lambda: accelerated)
    monkeypatch.setattr(backend, "cores", lambda: cores)
    assert stream_threads() == expected
    assert pair_config(TrainConfig(engine="keras").for_engine("keras")).threads == expected
