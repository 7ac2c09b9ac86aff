"""The two-table word2vec models as ``keras.Model`` s, trained with sparse updates: ``SkipGram``
(the notebook's model) and its sibling ``CBOW``.

Both are an input table and an output table: a hidden vector is made from input rows (skip-gram:
the center word's row; CBOW: the mean of the window's rows), dotted with an output row, then a
sigmoid. ``SkipGram.call`` is the notebook's model: center table, context table, dot product,
sigmoid. Training
overrides ``train_step`` so that a step touches only the rows in its batch: the stock
``Embedding`` gradient is a dense V x d array and a stock optimizer then updates every row of both
tables, which makes a step cost O(vocabulary) instead of O(batch). ``model.fit`` still drives
training (callbacks, progress bar, history).

A batch is ``((inputs, output), label, weight)``: ``(center, context)`` ids for skip-gram;
``(window, center)`` for CBOW, where ``window`` is a padded matrix of context ids (0 is
padding); for the subword models, bags of input rows laid end to end with the example each
belongs to, and the outputs. Optionally each step also draws ``shared`` negatives from the
noise distribution for each group of ``group`` rows, shared by the positive examples of that
group (as sampled losses such as TensorFlow's ``nce_loss`` share them by batch) and weighted
``negative / shared`` each:
the expected gradient is that of ``negative`` negatives per positive, computed as small matrix
products instead of ``negative`` gathers per example.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import layers, ops

from .config import INITS, OPTIMIZERS
from .errors import SgnsError
from .tables import uniform_rows

if keras.backend.backend() == "torch":  # the eager step without Keras' dispatch
    from .torch_ops import ops  # noqa: F811


class _TwoTables(keras.Model):
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

    table_names = ("input_embedding", "output_embedding")

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
            center_init = _StartRows(self.table_rows[0], dim, seed)
            context_init = "zeros"
        else:  # Keras' Embedding default, uniform in +-0.05
            center_init = _StartRows(self.table_rows[0], 10, seed)
            context_init = _StartRows(vocab_size, 10, None if seed is None else seed + 1)
        self.input_embedding = layers.Embedding(
            padded[0], dim, embeddings_initializer=center_init, name=input_name,
        )
        self.output_embedding = layers.Embedding(
            padded[1], dim, embeddings_initializer=context_init, name=output_name,
        )
        self.dot = layers.Dot(axes=-1, name="dot")
        self.sigmoid = layers.Activation("sigmoid", name="sigmoid")
        self.loss_tracker = _LossMean(name="loss")
        self.input_embedding.build((None,))
        self.output_embedding.build((None,))
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
                for table, rows in zip(("center", "context"), padded, strict=True)
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
                 for layer in (self.input_embedding, self.output_embedding)]
        tables = [trainable[i] for i in order]
        step = non_trainable[nt[id(self.steps)]]
        lr = self.current_learning_rate(step)

        inputs = self._prepared(inputs)
        c = self._hidden(tables[0], inputs)
        o = _gather(tables[1], context)
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
        updates, (loss, weight_sum) = _exchanged(updates, (loss, weight))
        (input_rows, input_grads), *context_updates = updates

        if sgd:  # the gradients are the steps (scaled by -lr)
            tables[0] = tables[0].at[input_rows].add(input_grads)
            context_rows = ops.concatenate([rows for rows, _ in context_updates])
            context_grads = ops.concatenate([grads for _, grads in context_updates])
            tables[1] = tables[1].at[context_rows].add(context_grads)
        else:
            scale = _adam_scale(lr, ops.cast(step + 1, "float32"))
            moments = [nt[id(m)] for m in self._moments]
            for k, (rows, grads) in enumerate(((input_rows, input_grads), *context_updates)):
                m_i, v_i = moments[2 * k], moments[2 * k + 1]
                unique, step_rows, m_rows, v_rows = _lazy_adam(
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
        center_table = self.input_embedding.embeddings.value
        context_table = self.output_embedding.embeddings.value
        inputs = self._prepared(inputs)
        c = self._hidden(center_table, inputs)
        o = _gather(context_table, context)
        negatives, neg_ids = None, None
        weight_sum = ops.sum(weight)
        if self.shared:
            key = ops.copy(self._rng.state.value)  # kept when the step is padding only
            groups, per_group = self._negative_shape(ops.shape(context)[0])
            uniform = keras.random.uniform((groups * per_group,), seed=self._rng)
            neg_ids = self._draw_negatives(self._noise_cdf.value, uniform)
            negatives = ops.reshape(_gather(context_table, neg_ids),
                                    (groups, per_group, self.dim))
        sgd = self.sparse_optimizer == "sgd"
        grad_c, grad_o, grad_n, loss = self._gradients(c, o, label, weight, negatives,
                                                       -lr if sgd else 1.0)
        input_rows, input_grads = self._input_updates(inputs, grad_c)
        if sgd:  # the gradients are the steps (scaled by -lr)
            _scatter_add(center_table, input_rows, input_grads)
            _scatter_add(context_table, context, grad_o)
            if negatives is not None:
                _scatter_add(context_table, neg_ids, ops.reshape(grad_n, (-1, self.dim)))
        else:
            scale = _adam_scale(lr, ops.cast(steps + 1, "float32"))
            updates = ((center_table, input_rows, input_grads), (context_table, context, grad_o))
            for k, (table, rows, grads) in enumerate(updates):
                m, v = self._moments[2 * k].value, self._moments[2 * k + 1].value
                unique, step_rows, m_rows, v_rows = _lazy_adam(m, v, rows, grads, scale)
                _subtract_unique(table, unique, step_rows)
                _scatter_set(m, unique, m_rows)
                _scatter_set(v, unique, v_rows)
        # A step of padding only (the end of a stacked call) counts for nothing.
        taken = weight_sum > 0
        # The counters are added to in place through their handles: Keras' ``assign_add``
        # converts and checks its argument, and these three took about 10% of a PyTorch
        # notebook-preset step that way (cProfile).
        _add_in_place(steps, ops.cast(taken, "int32"))
        if self.shared:
            self._rng.state.assign(ops.where(taken, self._rng.state.value, key))
        _add_in_place(self.loss_tracker.total.value, ops.cast(ops.sum(loss), "float32"))
        _add_in_place(self.loss_tracker.weight.value, ops.cast(weight_sum, "float32"))

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
                self._eager_train_step(_step_of(data, k))
        return {"loss": self.loss_tracker.result()}  # once a call: Keras reads it per call


class SkipGram(_TwoTables):
    """Skip-gram with negative sampling: ``sigmoid(center[w] . context[c])``, the notebook's
    model. Inputs are ``(center, context)`` id vectors. Arguments: see :class:`_TwoTables`."""

    table_names = ("center_embedding", "context_embedding")

    @property
    def center_embedding(self) -> layers.Embedding:
        return self.input_embedding

    @property
    def context_embedding(self) -> layers.Embedding:
        return self.output_embedding

    def call(self, inputs):
        center, context = inputs
        score = self.dot([self.center_embedding(center), self.context_embedding(context)])
        return self.sigmoid(score)

    def _hidden(self, table, inputs):
        return _gather(table, inputs)

    def _input_updates(self, inputs, grad_hidden):
        return inputs, grad_hidden


class SubwordSkipGram(_TwoTables):
    """fastText's skip-gram (Bojanowski et al., 2017): the mean of the center word's bag of
    input rows (its own row and its character n-grams' bucket rows) predicts each word of its
    window, ``sigmoid(mean(input[bag]) . output[context])``.

    Inputs are ``((rows, owner), window)``: the batch's bags laid end to end (``rows``, row 0
    where unused; ``owner[t]`` the example whose bag holds ``rows[t]``, from
    :func:`sgns.subwords.flat_bags`) and a ``(batch, 2 * window)`` matrix of the context ids
    (0 where the window is shorter, masked). The bag's mean is taken once per example and
    scored against every context word and the shared negatives. As in fastText (and the
    native engine), every row of the bag gets the hidden vector's whole gradient
    (``whole_gradient``); with ``whole_gradient=False`` each gets its share, as autodiff of the
    mean gives, which on 20 Newsgroups learnt far too slowly at a rate that does not diverge
    (WordSim-353 -0.02 after an epoch, against 0.18). Needs ``batch_size`` (the step's
    examples) and shared negatives (the CBOW models, one output an example, may also take
    their negatives from the stream). Arguments: see :class:`_TwoTables`, plus ``window``,
    the context words on each side."""

    def __init__(self, vocab_size: int, dim: int, *, window: int,
                 whole_gradient: bool = True, **kwargs) -> None:
        super().__init__(vocab_size, dim, **kwargs)
        self.pairs_per_example = max(1, 2 * window)
        # With several outputs an example's negatives are shared (see _gradients); with one
        # (CBOW) they may also come from the stream, as examples of their own.
        if self.batch_size is None:
            raise SgnsError(f"{type(self).__name__} needs batch_size (the step's examples)")
        if self.pairs_per_example > 1 and not self.shared:
            raise SgnsError(f"{type(self).__name__} needs shared negatives")
        self.whole_gradient = whole_gradient

    def call(self, inputs):
        bags, window = inputs
        hidden = self._bag_means(self.input_embedding.embeddings, *self._prepared(bags))
        scores = ops.einsum("bd,bwd->bw", hidden, self.output_embedding(window))
        return self.sigmoid(scores)

    def _shares(self, rows, owner):
        """Each slot's weight in its bag's mean: 1 / the bag's size, 0 where unused."""
        used = ops.cast(ops.not_equal(rows, 0), "float32")
        sizes = _segment_sum(used, owner, self.batch_size)
        return used / ops.maximum(ops.take(sizes, owner, axis=0), 1.0)

    def _prepared(self, inputs):
        rows, owner = inputs
        return rows, owner, self._shares(rows, owner)

    def _bag_means(self, table, rows, owner, shares):
        weighted = _gather(table, rows) * shares[:, None]
        return _segment_sum(weighted, owner, self.batch_size)

    def _hidden(self, table, inputs):
        # One hidden vector per (example, window slot) pair, as _pairs lays the outputs out.
        return ops.repeat(self._bag_means(table, *inputs), self.pairs_per_example, axis=0)

    def _negative_shape(self, batch) -> tuple[int, int]:
        """Groups of whole examples share negatives (an example's pairs share its hidden
        vector, so its negatives are scored once): the group nearest ``group`` pairs that
        splits the batch evenly, with ``shared`` negatives per ``group`` pairs."""
        if not isinstance(batch, int):  # traced with an unknown batch dimension (TensorFlow)
            batch = self.batch_size * self.pairs_per_example
        per = self.pairs_per_example
        examples = batch // per
        size = min((d for d in range(1, examples + 1) if examples % d == 0),
                   key=lambda d: abs(d * per - self.group))
        return examples // size, max(1, round(self.shared * size * per / self.group))

    def _gradients(self, c, o, label, weight, negatives, scale=1.0):
        """The positive pairs as skip-gram's; the negatives once per example, not once per
        pair: with the example's hidden vector ``h`` and the sum ``n`` of its pairs' shares,
        ``n * sigmoid(h . x)`` is what its pairs' terms add up to, at 1/(2 * window) of the
        cost. The example's negative terms are put on its first pair, whose gradient
        :meth:`_input_updates` sums with the others'."""
        grad_c, grad_o, _, loss = super()._gradients(c, o, label, weight, None, scale)
        if negatives is None:
            return grad_c, grad_o, None, loss
        per = self.pairs_per_example
        hidden = ops.reshape(c, (-1, per, self.dim))[:, 0]  # the same for all of its pairs
        share = ops.sum(ops.reshape(weight * label, (-1, per)), axis=1)
        from_negatives, grad_n, negative_loss = self._against_negatives(hidden, share, negatives,
                                                                        scale)
        first = ops.reshape(ops.cast(ops.equal(ops.arange(per), 0), "float32"), (1, per, 1))
        grad_c = grad_c + ops.reshape(from_negatives[:, None, :] * first, (-1, self.dim))
        loss = loss + ops.reshape(negative_loss[:, None] * first[..., 0], (-1,))
        return grad_c, grad_o, grad_n, loss

    def _pairs(self, outputs, label, weight):
        used = ops.cast(ops.not_equal(outputs, 0), "float32")
        return (ops.reshape(outputs, (-1,)), ops.reshape(used * label[:, None], (-1,)),
                ops.reshape(used * weight[:, None], (-1,)))

    def _input_updates(self, inputs, grad_hidden):
        rows, owner, shares = inputs
        per_example = ops.sum(ops.reshape(grad_hidden, (-1, self.pairs_per_example, self.dim)),
                              axis=1)
        if self.whole_gradient:
            shares = ops.cast(ops.not_equal(rows, 0), "float32")
        grads = ops.take(per_example, owner, axis=0) * shares[:, None]
        return rows, grads


