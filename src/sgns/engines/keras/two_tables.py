"""What the Keras engine's models share: the two tables, shared negatives, and the sparse steps
(JAX stateless, TensorFlow and PyTorch in place), in backend-neutral ops.

Training overrides ``train_step`` so that a step touches only the rows in its batch: the stock
``Embedding`` gradient is a dense V x d array and a stock optimizer then updates every row of
both tables, which makes a step cost O(vocabulary) instead of O(batch). ``model.fit`` still
drives training (callbacks, progress bar, history).

Optionally each step also draws ``shared`` negatives from the noise distribution for each group
of ``group`` rows, shared by the positive examples of that group (as sampled losses such as
TensorFlow's ``nce_loss`` share them by batch) and weighted ``negative / shared`` each: the
expected gradient is that of ``negative`` negatives per positive, computed as small matrix
products instead of ``negative`` gathers per example.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from ...config import INITS, OPTIMIZERS
from ...encoding.tables import uniform_rows
from ...errors import SgnsError
from .exchange import exchanged
from .sparse import (
    adam_scale,
    add_in_place,
    gather,
    lazy_adam,
    scatter_add,
    scatter_set,
    step_of,
    subtract_unique,
)

if keras.backend.backend() == "torch":  # the eager step without Keras' dispatch
    from .torch_ops import ops  # noqa: F811


class TwoTableModel(keras.Model):
    """What the models share: the two tables, shared negatives, and the sparse steps (JAX
    stateless, TensorFlow/PyTorch in place). A model says how its input ids make the hidden
    vector (``_hidden``) and where the hidden vector's gradient goes (``_input_updates``).

    Args:
        vocab_size: rows of each table, the reserved row 0 included.
        dim: embedding dimension.
        learning_rate: a float or a ``keras.optimizers.schedules.LearningRateSchedule`` of the
            step number.
        optimizer: ``"sgd"`` (word2vec's plain steps on the touched rows) or ``"adam"`` (lazy Adam,
            Kingma & Ba 2015, with moments kept for the touched rows only).
        noise: probabilities of drawing each id as a shared negative (needed when ``shared > 0``).
        shared: negatives drawn per group of rows, shared by the group (0: none).
        group: rows per group sharing negatives.
        negative: weight of the shared negatives, in negatives per positive.
        init: ``"word2vec"`` (center uniform in +-0.5/dim, context zeros) or ``"keras"`` (both
            Keras' default uniform in +-0.05, as in the notebook).
        seed: seeds the initial tables and the shared negatives.
        batch_size: rows per step, when every step has the same number (the engine pads the
            last batch): TensorFlow traces the step with an unknown batch dimension, and the
            groups of shared negatives need a number.
        input_rows: rows of the input table, when it holds more than the words (subwords).
        row_multiple: both tables get rows of zeros past their last row up to a multiple of
            this, never read (``--shard-tables`` splits the rows evenly across devices). The
            real rows start the same whatever the padding.
        steps_per_call: steps that one call runs over a stacked batch: on JAX in one compiled
            loop (a ``lax.scan``, see ``_jax_train_step``), elsewhere one after the other;
            steps whose weights are all zero (the padding of the last call) change nothing,
            the step count included.
    """

    pairs_per_example = 1  # (hidden vector, output) pairs an example makes

    table_names = ("input_table", "output_table")

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        *,
        learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 0.025,
        optimizer: str = "sgd",
        noise: np.ndarray | None = None,
        shared: int = 0,
        group: int = 256,
        negative: float = 5.0,
        init: str = "word2vec",
        seed: int | None = None,
        batch_size: int | None = None,
        input_rows: int | None = None,
        row_multiple: int = 1,
        steps_per_call: int = 1,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if optimizer not in OPTIMIZERS:
            raise SgnsError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        if init not in INITS:
            raise SgnsError(f"init must be one of {INITS}, got {init!r}")
        if shared and noise is None:
            raise SgnsError("shared negatives need a noise distribution")
        self.vocab_size, self.dim, self.batch_size = vocab_size, dim, batch_size
        self.steps_per_call = steps_per_call
        self.learning_rate = learning_rate
        self.sparse_optimizer = optimizer
        self.shared, self.group, self.negative = shared, max(1, group), negative
        input_name, output_name = self.table_names
        self.table_rows = (input_rows or vocab_size, vocab_size)  # the real rows
        padded = [-(-rows // row_multiple) * row_multiple for rows in self.table_rows]
        # Drawn with numpy, so that every backend (and the native engine) starts the same.
        if init == "word2vec":
            center_init = StartRows(self.table_rows[0], dim, seed)
            context_init = "zeros"
        else:  # Keras' Embedding default, uniform in +-0.05
            center_init = StartRows(self.table_rows[0], 10, seed)
            context_init = StartRows(vocab_size, 10, None if seed is None else seed + 1)
        self.input_table = layers.Embedding(
            padded[0], dim, embeddings_initializer=center_init, name=input_name,
        )
        self.output_table = layers.Embedding(
            padded[1], dim, embeddings_initializer=context_init, name=output_name,
        )
        self.dot = layers.Dot(axes=-1, name="dot")
        self.sigmoid = layers.Activation("sigmoid", name="sigmoid")
        self.loss_tracker = LossMean(name="loss")
        self.input_table.build((None,))
        self.output_table.build((None,))
        self.dot.build([(None, dim), (None, dim)])
        self.steps = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="steps"
        )
        self._noise_cdf = None
        if shared:
            cdf = np.cumsum(np.asarray(noise, dtype=np.float64))
            self._noise_cdf = self.add_weight(
                shape=(vocab_size,), trainable=False, name="noise_cdf", dtype="float32",
                initializer=keras.initializers.Constant((cdf / cdf[-1]).astype(np.float32)),
            )
            self._rng = keras.random.SeedGenerator(seed, name="negatives")
        if optimizer == "adam":
            # One pair of moment tables per table, each of that table's size (with subwords
            # the input table also holds the n-gram buckets).
            self._moments = [
                self.add_weight(shape=(rows, dim), initializer="zeros", trainable=False,
                                name=f"{table}_{moment}")
                for table, rows in zip(("input_table", "output_table"), padded, strict=True)
                for moment in ("m", "v")
            ]
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker]

    def compile(self, **kwargs) -> None:  # the sparse step needs no Keras optimizer or loss
        kwargs.setdefault("optimizer", keras.optimizers.SGD())
        kwargs.setdefault("loss", None)
        super().compile(**kwargs)

    def current_learning_rate(self, step):
        """The schedule's rate at ``step`` as a float32 tensor, or a constant rate as a Python
        float (which every backend multiplies as float32; converting it took about 30 us a
        step on PyTorch)."""
        if callable(self.learning_rate):
            return ops.cast(self.learning_rate(step), "float32")
        return float(self.learning_rate)

    # -- the update, in backend-neutral ops ------------------------------------------------------
    def _prepared(self, inputs):
        """What a step works out from its input ids once, for both ``_hidden`` and
        ``_input_updates`` (PyTorch, which runs every operation as it comes, would otherwise
        do it twice): by default the ids themselves."""
        return inputs

    def _hidden(self, table, inputs):
        """The hidden vectors ``(batch, dim)`` from the input table and the batch's input ids."""
        raise NotImplementedError

    def _input_updates(self, inputs, grad_hidden):
        """``(rows, grads)``: the input rows to update and their gradients, from the hidden
        vectors' gradients."""
        raise NotImplementedError

    def _pairs(self, outputs, label, weight):
        """The batch's outputs, labels and weights, one per (hidden vector, output) pair."""
        return outputs, label, weight

    def _gradients(self, c, o, label, weight, negatives, scale=1.0):
        """Loss gradients for the gathered rows, times ``scale``: center rows ``c``, context
        rows ``o``, shared negative rows ``negatives`` (or None). Returns (grad_c, grad_o,
        grad_n, loss), ``loss`` each pair's share of the loss (summed by the caller). SGD
        passes ``-lr`` as the scale, so that the step's rows come out ready to add (one
        product of a vector, instead of one of each ``(batch, d)`` matrix, on the backends
        that run every operation as it comes)."""
        x = ops.sum(c * o, axis=-1)
        # d/dx of the weighted binary cross-entropy of sigmoid(x) against the label.
        dx = (weight * scale) * (ops.sigmoid(x) - label)
        grad_c = dx[:, None] * o
        grad_o = dx[:, None] * c
        loss = weight * (ops.softplus(x) - label * x)
        grad_n = None
        if negatives is not None:
            from_negatives, grad_n, negative_loss = self._against_negatives(
                c, weight * label, negatives, scale)
            grad_c, loss = grad_c + from_negatives, loss + negative_loss
        return grad_c, grad_o, grad_n, loss

    def _against_negatives(self, hidden, share, negatives, scale=1.0):
        """Hidden vectors against shared negatives: the rows are split into groups, each with
        its own negatives, ``(groups, per group, d)``, and row i counts ``share[i]`` times
        (times ``negative`` over the negatives per group). Returns the hidden vectors'
        gradients and the negatives' gradients, times ``scale``, and each row's negative
        loss."""
        groups, per_group = ops.shape(negatives)[0], ops.shape(negatives)[1]
        hg = ops.reshape(hidden, (groups, -1, self.dim))
        share = ops.reshape(share * (self.negative / per_group), (groups, -1, 1))
        xn = ops.einsum("gbd,gkd->gbk", hg, negatives)
        dxn = (share * scale) * ops.sigmoid(xn)
        return (ops.reshape(ops.einsum("gbk,gkd->gbd", dxn, negatives), (-1, self.dim)),
                ops.einsum("gbk,gbd->gkd", dxn, hg),
                ops.reshape(ops.sum(share * ops.softplus(xn), axis=-1), (-1,)))

    def _negative_shape(self, batch) -> tuple[int, int]:
        """``(groups, negatives per group)`` for a batch of ``batch`` pairs."""
        return self._groups(batch), self.shared

    def _groups(self, batch) -> int:
        """How many groups of about ``group`` rows a batch splits into evenly."""
        if not isinstance(batch, int):  # traced with an unknown batch dimension (TensorFlow)
            if self.batch_size is None:
                raise SgnsError("shared negatives on this backend need the model's batch_size")
            batch = self.batch_size * self.pairs_per_example
        groups = max(1, batch // self.group)
        while batch % groups:
            groups -= 1
        return groups

    def _draw_negatives(self, noise_cdf, uniform):
        """Ids from the noise distribution, one for each of the flat vector ``uniform`` of
        numbers in [0, 1) (flat, as TensorFlow's searchsorted wants them), by its inverse CDF."""
        ids = ops.searchsorted(noise_cdf, uniform, side="right")
        return ops.cast(ops.minimum(ids, self.vocab_size - 1), "int32")

    # -- JAX: Keras' stateless train_step, jit-compiled with the state donated -----------------
    def _jax_train_step(self, state, data):
        """One step, or with ``steps_per_call`` > 1 that many, over a stacked batch whose
        arrays are ``(batch, steps, ...)`` (batch first, so that a distribution splits the
        batch), in one compiled loop: one call, one dispatch and one wait for several steps."""
        if self.steps_per_call == 1:
            return self._jax_step(state, data)
        import jax
        import jax.numpy as jnp

        state = tuple(list(part) for part in state)
        steps = jax.tree.map(lambda a: jnp.moveaxis(a, 1, 0), data)

        def step(carry, batch):
            _, carry = self._jax_step(carry, batch)
            return tuple(list(part) for part in carry), None

        state, _ = jax.lax.scan(step, state, steps)
        return {"loss": self.loss_tracker.stateless_result(state[3])}, state

    def _jax_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_vars, metric_vars = state
        non_trainable = list(non_trainable)
        (inputs, context), label, weight = keras.utils.unpack_x_y_sample_weight(data)
        weight = ops.ones_like(label) if weight is None else weight
        context, label, weight = self._pairs(context, label, weight)
        nt = {id(v): i for i, v in enumerate(self.non_trainable_variables)}
        tr = {id(v): i for i, v in enumerate(self.trainable_variables)}
        order = [tr[id(layer.embeddings)]
                 for layer in (self.input_table, self.output_table)]
        tables = [trainable[i] for i in order]
        step = non_trainable[nt[id(self.steps)]]
        lr = self.current_learning_rate(step)

        inputs = self._prepared(inputs)
        c = self._hidden(tables[0], inputs)
        o = gather(tables[1], context)
        negatives, neg_ids = None, None
        if self.shared:
            rng_index = nt[id(self._rng.state)]
            # The seed generator's state is a raw uint32[2] key: split it, keep one half.
            key, draw = jax.random.split(non_trainable[rng_index])
            noise_cdf = non_trainable[nt[id(self._noise_cdf)]]
            groups, per_group = self._negative_shape(context.shape[0])
            neg_ids = self._draw_negatives(noise_cdf,
                                           jax.random.uniform(draw, (groups * per_group,)))
            negatives = ops.reshape(tables[1][neg_ids], (groups, per_group, self.dim))
        sgd = self.sparse_optimizer == "sgd"
        grad_c, grad_o, grad_n, loss = self._gradients(c, o, label, weight, negatives,
                                                       -lr if sgd else 1.0)
        updates = [self._input_updates(inputs, grad_c), (context, grad_o)]
        if negatives is not None and sgd:
            updates.append((neg_ids, ops.reshape(grad_n, (-1, self.dim))))
        updates, (loss, weight_sum) = exchanged(updates, (loss, weight))
        (input_rows, input_grads), *context_updates = updates

        if sgd:  # the gradients are the steps (scaled by -lr)
            tables[0] = tables[0].at[input_rows].add(input_grads)
            context_rows = ops.concatenate([rows for rows, _ in context_updates])
            context_grads = ops.concatenate([grads for _, grads in context_updates])
            tables[1] = tables[1].at[context_rows].add(context_grads)
        else:
            scale = adam_scale(lr, ops.cast(step + 1, "float32"))
            moments = [nt[id(m)] for m in self._moments]
            for k, (rows, grads) in enumerate(((input_rows, input_grads), *context_updates)):
                m_i, v_i = moments[2 * k], moments[2 * k + 1]
                unique, step_rows, m_rows, v_rows = lazy_adam(
                    non_trainable[m_i], non_trainable[v_i], rows, grads, scale)
                tables[k] = tables[k].at[unique].add(-step_rows)
                non_trainable[m_i] = non_trainable[m_i].at[unique].set(m_rows)
                non_trainable[v_i] = non_trainable[v_i].at[unique].set(v_rows)
        # A step of padding only (the end of a stacked call) counts for nothing.
        taken = weight_sum > 0
        non_trainable[nt[id(self.steps)]] = step + ops.cast(taken, "int32")
        if self.shared:
            non_trainable[rng_index] = ops.where(taken, key, non_trainable[rng_index])
        metric_vars = self.loss_tracker.stateless_update_state(metric_vars, loss, weight_sum)
        logs = {"loss": self.loss_tracker.stateless_result(metric_vars)}
        trainable = list(trainable)
        for i, table in zip(order, tables, strict=True):
            trainable[i] = table
        return logs, (trainable, non_trainable, optimizer_vars, metric_vars)

    # -- TensorFlow and PyTorch: the same update on the variables in place ---------------------
    def _eager_train_step(self, data):
        (inputs, context), label, weight = keras.utils.unpack_x_y_sample_weight(data)
        weight = ops.ones_like(label) if weight is None else weight
        context, label, weight = self._pairs(context, label, weight)
        # Each variable's backend handle, read once: on PyTorch every ``.value`` goes through
        # Keras' scope checks (22 reads a step took about 7% of a notebook-preset step in a
        # profile).
        steps = self.steps.value
        lr = self.current_learning_rate(steps)
        center_table = self.input_table.embeddings.value
        context_table = self.output_table.embeddings.value
        inputs = self._prepared(inputs)
        c = self._hidden(center_table, inputs)
        o = gather(context_table, context)
        negatives, neg_ids = None, None
        weight_sum = ops.sum(weight)
        if self.shared:
            key = ops.copy(self._rng.state.value)  # kept when the step is padding only
            groups, per_group = self._negative_shape(ops.shape(context)[0])
            uniform = keras.random.uniform((groups * per_group,), seed=self._rng)
            neg_ids = self._draw_negatives(self._noise_cdf.value, uniform)
            negatives = ops.reshape(gather(context_table, neg_ids),
                                    (groups, per_group, self.dim))
        sgd = self.sparse_optimizer == "sgd"
        grad_c, grad_o, grad_n, loss = self._gradients(c, o, label, weight, negatives,
                                                       -lr if sgd else 1.0)
        input_rows, input_grads = self._input_updates(inputs, grad_c)
        if sgd:  # the gradients are the steps (scaled by -lr)
            scatter_add(center_table, input_rows, input_grads)
            scatter_add(context_table, context, grad_o)
            if negatives is not None:
                scatter_add(context_table, neg_ids, ops.reshape(grad_n, (-1, self.dim)))
        else:
            scale = adam_scale(lr, ops.cast(steps + 1, "float32"))
            updates = ((center_table, input_rows, input_grads), (context_table, context, grad_o))
            for k, (table, rows, grads) in enumerate(updates):
                m, v = self._moments[2 * k].value, self._moments[2 * k + 1].value
                unique, step_rows, m_rows, v_rows = lazy_adam(m, v, rows, grads, scale)
                subtract_unique(table, unique, step_rows)
                scatter_set(m, unique, m_rows)
                scatter_set(v, unique, v_rows)
        # A step of padding only (the end of a stacked call) counts for nothing.
        taken = weight_sum > 0
        # The counters are added to in place through their handles: Keras' ``assign_add``
        # converts and checks its argument, and these three took about 10% of a PyTorch
        # notebook-preset step that way (cProfile).
        add_in_place(steps, ops.cast(taken, "int32"))
        if self.shared:
            self._rng.state.assign(ops.where(taken, self._rng.state.value, key))
        add_in_place(self.loss_tracker.total.value, ops.cast(ops.sum(loss), "float32"))
        add_in_place(self.loss_tracker.weight.value, ops.cast(weight_sum, "float32"))

    def train_step(self, *args):
        backend = keras.backend.backend()
        if backend == "jax":
            return self._jax_train_step(*args)
        if backend == "torch":  # gradients in closed form: autograd would only record
            import torch

            with torch.no_grad():
                return self._stepwise(*args)
        return self._stepwise(*args)

    def _stepwise(self, data):
        """TensorFlow and PyTorch: one step, or the steps of a stacked batch one after the
        other in one call of Keras' loop (``steps_per_call``)."""
        if self.steps_per_call == 1:
            self._eager_train_step(data)
        else:
            for k in range(self.steps_per_call):
                self._eager_train_step(step_of(data, k))
        return {"loss": self.loss_tracker.result()}  # once a call: Keras reads it per call


class LossMean(keras.metrics.Metric):
    """The loss per unit of weight since the epoch began, from each step's sums: Keras'
    ``Mean`` less its general weighting, which on PyTorch, where every operation runs as it
    comes, measured about 100 us a step (5% of the notebook preset's step); this takes two
    additions."""

    def __init__(self, name: str = "loss") -> None:
        super().__init__(name=name)
        self.total = self.add_variable((), initializer="zeros", name="total")
        self.weight = self.add_variable((), initializer="zeros", name="weight")

    def update_state(self, loss_sum, weight_sum) -> None:
        self.total.assign_add(ops.cast(loss_sum, "float32"))
        self.weight.assign_add(ops.cast(weight_sum, "float32"))

    def result(self):
        return self.total / ops.maximum(self.weight, 1e-30)


class StartRows(keras.initializers.Initializer):
    """:func:`~sgns.encoding.tables.uniform_rows` for the first ``rows`` rows, zeros past them (the
    padding that sharded tables need)."""

    def __init__(self, rows: int, scale: float, seed: int | None) -> None:
        self.rows, self.scale, self.seed = rows, scale, seed

    def __call__(self, shape, dtype=None):
        table = uniform_rows(self.rows, shape[1], self.scale, self.seed, total_rows=shape[0])
        return ops.convert_to_tensor(table, dtype=dtype)

    def get_config(self) -> dict:
        return {"rows": self.rows, "scale": self.scale, "seed": self.seed}
