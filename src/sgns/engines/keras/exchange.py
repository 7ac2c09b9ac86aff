"""The row updates of a batch split across devices, made whole on every device in one
all-gather (JAX)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def exchanged(updates, totals):
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