class SubwordCBOW(SubwordSkipGram):
    """fastText's CBOW (Bojanowski et al., 2017): the mean of all the window's input rows, each
    context word's own row and its n-grams' rows together, predicts the center word,
    ``sigmoid(mean(input[bag]) . output[center])``. Inputs are ``((rows, owner), center)``:
    the window's bags laid end to end per example (:func:`sgns.subwords.window_bags`) and a
    ``(batch, 1)`` matrix of the center ids. The same step as :class:`SubwordSkipGram`, with
    one output word per example: every row of the bag gets the hidden vector's whole gradient,
    as in fastText and the native engine."""

    def __init__(self, vocab_size: int, dim: int, **kwargs) -> None:
        super().__init__(vocab_size, dim, window=0, **kwargs)  # one output word per example


class CBOW(SubwordCBOW):
    """word2vec's continuous bag of words with negative sampling (Mikolov et al., 2013):
    ``sigmoid(mean(input[window]) . output[center])``, the CBOW model of the fastText family
    (:class:`SubwordCBOW`) whose bags are single rows: each context word is its own row.

    Inputs are ``(window, center)``: a ``(batch, 2 * window)`` matrix of context ids (columns
    ``2(d-1)`` and ``2d-1`` hold the words ``d`` places left and right of the center; 0 where
    the window is shorter, masked) and a ``(batch, 1)`` matrix of the center ids. Each
    context row gets its share of the hidden vector's gradient (divided by the window's length,
    as fastText does and as autodiff of the mean gives): word2vec's native loop gives every row
    the whole gradient, one window at a time, but a batch adds up the gradients of a word over
    all the windows it is in, and the whole gradient then diverges.

    With ``run`` > 1 the batch must be runs of that many consecutive windows of one text, as
    the pair stream makes them (``PairConfig.run``): the word ``d`` places right of window
    ``i``'s center is the center of window ``i + d``. Neighbouring windows then share most of
    their rows, and the step gathers each of a run's ``run + 2 * window`` rows once, takes
    every window's mean as a product with a banded matrix of the windows' shares, and
    scatter-adds each row's gradient, summed over the windows it is in, once: on 20 Newsgroups
    about 1.3 row operations a window for runs of 64, against 10.5 (its mean length) window by
    window. A batch whose windows are not consecutive gets wrong means: use ``run=1``.
    Needs ``batch_size`` (windows per step, a multiple of ``run``). Arguments: see
    :class:`_TwoTables`."""

    def __init__(self, vocab_size: int, dim: int, *, run: int = 1, **kwargs) -> None:
        super().__init__(vocab_size, dim, whole_gradient=False, **kwargs)
        if run < 1 or self.batch_size % run:
            raise SgnsError(f"CBOW's batch_size ({self.batch_size}) must be a multiple of its "
                            f"run ({run})")
        self.run = run

    def call(self, inputs):
        window, center = inputs  # any windows: window by window
        rows, owner = ops.reshape(window, (-1,)), self._owners(window)
        table = self.input_embedding.embeddings
        hidden = self._bag_means(table, rows, owner, self._shares(rows, owner))
        scores = ops.einsum("bd,bwd->bw", hidden,
                            self.output_embedding(ops.reshape(center, (-1, 1))))
        return self.sigmoid(scores)

    def _pairs(self, outputs, label, weight):
        # A window of none (the padding of a run) counts for nothing: its center is 0.
        outputs = ops.reshape(outputs, (-1,))
        used = ops.cast(ops.not_equal(outputs, 0), "float32")
        return outputs, used * label, used * weight

    def _owners(self, window):
        """For each slot of the flattened window matrix, its window."""
        width = ops.shape(window)[1]
        return ops.repeat(ops.arange(ops.shape(window)[0], dtype="int32"), width)

    def _prepared(self, window):
        if self.run == 1:  # the bags of the window matrix's slots
            return super()._prepared((ops.reshape(window, (-1,)), self._owners(window)))
        stretch, shares = self._runs(window)
        return stretch, shares, None if keras.backend.backend() == "jax" else _bands(shares)

    def _hidden(self, table, prepared):
        if self.run == 1:
            return super()._hidden(table, prepared)
        stretch, shares, bands = prepared
        hidden = _run_sums(shares, _gather(table, stretch), bands)
        return ops.reshape(hidden, (-1, self.dim))

    def _input_updates(self, prepared, grad_hidden):
        if self.run == 1:
            return super()._input_updates(prepared, grad_hidden)
        stretch, shares, bands = prepared
        grads = _run_spread(shares, ops.reshape(grad_hidden, (-1, self.run, self.dim)), bands)
        return ops.reshape(stretch, (-1,)), ops.reshape(grads, (-1, self.dim))

    def _runs(self, window):
        """``(stretch, shares)``: each run's text, ``(runs, run + 2 * width)`` ids from
        ``width`` words before its first center to ``width`` after its last (0 where no window
        of the run reaches), and ``shares[r, i, k]``, the share of slot ``k`` of run ``r``'s
        window ``i`` in its mean."""
        width = ops.shape(window)[1] // 2
        windows = ops.reshape(window, (-1, self.run, 2 * width))
        column = _run_layout(self.run, width)[1]
        # Every id of the stretch sits in the windows that reach it (the others hold 0 there).
        slots = ops.concatenate([ops.reshape(windows, (-1, self.run * 2 * width)),
                                 ops.zeros_like(windows[:, 0, :1])], axis=1)
        stretch = ops.max(ops.take(slots, column, axis=1), axis=-1)
        used = ops.cast(ops.not_equal(windows, 0), "float32")
        return stretch, used / ops.maximum(ops.sum(used, axis=-1, keepdims=True), 1.0)


