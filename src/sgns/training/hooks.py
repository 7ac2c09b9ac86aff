"""What happens after every epoch of a run, whichever engine trains it: the evaluation, the
divergence check, the checkpoint (written while the next epoch trains), then the caller's
hook."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..config import TrainConfig
from ..embeddings.vectors import to_keyed_vectors
from ..encoding.vocab import Vocabulary
from ..engines.base import EpochEnd
from ..errors import SgnsError
from .checkpoint import Checkpoint, CheckpointWriter


def epoch_end_hook(
    engine: str,
    vocab: Vocabulary,
    config: TrainConfig,
    info: dict,
    evaluate_each_epoch: bool,
    then: Callable[[EpochEnd], None] | None,
    writer: CheckpointWriter | None,
    checkpoint_final: bool = True,
) -> Callable[[EpochEnd], None]:
    """After each epoch: evaluate, check for divergence, offer the checkpoint to ``writer``
    (written while the next epoch trains, or kept until its interval has passed; the last
    epoch's is always written), then call ``then`` (so a hook that stops training leaves this
    epoch saved, once the caller flushes the writer)."""
    # An untrained model scores (1 + negative) * log 2 per positive pair; ten times that is
    # no longer learning.
    limit = 10 * (1 + config.negative) * math.log(2)
    written: dict = {}  # the state arrays of the checkpoint written last

    def hook(end: EpochEnd) -> None:
        if evaluate_each_epoch:
            from ..embeddings.evaluate import evaluate, summary

            kv = to_keyed_vectors(vocab.words[1:], end.word_vectors()[1:])
            end.record["evaluation"] = summary(evaluate(kv))
        loss = end.record["loss"]
        if not math.isfinite(loss) or loss > limit:
            kept = (f"; the checkpoint after epoch {end.epoch} is kept in {writer.folder}"
                    if writer is not None and end.epoch > 0 else "")
            raise SgnsError(f"training diverged in epoch {end.epoch + 1} (loss {loss:.4g}): "
                            f"lower the learning rate (--lr, now {config.lr:g}){kept}")
        info["epochs"].append(end.record)
        if writer is not None and (checkpoint_final or end.epoch + 1 < config.epochs):
            record = {**info, "status": f"running: {end.epoch + 1} of {config.epochs} epochs"}
            # Once the last checkpoint is on disk (or dropped, if it was pending), this epoch's
            # state is copied into its arrays (fresh 60 MB each epoch measured 10 to 130 ms,
            # page faults included): every epoch, written or not, so that a run that stops
            # can write it.
            writer.wait()
            writer.drop_pending()  # a stop during the copy then writes no torn state
            written["state"] = end.state(written.get("state"))
            writer.offer(Checkpoint(engine, end.epoch + 1, written["state"], vocab, config,
                                    info),
                         record, now=end.epoch + 1 == config.epochs)
        if then is not None:
            then(end)

    return hook
