"""The two-table word2vec models as ``keras.Model`` s, trained with sparse updates: ``SkipGram``
(the notebook's model) and its sibling ``CBOW``.

Both are an input table and an output table: a hidden vector is made from input rows (skip-gram:
the center word's row; CBOW: the mean of the window's rows), dotted with an output row, then a
sigmoid. ``SkipGram.call`` is the notebook's model: center table, context table, dot product,
sigmoid. Training
is the sparse step of :class:`~sgns.engines.keras.two_tables.TwoTableModel`.

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

import warnings

import keras
from keras import layers, ops

from ...errors import SgnsError
from .runs import bands, run_layout, run_spread, run_sums
from .sparse import gather, segment_sum
from .two_tables import TwoTableModel

if keras.backend.backend() == "torch":  # the eager step without Keras' dispatch
    from .torch_ops import ops  # noqa: F811


class SkipGram(TwoTableModel):
    """Skip-gram with negative sampling: ``sigmoid(center[w] . context[c])``, the notebook's
    model. Inputs are ``(center, context)`` id vectors. Arguments: see :class:`TwoTableModel`."""

    @property
    def center_embedding(self) -> layers.Embedding:
        """The notebook's name of the input table (deprecated until 0.3)."""
        warnings.warn("SkipGram.center_embedding is now SkipGram.input_table",
                      DeprecationWarning, stacklevel=2)
        return self.input_table

    @property
    def context_embedding(self) -> layers.Embedding:
        """The notebook's name of the output table (deprecated until 0.3)."""
        warnings.warn("SkipGram.context_embedding is now SkipGram.output_table",
                      DeprecationWarning, stacklevel=2)
        return self.output_table

    def call(self, inputs):
        center, context = inputs
        score = self.dot([self.input_table(center), self.output_table(context)])
        return self.sigmoid(score)

    def _hidden(self, table, inputs):
        return gather(table, inputs)

    def _input_updates(self, inputs, grad_hidden):
        return inputs, grad_hidden


class BagModel(TwoTableModel):
    """A model whose hidden vector is the mean of a bag of input rows, scored against
    ``outputs_per_example`` output words: the parent of the subword models and of CBOW.

    Inputs are ``((rows, owner), outputs)``: the batch's bags laid end to end (``rows``, row 0
    where unused; ``owner[t]`` the example whose bag holds ``rows[t]``, from
    :func:`sgns.encoding.subwords.flat_bags`) and a ``(batch, outputs_per_example)`` matrix of
    the output ids (0 where there are fewer, masked). The bag's mean is taken once per example and
    scored against every context word and the shared negatives. As in fastText (and the
    native engine), every row of the bag gets the hidden vector's whole gradient
    (``whole_gradient``); with ``whole_gradient=False`` each gets its share, as autodiff of the
    mean gives, which on 20 Newsgroups learnt far too slowly at a rate that does not diverge
    (WordSim-353 -0.02 after an epoch, against 0.18). Needs ``batch_size`` (the step's
    examples) and, with several outputs an example, shared negatives (the CBOW models, one
    output an example, may also take their negatives from the stream). Arguments: see
    :class:`TwoTableModel`."""

    def __init__(self, vocab_size: int, dim: int, *, outputs_per_example: int,
                 whole_gradient: bool = True, **kwargs) -> None:
        super().__init__(vocab_size, dim, **kwargs)
        self.pairs_per_example = outputs_per_example
        # With several outputs an example's negatives are shared (see _gradients); with one
        # (CBOW) they may also come from the stream, as examples of their own.
        if self.batch_size is None:
            raise SgnsError(f"{type(self).__name__} needs batch_size (the step's examples)")
        if self.pairs_per_example > 1 and not self.shared:
            raise SgnsError(f"{type(self).__name__} needs shared negatives")
        self.whole_gradient = whole_gradient

    def call(self, inputs):
        bags, window = inputs
        hidden = self._bag_means(self.input_table.embeddings, *self._prepared(bags))
        scores = ops.einsum("bd,bwd->bw", hidden, self.output_table(window))
        return self.sigmoid(scores)

    def _shares(self, rows, owner):
        """Each slot's weight in its bag's mean: 1 / the bag's size, 0 where unused."""
        used = ops.cast(ops.not_equal(rows, 0), "float32")
        sizes = segment_sum(used, owner, self.batch_size)
        return used / ops.maximum(ops.take(sizes, owner, axis=0), 1.0)

    def _prepared(self, inputs):
        rows, owner = inputs
        return rows, owner, self._shares(rows, owner)

    def _bag_means(self, table, rows, owner, shares):
        weighted = gather(table, rows) * shares[:, None]
        return segment_sum(weighted, owner, self.batch_size)

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


class SubwordSkipGram(BagModel):
    """fastText's skip-gram (Bojanowski et al., 2017): the mean of the center word's bag of
    input rows (its own row and its character n-grams' bucket rows) predicts each word of its
    window, ``sigmoid(mean(input[bag]) . output[context])``. The outputs are the ``2 *
    window`` words of the window. Arguments: see :class:`BagModel`, plus ``window``, the
    context words on each side."""

    def __init__(self, vocab_size: int, dim: int, *, window: int, **kwargs) -> None:
        super().__init__(vocab_size, dim, outputs_per_example=max(1, 2 * window), **kwargs)


class SubwordCBOW(BagModel):
    """fastText's CBOW (Bojanowski et al., 2017): the mean of all the window's input rows, each
    context word's own row and its n-grams' rows together, predicts the center word,
    ``sigmoid(mean(input[bag]) . output[center])``. Inputs are ``((rows, owner), center)``:
    the window's bags laid end to end per example (:func:`sgns.encoding.subwords.window_bags`) and a
    ``(batch, 1)`` matrix of the center ids. The same step as :class:`SubwordSkipGram`, with
    one output word per example: every row of the bag gets the hidden vector's whole gradient,
    as in fastText and the native engine."""

    def __init__(self, vocab_size: int, dim: int, **kwargs) -> None:
        super().__init__(vocab_size, dim, outputs_per_example=1, **kwargs)


class CBOW(BagModel):
    """word2vec's continuous bag of words with negative sampling (Mikolov et al., 2013):
    ``sigmoid(mean(input[window]) . output[center])``, the CBOW model of the fastText family
    whose bags are single rows: each context word is its own row.

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
    :class:`TwoTableModel`."""

    def __init__(self, vocab_size: int, dim: int, *, run: int = 1, **kwargs) -> None:
        super().__init__(vocab_size, dim, outputs_per_example=1, whole_gradient=False,
                         **kwargs)
        if run < 1 or self.batch_size % run:
            raise SgnsError(f"CBOW's batch_size ({self.batch_size}) must be a multiple of its "
                            f"run ({run})")
        self.run = run

    def call(self, inputs):
        window, center = inputs  # any windows: window by window
        rows, owner = ops.reshape(window, (-1,)), self._owners(window)
        table = self.input_table.embeddings
        hidden = self._bag_means(table, rows, owner, self._shares(rows, owner))
        scores = ops.einsum("bd,bwd->bw", hidden,
                            self.output_table(ops.reshape(center, (-1, 1))))
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
        return stretch, shares, None if keras.backend.backend() == "jax" else bands(shares)

    def _hidden(self, table, prepared):
        if self.run == 1:
            return super()._hidden(table, prepared)
        stretch, shares, bands = prepared
        hidden = run_sums(shares, gather(table, stretch), bands)
        return ops.reshape(hidden, (-1, self.dim))

    def _input_updates(self, prepared, grad_hidden):
        if self.run == 1:
            return super()._input_updates(prepared, grad_hidden)
        stretch, shares, bands = prepared
        grads = run_spread(shares, ops.reshape(grad_hidden, (-1, self.run, self.dim)), bands)
        return ops.reshape(stretch, (-1,)), ops.reshape(grads, (-1, self.dim))

    def _runs(self, window):
        """``(stretch, shares)``: each run's text, ``(runs, run + 2 * width)`` ids from
        ``width`` words before its first center to ``width`` after its last (0 where no window
        of the run reaches), and ``shares[r, i, k]``, the share of slot ``k`` of run ``r``'s
        window ``i`` in its mean."""
        width = ops.shape(window)[1] // 2
        windows = ops.reshape(window, (-1, self.run, 2 * width))
        column = run_layout(self.run, width)[1]
        # Every id of the stretch sits in the windows that reach it (the others hold 0 there).
        slots = ops.concatenate([ops.reshape(windows, (-1, self.run * 2 * width)),
                                 ops.zeros_like(windows[:, 0, :1])], axis=1)
        stretch = ops.max(ops.take(slots, column, axis=1), axis=-1)
        used = ops.cast(ops.not_equal(windows, 0), "float32")
        return stretch, used / ops.maximum(ops.sum(used, axis=-1, keepdims=True), 1.0)


MODELS = {"skipgram": SkipGram, "cbow": CBOW}
SUBWORD_MODELS = {"skipgram": SubwordSkipGram, "cbow": SubwordCBOW}