def _run_offsets(width: int) -> list[int]:
    """Where each slot of a CBOW window lies from its center: -1, 1, -2, 2, ..."""
    return [o for d in range(1, width + 1) for o in (-d, d)]


def _run_sums(shares, rows, bands=None):
    """Each window's weighted sum of the rows of its run's stretch: ``(runs, run, dim)`` from
    ``shares`` ``(runs, run, 2 * width)`` and ``rows`` ``(runs, run + 2 * width, dim)``.
    Without ``bands``, one shifted slice of the rows a slot, which XLA fuses into one loop (JAX:
    0.9 ms both ways for a step of 4,096 windows on this CPU, against 2.1 as a product); with
    the ``bands`` of :func:`_bands`, one batched matrix product (PyTorch 1.5 and TensorFlow
    2.7 ms, against 4.7 and 12.6 as slices, each an operation of its own there)."""
    run, slots = ops.shape(shares)[1], ops.shape(shares)[2]
    width = slots // 2
    if bands is None:
        return sum(shares[:, :, k, None] * rows[:, width + o: width + o + run]
                   for k, o in enumerate(_run_offsets(width)))
    return ops.einsum("rsp,rpd->rsd", bands, rows)


def _run_spread(shares, grads, bands=None):
    """The transpose of :func:`_run_sums`: each row of the stretch gets the sum of the windows'
    ``grads`` times its shares in them, ``(runs, run + 2 * width, dim)``."""
    run, slots = ops.shape(shares)[1], ops.shape(shares)[2]
    width = slots // 2
    if bands is None:
        # Window i reaches row p = width + i + offset: row p gets window p - width - offset's.
        padded_grads = ops.pad(grads, ((0, 0), (2 * width, 2 * width), (0, 0)))
        padded_shares = ops.pad(shares, ((0, 0), (2 * width, 2 * width), (0, 0)))
        length = run + 2 * width
        return sum(padded_shares[:, width - o: width - o + length, k, None]
                   * padded_grads[:, width - o: width - o + length]
                   for k, o in enumerate(_run_offsets(width)))
    return ops.einsum("rsp,rsd->rpd", bands, grads)


