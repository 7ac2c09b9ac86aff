"""Damaged files that sgns wrote itself: a checkpoint, a run record, vectors and subwords, each
truncated, bit-flipped, emptied or of the wrong shape, read by the command that reads it. Each
gives one line on stderr and exit status 2, never a traceback, and leaves the file as it was."""

import json
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgns.cli import main
from sgns.errors import SgnsError
from sgns.training.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def runs(tmp_path_factory, topic_corpus):
    """A run folder with a checkpoint after its first epoch, and a subword run, made once."""
    from sgns.config import TrainConfig
    from sgns.training.train import train
    from support import Stop, stop_after

    root = tmp_path_factory.mktemp("damaged")
    corpus = root / "corpus.txt"
    corpus.write_text("".join(" ".join(doc) + "\n" for doc in topic_corpus))
    config = TrainConfig(engine="native", epochs=3, dim=8, workers=1, seed=3)
    with pytest.raises(Stop):
        train(topic_corpus, config, verbose=False, checkpoint_dir=root / "cut",
              on_epoch_end=stop_after(1))
    assert main(["train", "--corpus", str(corpus), "--cleaning", "none", "--out",
                 str(root / "run"), "--epochs", "1", "--dim", "8", "--quiet", "--no-plots"]) == 0
    assert main(["train", "--corpus", str(corpus), "--cleaning", "none", "--out",
                 str(root / "sub"), "--epochs", "1", "--dim", "8", "--subwords", "--buckets",
                 "500", "--quiet", "--no-plots"]) == 0
    return root


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "bit-flipped":
        flipped = bytearray(data)
        for k in range(len(data) // 3, len(data) // 3 + 64):
            flipped[k] ^= 0x55
        path.write_bytes(bytes(flipped))
    elif how == "empty":
        path.write_bytes(b"")


def _wrong_shape(path) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(["a", "list", "not", "a", "record"]))
        return
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for name, value in arrays.items():
        if value.dtype == np.float32 and value.ndim == 2:
            arrays[name] = value[:2].copy()  # two rows: fewer than the words
    np.savez(path, **arrays)


# (file in the run folder, the command that reads it; {run} is the damaged copy)
READERS = [
    ("checkpoint.npz", "cut", ["train", "--resume", "{run}", "--quiet", "--no-plots"]),
    ("run.json", "run", ["train", "--corpus", "{corpus}", "--from", "{run}", "--out",
                         "{out}", "--quiet", "--no-plots"]),
    ("vectors.npz", "run", ["train", "--corpus", "{corpus}", "--from", "{run}", "--out",
                            "{out}", "--quiet", "--no-plots"]),
    ("vectors.npz", "run", ["neighbors", "{run}/vectors.npz", "apple"]),
    ("vectors.txt", "run", ["train", "--corpus", "{corpus}", "--init-vectors",
                            "{run}/vectors.txt", "--out", "{out}", "--dim", "8", "--quiet",
                            "--no-plots"]),
    ("subwords.npz", "sub", ["neighbors", "{run}", "applesauce"]),
]


@pytest.mark.parametrize("how", ["truncated", "bit-flipped", "empty", "wrong shape"])
@pytest.mark.parametrize("name,source,argv", READERS,
                         ids=[f"{r[0]}-{r[2][0]}" for r in READERS])
def test_a_damaged_file_is_one_line_and_exit_2(runs, tmp_path, capsys, how, name, source,
                                               argv):
    if name == "vectors.txt" and how == "wrong shape":
        how = "truncated"  # a text file has no shape of its own: cut mid-line instead
    run = tmp_path / "run"
    shutil.copytree(runs / source, run)
    target = run / name
    assert target.is_file()
    if how == "wrong shape":
        _wrong_shape(target)
    else:
        _damage(target, how)
    damaged = target.read_bytes()
    capsys.readouterr()
    args = [a.format(run=run, corpus=runs / "corpus.txt", out=tmp_path / "out") for a in argv]
    assert main(args) == 2, (how, name)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith(f"sgns {argv[0]}: error: "), err
    assert target.read_bytes() == damaged  # nothing overwritten
    assert not (tmp_path / "out").exists()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                            max_size=4))
def test_a_checkpoint_cut_or_flipped_anywhere_reads_or_says_why(runs, tmp_path, cut, flips):
    """Any cut or flipped bytes: the checkpoint reads back whole (a flip in a part the
    reader skips) or raises SgnsError, never another exception."""
    data = bytearray((runs / "cut" / "checkpoint.npz").read_bytes())
    for where, mask in flips:
        data[min(int(where * len(data)), len(data) - 1)] ^= mask
    folder = tmp_path / "ckpt"
    folder.mkdir(exist_ok=True)
    (folder / "checkpoint.npz").write_bytes(bytes(data[: max(1, int(cut * len(data)))]
                                                  if cut < 1 else data))
    try:
        checkpoint = load_checkpoint(folder)
    except SgnsError as exc:
        assert "checkpoint.npz" in str(exc) and "\n" not in str(exc)
    else:
        assert checkpoint.state["input_table"].shape[0] >= checkpoint.vocab.size
