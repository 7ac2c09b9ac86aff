"""JAX's compiled loop of steps (``steps_per_call``): several steps in one call over a stacked
batch equal the same steps one call each. (The other backends step one call at a time, so
this file is not among those tests/test_backends.py runs again under them.)"""

import keras
import numpy as np
import pytest

from sgns.model import SkipGram


def _np(variable) -> np.ndarray:
    return np.array(keras.ops.convert_to_numpy(variable.value))


def test_the_backend_is_jax():
    assert keras.backend.backend() == "jax"



@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_stacked_steps_in_one_call_equal_the_steps_one_by_one(optimizer):
    """JAX runs several steps in one compiled loop over a stacked batch; the last call's
    padding batches (all weights zero) change nothing, the step count and the negatives'
    random state included."""
    from sgns.keras_engine import _stacked, _zeros_like

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
            padding = [_zeros_like(batches[0])] * 2
            calls = [_stacked(batches[:4]), _stacked([*batches[4:], *padding])]
            model.fit((c for c in calls), steps_per_epoch=2, verbose=0)
        models.append(model)
    one, stacked = models
    assert int(_np(one.steps)) == int(_np(stacked.steps)) == 6
    np.testing.assert_array_equal(_np(one._rng.state), _np(stacked._rng.state))
    for a, b in zip(one.trainable_variables, stacked.trainable_variables, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-6)
    assert not np.allclose(_np(one.output_embedding.embeddings), 0)  # it learnt something