def _bands(shares):
    """``bands[r, i, p]``: the share of row ``p`` of run ``r``'s stretch in window ``i``'s mean
    (the shares put in place: a gather of static indices)."""
    runs, run, slots = ops.shape(shares)[0], ops.shape(shares)[1], ops.shape(shares)[2]
    place = _run_layout(run, slots // 2)[0]
    flat = ops.concatenate([ops.reshape(shares, (runs, run * slots)),
                            ops.zeros((runs, 1), shares.dtype)], axis=1)
    return ops.reshape(ops.take(flat, place, axis=1), (runs, run, -1))


@functools.lru_cache(maxsize=16)
def _run_layout(run: int, width: int):
    """Static indices for runs of ``run`` windows of ``width`` words a side, into a run's
    flattened ``(run, 2 * width)`` slots followed by one zero: ``place[i * length + p]``, the
    slot of window ``i`` that is position ``p`` of the run's stretch (of ``length`` positions;
    the zero where none is), and ``column[p, k]``, the slot ``k`` of the window that would hold
    position ``p`` there (the zero where no window of the run does)."""
    offsets = np.array(_run_offsets(width))
    length, slots = run + 2 * width, 2 * width
    place = np.full((run, length), run * slots, np.int32)
    windows = np.arange(run)[:, None]
    place[windows, width + windows + offsets[None]] = windows * slots + np.arange(slots)[None]
    owner = np.arange(length)[:, None] - width - offsets[None]  # (length, 2 * width)
    inside = (owner >= 0) & (owner < run)
    column = np.where(inside, owner * slots + np.arange(slots)[None], run * slots)
    layout = place.reshape(-1), column.astype(np.int32)
    if keras.backend.backend() == "torch":
        # Made into tensors once, not copied from numpy to the device at every use (on the
        # GPU lent here, the epochs took as long either way).
        return tuple(ops.convert_to_tensor(a) for a in layout)
    return layout  # compiled into the step as constants


class _LossMean(keras.metrics.Metric):
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


class _StartRows(keras.initializers.Initializer):
    """:func:`~sgns.tables.uniform_rows` for the first ``rows`` rows, zeros past them (the
    padding that sharded tables need)."""

    def __init__(self, rows: int, scale: float, seed: int | None) -> None:
        self.rows, self.scale, self.seed = rows, scale, seed

    def __call__(self, shape, dtype=None):
        table = uniform_rows(self.rows, shape[1], self.scale, self.seed, total_rows=shape[0])
        return ops.convert_to_tensor(table, dtype=dtype)

    def get_config(self) -> dict:
        return {"rows": self.rows, "scale": self.scale, "seed": self.seed}


def _exchanged(updates, totals):
    """The batch's row updates, ``(rows, grads)`` pairs, made whole on every device, and the
    sums of the vectors ``totals`` (the loss, the weights) over the whole batch.

    With no ``keras.distribution``, that is the updates as they are and the sums. When one
    splits the batch across devices (JAX), each device packs its share of every update (the
    ids bit-cast to float32 beside the gradients) and its partial sums into one block, and a
    single all-gather over the batch axis exchanges the blocks: O(batch) a step, and one
    meeting of the devices. Every device then applies the same scatter to its copy, or its
    shard, of each table. Left to itself, XLA scatters each device's share into a copy of the
    whole table and all-reduces the table: O(vocabulary) a step."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return updates, tuple(ops.sum(t) for t in totals)
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec

    mesh = distribution.device_mesh.backend_mesh
    axis = distribution.batch_dim_name
    devices = mesh.shape[axis]
    width = 1 + updates[0][1].shape[1]
    blocks = []
    for rows, grads in updates:
        ids = jax.lax.bitcast_convert_type(ops.cast(rows, "int32"), jnp.float32)
        block = jnp.concatenate([ids[:, None], grads], axis=1)
        pad = -block.shape[0] % devices  # padding is row 0 (bits of 0.0) with no gradient
        blocks.append(jnp.pad(block, ((0, pad), (0, 0))) if pad else block)
    sizes = np.cumsum([b.shape[0] // devices for b in blocks])

    def gather(*local):
        sums = jnp.stack([jnp.sum(t) for t in local[len(blocks):]])
        mine = jnp.concatenate([*local[: len(blocks)],
                                jnp.pad(sums, (0, width - len(sums)))[None]])
        every = jax.lax.all_gather(mine, axis)  # (devices, rows + 1, width)
        parts = jnp.split(every, sizes, 1)
        whole = tuple(part.reshape(-1, width) for part in parts[:-1])
        return whole, tuple(jnp.sum(parts[-1][:, 0, : len(sums)], axis=0))

    specs = (PartitionSpec(axis),) * (len(blocks) + len(totals))
    whole, sums = jax.shard_map(
        gather, mesh=mesh, in_specs=specs, check_vma=False,
        out_specs=((PartitionSpec(),) * len(blocks), (PartitionSpec(),) * len(totals)),
    )(*blocks, *totals)
    return ([(jax.lax.bitcast_convert_type(w[:, 0], jnp.int32), w[:, 1:]) for w in whole],
            tuple(sums))


def _gather(table, ids):
    """``table[ids]``: JAX's own indexing there (a plain XLA gather; ``ops.take`` adds an
    out-of-range fill that measured about a third slower), PyTorch's embedding lookup
    (``ops.take`` also maps negative ids, two more operations, each run as it comes; the ids
    are never negative), ``ops.take`` elsewhere. PyTorch's lookups and scatters take int64
    ids: with int32 ones the step measured 20% slower."""
    backend = keras.backend.backend()
    if backend == "jax":
        return table[ids]
    if backend == "torch":
        import torch

        return torch.nn.functional.embedding(ids.long(), table)
    return ops.take(table, ids, axis=0)


ADAM_BETAS = (0.9, 0.999)


def _adam_scale(lr, t, betas=ADAM_BETAS):
    """Adam's step size at step ``t`` (from 1), bias corrections included: worked out once a
    step for both tables."""
    beta1, beta2 = betas
    if keras.backend.backend() == "torch":  # a Python operator on a tensor costs ~9 us there
        import torch

        return torch.sqrt(torch.rsub(torch.pow(beta2, t), 1)).mul_(lr).div_(
            torch.rsub(torch.pow(beta1, t), 1))
    return lr * ops.sqrt(1 - beta2**t) / (1 - beta1**t)


def _lazy_adam(m, v, rows, grads, scale, betas=ADAM_BETAS, epsilon=1e-7):
    """Adam (Kingma & Ba, 2015) on the rows in the batch only, in ``keras.ops`` (on PyTorch,
    torch's in-place forms of the same arithmetic), with ``scale`` from :func:`_adam_scale`:
    returns ``(unique, step, m_rows, v_rows)``, the rows, the amount to subtract from them, and
    their new moments. Repeated rows have their gradients summed first. On JAX, whose compiled
    steps need static shapes, the unique rows are padded to the batch's size with row 0, the
    padding row, whose results are never used; TensorFlow's graphs and PyTorch take them as they
    are, in any order (on the notebook preset's batches, 82% of the center ids and 94% of the
    context ids are unique; dropping the padding and the sort measured 10% and another 9% off
    TensorFlow's step).
    """
    beta1, beta2 = betas
    if keras.backend.backend() == "torch":
        # The same arithmetic in place: PyTorch runs it eagerly, one pass over memory per
        # operation, and these fused forms halve the passes (measured 0.53 -> 0.25 ms a call);
        # torch's own unique on int64 ids, since Keras' wrapper cost ~25 us a call and every
        # lookup and scatter after it wants int64.
        import torch

        unique, inverse = torch.unique(rows.long(), sorted=False, return_inverse=True)
        summed = _segment_sum(grads, inverse, unique.shape[0])
        # m + (1 - beta1) (g - m) = beta1 m + (1 - beta1) g, in one pass
        m_rows = torch.index_select(m, 0, unique).lerp_(summed, 1 - beta1)
        v_rows = torch.index_select(v, 0, unique).mul_(beta2).addcmul_(summed, summed,
                                                                       value=1 - beta2)
        step = torch.div(m_rows, v_rows.sqrt().add_(epsilon)).mul_(scale)
        return unique, step, m_rows, v_rows
    if keras.backend.backend() == "jax":
        n = ops.shape(rows)[0]
        unique, inverse = ops.unique(rows, return_inverse=True, size=n, fill_value=0)
    else:
        unique, inverse = ops.unique(rows, sorted=False, return_inverse=True)
        n = ops.shape(unique)[0]
    summed = _segment_sum(grads, ops.reshape(inverse, (-1,)), n)
    m_rows = beta1 * ops.take(m, unique, axis=0) + (1 - beta1) * summed
    v_rows = beta2 * ops.take(v, unique, axis=0) + (1 - beta2) * summed**2
    return unique, scale * m_rows / (ops.sqrt(v_rows) + epsilon), m_rows, v_rows


def _segment_sum(values, segments, n):
    """``ops.segment_sum``; on PyTorch one ``index_add_``, which measured 10 to 30 times faster
    than Keras' general segment reduction there (a lazy Adam step makes two; the bag models'
    CBOW epoch on 20 Newsgroups took 21.7 s with Keras' and 5 s with this)."""
    if keras.backend.backend() == "torch":
        import torch

        total = torch.zeros((n, *values.shape[1:]), dtype=values.dtype, device=values.device)
        return total.index_add_(0, segments.long(), values)
    return ops.segment_sum(values, segments, num_segments=n)


def _step_of(data, k: int):
    """Step ``k`` of a stacked batch (arrays ``(batch, steps, ...)`` in nested tuples, or None):
    ``keras.tree.map_structure`` did the same in about 20 us a step more on PyTorch."""
    if isinstance(data, tuple | list):
        return tuple(_step_of(part, k) for part in data)
    return None if data is None else data[:, k]


def _add_in_place(handle, amount) -> None:
    """``handle += amount`` on a variable's backend handle (as :func:`_scatter_add` takes it)."""
    if keras.backend.backend() == "tensorflow":
        handle.assign_add(amount)
    else:
        handle.add_(amount)


def _scatter_add(table, rows, updates) -> None:
    """``table[rows] += updates`` in place, repeated rows accumulating. ``table`` is a Keras
    variable's ``.value``: a ``tf.Variable`` on TensorFlow, a tensor on PyTorch (whose step
    runs without autograd)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        table.scatter_add(tf.IndexedSlices(updates, rows))
    elif backend == "torch":
        table.index_add_(0, rows.long(), updates)
    else:
        raise SgnsError(f"the sparse step does not support the {backend} backend")


def _subtract_unique(table, rows, values) -> None:
    """``table[rows] -= values`` in place (``table`` as :func:`_scatter_add` takes it), for rows
    that repeat only as :func:`_lazy_adam`'s padding (row 0, with nothing to subtract): the rows
    are gathered, changed and written back. A scatter-add measured six times slower than a
    scatter-update on 1,024 rows on TensorFlow (the notebook preset's step 5% faster), and 79 us
    against 51 us on PyTorch, whose scatter-add sorts its rows first."""
    _scatter_set(table, rows, _gather(table, rows) - values)


def _scatter_set(table, rows, values) -> None:
    """``table[rows] = values`` in place (``table`` as :func:`_scatter_add` takes it). Rows repeat
    only as :func:`_lazy_adam`'s padding (row 0, which never gets a gradient, so every copy carries
    its unchanged value)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        table.scatter_update(tf.IndexedSlices(values, rows))
    else:
        table.index_copy_(0, rows.long(), values)


MODELS = {"skipgram": SkipGram, "cbow": CBOW}
SUBWORD_MODELS = {"skipgram": SubwordSkipGram, "cbow": SubwordCBOW}


def draw_diagram(vocab_size: int, dim: int, path) -> bool:
    """The notebook's ``plot_model`` picture of the two-table model; False when pydot or
    Graphviz is missing."""
    model = SkipGram(vocab_size, dim)
    center = keras.Input((), dtype="int32", name="center_word")
    context = keras.Input((), dtype="int32", name="context_word")
    graph = keras.Model(
        [center, context],
        model.sigmoid(
            model.dot([model.center_embedding(center), model.context_embedding(context)])
        ),
        name="skip_gram",
    )
    try:
        keras.utils.plot_model(graph, to_file=str(path), show_shapes=True, show_layer_names=True)
    except ImportError:
        return False
    return True
