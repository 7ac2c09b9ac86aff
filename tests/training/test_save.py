"""Saving a run folder: the text and npz vectors (written side by side, in two threads) agree,
and a save that fails in either leaves no folder and nothing half-written beside it."""

from __future__ import annotations

import numpy as np
import pytest

from sgns import TrainConfig, train
from sgns.embeddings.vectors import read_npz
from sgns.training import result as result_module


@pytest.fixture(scope="module")
def trained(topic_corpus):
    config = TrainConfig(engine="native", dim=16, epochs=1, workers=1, min_count=1, seed=2)
    return train(topic_corpus, config, verbose=False)


def test_the_text_and_npz_vectors_agree(tmp_path, trained):
    out = trained.save(tmp_path / "run")
    words, vectors = read_npz(out / "vectors.npz")
    lines = (out / "vectors.txt").read_text().splitlines()
    assert lines[0] == f"{len(words)} 16"
    assert [line.split(" ", 1)[0] for line in lines[1:]] == words
    text = np.array([[float(v) for v in line.split()[1:]] for line in lines[1:]], np.float32)
    np.testing.assert_array_equal(text, vectors)  # "%.9g" gives every float32 back
    np.testing.assert_array_equal(vectors, trained.vectors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("failing", ["save_npz", "save_word2vec_text"])
def test_a_failed_save_leaves_nothing(tmp_path, trained, monkeypatch, failing):
    real = getattr(result_module, failing)

    def fails(path, *args, **kwargs):
        real(path, *args, **kwargs)  # the whole file written, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(result_module, failing, fails)
    with pytest.raises(OSError, match="No space left"):
        trained.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []
