"""The checkpoint interval: which epochs are written, on a clock the test controls, and that a
run stopped between two writes still leaves its last finished epoch on disk."""

import numpy as np
import pytest

from sgns.cli import main
from sgns.config import TrainConfig
from sgns.training import checkpoint as checkpoint_module
from sgns.training.checkpoint import CheckpointWriter, checkpoint_epochs, load_checkpoint
from sgns.training.train import train
from support import Stop, stop_after


def _written_epochs(monkeypatch, epoch_seconds: float | None = None):
    """The ``epochs_done`` of every checkpoint written, in order. With ``epoch_seconds``, the
    writer's clock stands still but for an epoch's time before each epoch's offer."""
    written = []
    save, offer = checkpoint_module.save_checkpoint, CheckpointWriter.offer
    clock = [1000.0]

    def counting(folder, checkpoint):
        written.append(checkpoint.epochs_done)
        return save(folder, checkpoint)

    def later_offer(self, *args, **kwargs):
        clock[0] += epoch_seconds
        return offer(self, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", counting)
    if epoch_seconds is not None:
        monkeypatch.setattr(checkpoint_module.time, "monotonic", lambda: clock[0])
        monkeypatch.setattr(CheckpointWriter, "offer", later_offer)
    return written


CONFIG = TrainConfig(engine="native", epochs=7, dim=8, window=3, seed=3, workers=1)


@pytest.mark.parametrize("interval,epoch_seconds,expected", [
    (0, 1.0, [1, 2, 3, 4, 5, 6, 7]),  # every epoch
    (25, 10.0, [3, 6, 7]),  # a write once 25 s have passed, and the last epoch always
    (5, 10.0, [1, 2, 3, 4, 5, 6, 7]),  # epochs longer than the interval: every one
    (3600, 10.0, [7]),  # a short run: its end alone
])
def test_an_epoch_is_written_once_the_interval_has_passed(tmp_path, topic_corpus, monkeypatch,
                                                          interval, epoch_seconds, expected):
    """Epoch k is offered k x epoch_seconds after the writer began."""
    written = _written_epochs(monkeypatch, epoch_seconds)
    train(topic_corpus, CONFIG, verbose=False, checkpoint_dir=tmp_path,
          checkpoint_interval=interval)
    assert written == expected
    assert load_checkpoint(tmp_path).epochs_done == 7


def test_a_run_stopped_between_writes_saves_its_last_finished_epoch(tmp_path, topic_corpus,
                                                                    monkeypatch):
    """Interval an hour: nothing is written while the run goes; the stop writes epoch 4, and
    resuming from it gives the uninterrupted run's tables bit for bit."""
    config = TrainConfig(engine="native", epochs=6, dim=8, window=3, seed=3, workers=1)
    whole = train(topic_corpus, config, verbose=False)
    written = _written_epochs(monkeypatch, epoch_seconds=10.0)
    with pytest.raises(Stop):
        train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path,
              on_epoch_end=stop_after(4), checkpoint_interval=3600)
    assert written == [4]
    resumed = train(topic_corpus, verbose=False, resume=load_checkpoint(tmp_path))
    np.testing.assert_array_equal(resumed.input_table, whole.input_table)
    np.testing.assert_array_equal(resumed.output_table, whole.output_table)


def test_the_command_line_writes_nothing_but_the_run_for_a_short_run(tmp_path, topic_corpus,
                                                                     monkeypatch):
    """A run shorter than the interval writes no checkpoint at all (the finished run folder is
    saved instead); with interval 0 every epoch but the last is written."""
    written = _written_epochs(monkeypatch)
    config = TrainConfig(engine="native", epochs=3, dim=8, workers=1)
    train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path, checkpoint_final=False,
          checkpoint_interval=3600)
    assert written == [] and checkpoint_epochs(tmp_path) == 0
    train(topic_corpus, config, verbose=False, checkpoint_dir=tmp_path / "every",
          checkpoint_final=False, checkpoint_interval=0)
    assert written == [1, 2]


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_a_negative_interval_is_a_one_line_error_before_any_work(tmp_path, capsys, value):
    assert main(["train", "--out", str(tmp_path / "run"), f"--checkpoint-interval={value}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "checkpoint interval must be >= 0 seconds" in err and "\n" not in err
    assert not (tmp_path / "run").exists()


def test_a_stop_while_the_state_is_copied_writes_nothing_torn(tmp_path, topic_corpus,
                                                               monkeypatch):
    """The pending epoch's arrays take the next epoch's state: a stop between the copies of the
    two tables must not write that mix as the pending epoch's checkpoint."""
    from sgns.engines.native import driver

    copies = []
    copy = driver._State.__call__

    def stopped_halfway(self, into=None):
        copies.append(into is not None)
        if len(copies) == 3:  # the third epoch's copy, into the second's pending arrays
            assert into is not None
            np.copyto(next(iter(into.values())), self.tables[0])
            raise Stop
        return copy(self, into)

    monkeypatch.setattr(driver._State, "__call__", stopped_halfway)
    written = _written_epochs(monkeypatch)
    with pytest.raises(Stop):
        train(topic_corpus, CONFIG, verbose=False, checkpoint_dir=tmp_path,
              checkpoint_interval=3600)
    assert written == [] and checkpoint_epochs(tmp_path) == 0
