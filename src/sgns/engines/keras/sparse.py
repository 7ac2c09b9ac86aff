"""The sparse step's operations on a table's rows: gathers, segment sums, in-place scatters, and
lazy Adam, each in the form that measured fastest on its backend (the backend is chosen once,
when Keras is first imported)."""

from __future__ import annotations

import keras
from keras import ops

from ...errors import SgnsError


def gather(table, ids):
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


def adam_scale(lr, t, betas=ADAM_BETAS):
    """Adam's step size at step ``t`` (from 1), bias corrections included: worked out once a
    step for both tables."""
    beta1, beta2 = betas
    if keras.backend.backend() == "torch":  # a Python operator on a tensor costs ~9 us there
        import torch

        return torch.sqrt(torch.rsub(torch.pow(beta2, t), 1)).mul_(lr).div_(
            torch.rsub(torch.pow(beta1, t), 1))
    return lr * ops.sqrt(1 - beta2**t) / (1 - beta1**t)


def lazy_adam(m, v, rows, grads, scale, betas=ADAM_BETAS, epsilon=1e-7):
    """Adam (Kingma & Ba, 2015) on the rows in the batch only, in ``keras.ops`` (on PyTorch,
    torch's in-place forms of the same arithmetic), with ``scale`` from :func:`adam_scale`:
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
        summed = segment_sum(grads, inverse, unique.shape[0])
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
    summed = segment_sum(grads, ops.reshape(inverse, (-1,)), n)
    m_rows = beta1 * ops.take(m, unique, axis=0) + (1 - beta1) * summed
    v_rows = beta2 * ops.take(v, unique, axis=0) + (1 - beta2) * summed**2
    return unique, scale * m_rows / (ops.sqrt(v_rows) + epsilon), m_rows, v_rows


def segment_sum(values, segments, n):
    """``ops.segment_sum``; on PyTorch one ``index_add_``, which measured 10 to 30 times faster
    than Keras' general segment reduction there (a lazy Adam step makes two; the bag models'
    CBOW epoch on 20 Newsgroups took 21.7 s with Keras' and 5 s with this)."""
    if keras.backend.backend() == "torch":
        import torch

        total = torch.zeros((n, *values.shape[1:]), dtype=values.dtype, device=values.device)
        return total.index_add_(0, segments.long(), values)
    return ops.segment_sum(values, segments, num_segments=n)


def step_of(data, k: int):
    """Step ``k`` of a stacked batch (arrays ``(batch, steps, ...)`` in nested tuples, or None):
    ``keras.tree.map_structure`` did the same in about 20 us a step more on PyTorch."""
    if isinstance(data, tuple | list):
        return tuple(step_of(part, k) for part in data)
    return None if data is None else data[:, k]


def add_in_place(handle, amount) -> None:
    """``handle += amount`` on a variable's backend handle (as :func:`scatter_add` takes it)."""
    if keras.backend.backend() == "tensorflow":
        handle.assign_add(amount)
    else:
        handle.add_(amount)


def scatter_add(table, rows, updates) -> None:
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


def subtract_unique(table, rows, values) -> None:
    """``table[rows] -= values`` in place (``table`` as :func:`scatter_add` takes it), for rows
    that repeat only as :func:`lazy_adam`'s padding (row 0, with nothing to subtract): the rows
    are gathered, changed and written back. A scatter-add measured six times slower than a
    scatter-update on 1,024 rows on TensorFlow (the notebook preset's step 5% faster), and 79 us
    against 51 us on PyTorch, whose scatter-add sorts its rows first."""
    scatter_set(table, rows, gather(table, rows) - values)


def scatter_set(table, rows, values) -> None:
    """``table[rows] = values`` in place (``table`` as :func:`scatter_add` takes it). Rows repeat
    only as :func:`lazy_adam`'s padding (row 0, which never gets a gradient, so every copy carries
    its unchanged value)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        table.scatter_update(tf.IndexedSlices(values, rows))
    else:
        table.index_copy_(0, rows.long(), values)
