"""fastText's subwords: n-grams and hashes as gensim (and fastText) compute them, subword
training on both engines (the Keras step against autodiff), vectors for unseen words, and the
errors."""

import json

import numpy as np
import pytest
from gensim.models.fasttext import compute_ngrams_bytes, ft_ngram_hashes

from sgns.cli import main
from sgns.config import TrainConfig
from sgns.embeddings.vectors import load_vectors
from sgns.encoding.subwords import SubwordSpec, char_ngrams, ngram_buckets, word_bags
from sgns.encoding.vocab import Vocabulary
from sgns.errors import SgnsError
from sgns.training.checkpoint import load_checkpoint
from sgns.training.train import train

WORDS = ["physician", "a", "ab", "café", "naïve", "zürich", "ελληνικά", "학교에", "학교는", "東京",
         "東京都庁", "x" * 40, "über-große", "ñ"]


@pytest.mark.parametrize("min_n,max_n", [(3, 6), (1, 3), (2, 2), (4, 8)])
def test_ngrams_and_hashes_are_gensims(min_n, max_n):
    for word in WORDS:
        want = [g.decode("utf-8") for g in compute_ngrams_bytes(word, min_n, max_n)]
        assert char_ngrams(word, min_n, max_n) == want, word
        for buckets in (2_000_000, 97, 1):
            assert ngram_buckets(word, min_n, max_n, buckets) == \
                list(ft_ngram_hashes(word, min_n, max_n, buckets)), (word, buckets)


def test_bags_are_the_word_then_its_buckets():
    spec = SubwordSpec(3, 5, 1000)
    words = ["", "apple", "학교"]
    starts, ids = word_bags(spec, words)
    assert starts[1] - starts[0] == 0  # padding has no rows
    assert ids[starts[1]:starts[2]].tolist() == [1] + [3 + b for b in
                                                      ngram_buckets("apple", 3, 5, 1000)]
    assert ids[starts[2]:starts[3]].tolist() == [2] + [3 + b for b in
                                                      ngram_buckets("학교", 3, 5, 1000)]


def _config(**changes):
    settings = dict(engine="native", subwords=True, buckets=4000, dim=16, epochs=3, window=4,
                    sample=0, workers=1, seed=2)
    return TrainConfig(**{**settings, **changes})


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_subword_training_groups_topics_and_builds_unseen_words(topic_corpus, model):
    result = train(topic_corpus, _config(model=model, epochs=4), verbose=False)
    losses = [e["loss"] for e in result.info["epochs"]]
    assert losses[-1] < losses[0]
    kv = result.keyed_vectors()
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.3
    # A word's vector is the mean of its own row and its n-grams' rows, as fastText's.
    spec = _config().subword_spec()
    row = result.vocab.index["banana"]
    buckets = ngram_buckets("banana", spec.min_n, spec.max_n, spec.buckets)
    want = (result.word_rows[row] + result.bucket_rows[buckets].sum(0)) / (1 + len(buckets))
    np.testing.assert_allclose(result.input_table[row], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kv["banana"], want, rtol=1e-5, atol=1e-6)
    # Misspelt words are built from their n-grams and land among their topic's words.
    topics = {"fruit": {"apple", "banana", "cherry", "grape", "melon", "peach"},
              "cars": {"engine", "wheel", "brake", "clutch", "piston", "gearbox"},
              "music": {"violin", "cello", "flute", "oboe", "trumpet", "harp"}}
    for typo, topic in [("bananna", "fruit"), ("violinz", "music"), ("pistons", "cars")]:
        assert not kv.has_index_for(typo)
        nearest = [w for w, _ in kv.most_similar(typo, topn=3)]
        assert len(set(nearest) & topics[topic]) >= 2, (typo, nearest)


def test_subwords_are_reproducible_and_resume_bit_for_bit(topic_corpus, tmp_path):
    a = train(topic_corpus, _config(), verbose=False)
    b = train(topic_corpus, _config(), verbose=False, checkpoint_dir=tmp_path / "whole")
    np.testing.assert_array_equal(a.input_table, b.input_table)
    np.testing.assert_array_equal(a.bucket_rows, b.bucket_rows)

    class Stop(Exception):
        pass

    def stop(end):
        if end.epoch == 0:
            raise Stop

    with pytest.raises(Stop):
        train(topic_corpus, _config(), verbose=False, checkpoint_dir=tmp_path / "cut",
              on_epoch_end=stop)
    resumed = train(topic_corpus, verbose=False, resume=load_checkpoint(tmp_path / "cut"))
    np.testing.assert_array_equal(resumed.input_table, a.input_table)
    np.testing.assert_array_equal(resumed.bucket_rows, a.bucket_rows)
    np.testing.assert_array_equal(resumed.output_table, a.output_table)


def _corpus_file(tmp_path, topic_corpus):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(d) for d in topic_corpus) + "\n", encoding="utf-8")
    return path


def test_unseen_words_at_the_cli(tmp_path, topic_corpus, capsys):
    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--subwords",
                 "--buckets", "5000", "--dim", "16", "--epochs", "3", "--window", "4",
                 "--quiet", "--no-plots"]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["params"]["subwords"] and info["params"]["buckets"] == 5000
    assert (out / "subwords.npz").is_file()
    capsys.readouterr()
    assert main(["neighbors", str(out), "violinz", "cello", "--topn", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "violinz (not in the vocabulary: built from its n-grams)"
    assert "violin" in " ".join(lines[1:4]) and lines[4] == "cello"
    kv = load_vectors(out)
    assert kv.has_index_for("violin") and not kv.has_index_for("violinz")
    with np.load(out / "vectors.npz") as npz:  # the words' full vectors, as exports take them
        assert npz["words"].tolist() == kv.index_to_key
        np.testing.assert_allclose(npz["vectors"], kv.vectors, rtol=1e-5, atol=1e-6)
    assert main(["plot", str(out), "--words", "violinz", "cello", "--out",
                 str(tmp_path / "map.png")]) == 0
    assert (tmp_path / "map.png").stat().st_size > 1000
    capsys.readouterr()
    # evaluate scores every pair: unseen words get their n-grams' vector.
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("violin cello 9\nviolinz flute 8\napple banana 9\napple piston 1\n"
                     "violinn brake 2\n")
    assert main(["evaluate", str(out), "--pairs", str(pairs), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["pairs"]
    assert result["oov_ratio"] == pytest.approx(2 / 5) and result["pairs"] == 5
    assert result["spearman"] > 0.5


def test_subword_errors(tmp_path, topic_corpus, capsys):
    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "run"
    base = ["train", "--corpus", str(corpus), "--out", str(out), "--quiet"]
    cases = [
        (["--subwords", "--min-n", "5", "--max-n", "3"], "max_n (3) must be >= min_n (5)"),
        (["--subwords", "--buckets", "0"], "buckets must be >= 1"),
        (["--subwords", "--min-n", "0"], "min_n must be >= 1"),
        (["--min-n", "2"], "--min-n set(s) the subword model: add --subwords"),
        (["--buckets", "10", "--max-n", "4"], "--max-n, --buckets set(s) the subword model"),
        (["--subwords", "--engine", "keras", "--shared-negatives", "0"],
         "--shared-negatives must be at least 1"),
        (["--subwords", "--update", "pair"], "update='pair'"),
        (["--subwords", "--buckets", "900000000000"], "lower --buckets"),
    ]
    for extra, expected in cases:
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err and "Traceback" not in err, err
        assert not out.exists()


def test_memory_check_fails_before_allocating():
    from sgns.training.memory import check_memory

    with pytest.raises(SgnsError, match=r"needs about .* GiB .* lower --buckets"):
        check_memory(TrainConfig(subwords=True, buckets=10**12), 1000)
    check_memory(TrainConfig(subwords=True, buckets=1000), 1000)  # small: fine


def test_fasttext_export_round_trips_through_fasttext_and_gensim(tmp_path, topic_corpus,
                                                                 capsys):
    import fasttext
    from gensim.models.fasttext import load_facebook_model

    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--subwords", "--model",
                 "cbow", "--buckets", "3000", "--dim", "12", "--epochs", "2", "--quiet",
                 "--no-plots"]) == 0
    binary = tmp_path / "model.bin"
    assert main(["export", str(out), "--format", "fasttext", str(binary)]) == 0
    ours = load_vectors(out)
    theirs = fasttext.load_model(str(binary))
    gensim_model = load_facebook_model(str(binary))
    assert theirs.get_dimension() == 12 and gensim_model.wv.bucket == 3000
    assert set(theirs.words) == set(ours.index_to_key)
    for word in ["violin", "banana", "violinz", "bananna", "학교에", "qqq"]:
        np.testing.assert_allclose(theirs.get_word_vector(word), ours[word], atol=1e-4)
        np.testing.assert_allclose(gensim_model.wv[word], ours[word], atol=1e-4)


def test_subword_exports_need_a_subword_run(tmp_path, topic_corpus, capsys):
    corpus = _corpus_file(tmp_path, topic_corpus)
    out = tmp_path / "plain"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--dim", "8",
                 "--epochs", "1", "--quiet", "--no-plots"]) == 0
    capsys.readouterr()
    for source in (out, out / "vectors.txt"):
        assert main(["export", str(source), "--format", "fasttext", str(tmp_path / "m.bin")]) == 2
        err = capsys.readouterr().err
        assert "--subwords" in err and err.count("\n") == 1
    assert not (tmp_path / "m.bin").exists()


@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("negative", [0, 3])
def test_keras_subword_step_equals_dense_autodiff_step(whole, negative):
    """One sparse SGD step of the subword model against JAX's gradient of the same loss (with
    ``whole``, fastText's: each bag row's gradient times the bag's size). The shared
    negatives are drawn inside the step: the noise here is all on one word, so that every
    draw is that word, and each used pair adds ``negative`` times its negative loss."""
    import jax
    import jax.numpy as jnp
    import keras

    from sgns.encoding.subwords import flat_bags
    from sgns.engines.keras.models import SubwordSkipGram

    words = ["", "apple", "apples", "banana", "grape", "grapes", "melon"]
    spec = SubwordSpec(3, 4, 20)
    starts, ids = word_bags(spec, words)
    vocab_size, dim, lr, window, batch = len(words), 8, 0.2, 2, 6
    noise_word = 4
    model = SubwordSkipGram(vocab_size, dim, window=window, input_rows=vocab_size + 20,
                            whole_gradient=whole,
                            learning_rate=lr, init="keras", seed=3, shared=2,
                            negative=negative, group=4, noise=np.eye(vocab_size)[noise_word],
                            batch_size=batch)
    model.compile()
    variables = (model.input_table.embeddings, model.output_table.embeddings)
    before = [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]
    rng = np.random.default_rng(0)
    center = np.array([1, 2, 2, 5, 0, 6], dtype=np.int32)  # a repeat, and a padding example
    contexts = rng.integers(1, vocab_size, (batch, 2 * window)).astype(np.int32)
    contexts[rng.random(contexts.shape) < 0.3] = 0
    contexts[:, 0] = rng.integers(1, vocab_size, batch)
    weight = (center > 0).astype(np.float32)
    label = np.ones(batch, dtype=np.float32)
    rows, owner, n = flat_bags(center, starts, ids, 64)
    assert n == batch
    step = (((rows, owner), contexts), label, weight)  # one step: bags and windows differ in length
    model.fit((step for _ in range(1)), steps_per_epoch=1, epochs=1, verbose=0)

    def bag_vector(rows):
        if not len(rows):
            return jnp.zeros(dim)
        mean, total = rows.mean(0), rows.sum(0)
        if not whole:
            return mean
        # The mean's value, with the sum's gradient: each row gets the whole gradient.
        return jax.lax.stop_gradient(mean) + total - jax.lax.stop_gradient(total)

    def loss(tables):
        bags = [ids[starts[c]:starts[c + 1]] for c in center]
        hidden = jnp.stack([bag_vector(tables[0][b]) for b in bags])
        x = jnp.einsum("bd,bwd->bw", hidden, tables[1][contexts])
        used = (contexts != 0) * weight[:, None]
        # -log(1 - sigmoid(h . o)) = softplus(h . o), the noise word's row as every negative
        negatives = negative * jax.nn.softplus(hidden @ tables[1][noise_word])
        return jnp.sum(used * (jax.nn.softplus(x) - x + negatives[:, None]))

    grads = [np.array(g) for g in jax.grad(loss)([jnp.array(t) for t in before])]
    for variable, start, grad in zip(variables, before, grads, strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable.value),
                                   start - lr * np.array(grad), atol=1e-6)


@pytest.mark.parametrize("negative", [0, 3])
def test_keras_subword_cbow_step_equals_dense_autodiff_step(negative):
    """One sparse SGD step of fastText's CBOW against JAX's gradient of the same loss: the
    mean of all the window's rows (its words' own rows and n-grams) scored against the
    center word, every row of the bag getting the whole gradient. As above, the noise is all
    on one word, so that every negative draw is known."""
    import jax
    import jax.numpy as jnp
    import keras

    from sgns.encoding.subwords import window_bags
    from sgns.engines.keras.models import SubwordCBOW

    words = ["", "apple", "apples", "banana", "grape", "grapes", "melon"]
    spec = SubwordSpec(3, 4, 20)
    starts, ids = word_bags(spec, words)
    vocab_size, dim, lr, window, batch, noise_word = len(words), 8, 0.05, 2, 6, 4
    model = SubwordCBOW(vocab_size, dim, input_rows=vocab_size + 20,
                        learning_rate=lr, init="keras", seed=3, shared=2, negative=negative,
                        group=2, noise=np.eye(vocab_size)[noise_word], batch_size=batch)
    model.compile()
    variables = (model.input_table.embeddings, model.output_table.embeddings)
    before = [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]
    rng = np.random.default_rng(1)
    windows = rng.integers(1, vocab_size, (batch, 2 * window)).astype(np.int32)
    windows[rng.random(windows.shape) < 0.3] = 0
    windows[:, 0] = rng.integers(1, vocab_size, batch)
    windows[1, 1] = windows[1, 0]  # a word twice in one window
    center = np.array([1, 2, 2, 5, 3, 6], dtype=np.int32)
    weight = np.ones(batch, dtype=np.float32)
    weight[4] = 0.0  # a padding example
    rows, owner, n = window_bags(windows, starts, ids, 256)
    assert n == batch
    step = (((rows, owner), center[:, None]), np.ones(batch, np.float32), weight)
    model.fit((step for _ in range(1)), steps_per_epoch=1, epochs=1, verbose=0)

    def loss(tables):
        total = 0.0
        for k in range(batch):
            bag = np.concatenate([ids[starts[w]:starts[w + 1]] for w in windows[k]])
            mean, summed = tables[0][bag].mean(0), tables[0][bag].sum(0)
            # The mean's value, with the sum's gradient: each row gets the whole gradient.
            hidden = jax.lax.stop_gradient(mean) + summed - jax.lax.stop_gradient(summed)
            x = hidden @ tables[1][center[k]]
            noise = negative * jax.nn.softplus(hidden @ tables[1][noise_word])
            total = total + weight[k] * (jax.nn.softplus(x) - x + noise)
        return total

    grads = [np.array(g) for g in jax.grad(loss)([jnp.array(t) for t in before])]
    for variable, start, grad in zip(variables, before, grads, strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable.value),
                                   start - lr * np.array(grad), atol=1e-6)


def test_bag_batches_cut_a_batch_whose_bags_do_not_fit():
    from sgns.encoding.vocab import Vocabulary
    from sgns.engines.keras.batches import BagBatches

    vocab = Vocabulary(["a", "bb", "ccccccccccccc"], [5, 4, 3])
    bags = BagBatches(vocab, TrainConfig(subwords=True, buckets=50, batch_size=4))
    bags.size = 50  # the long word's bag (1 + 13 + 12 + 11 + 10 rows) leaves room for little
    window = np.array([[2, 1], [3, 0], [1, 2], [1, 3]], dtype=np.int32)
    center = np.array([3, 3, 1, 2], dtype=np.int32)
    batches = bags(((window, center), np.ones(4, np.float32), np.ones(4, np.float32)))
    assert len(batches) >= 2
    seen = []
    for ((rows, owner), win), _label, weight in batches:
        assert rows.shape == owner.shape == (50,) and win.shape == (4, 2)
        for k in np.flatnonzero(weight):
            bag = rows[(owner == k) & (rows != 0)]
            seen.append((tuple(win[k]), tuple(bag)))
    starts, ids = bags.starts, bags.ids
    want = [(tuple(window[k]), tuple(ids[starts[c]:starts[c + 1]])) for k, c in enumerate(center)]
    assert sorted(seen) == sorted(want)  # every example once, with its whole bag
    bags.size = 40  # less than the longest bag: an error, not an endless loop
    with pytest.raises(SgnsError, match="longer than the step's 40 slots"):
        bags(((window, center), np.ones(4, np.float32), np.ones(4, np.float32)))


def test_cbow_bag_batches_hold_each_windows_bags_and_cut_whole_windows():
    from sgns.encoding.vocab import Vocabulary
    from sgns.engines.keras.batches import BagBatches

    vocab = Vocabulary(["a", "bb", "ccccccccccccc"], [5, 4, 3])
    bags = BagBatches(vocab, TrainConfig(subwords=True, model="cbow", buckets=50,
                                         batch_size=4, window=1))
    starts, ids = bags.starts, bags.ids
    window = np.array([[2, 1], [3, 0], [1, 2], [3, 3], [0, 0]], dtype=np.int32)
    center = np.array([3, 1, 3, 2, 0], dtype=np.int32)
    bags.size = 120  # room for about two windows of the long word: the batch is cut
    batches = bags(((window, center), np.ones(5, np.float32), (center > 0).astype(np.float32)))
    assert len(batches) >= 2
    seen = []
    for ((rows, owner), out), _label, weight in batches:
        assert rows.shape == owner.shape == (120,) and out.shape == (5, 1)
        for k in np.flatnonzero(weight):
            seen.append((int(out[k, 0]), tuple(rows[(owner == k) & (rows != 0)])))
    want = [(int(c), tuple(np.concatenate([ids[starts[w]:starts[w + 1]] for w in window[k]])))
            for k, c in enumerate(center) if c]
    assert sorted(seen) == sorted(want)  # every window once, with all its words' bags


@pytest.mark.parametrize("model,lr", [("skipgram", 0.05), ("cbow", 0.02)])
def test_keras_subwords_group_topics_and_build_unseen_words(topic_corpus, model, lr):
    # CBOW's bag holds every row of the window, and a step adds up all the bags' gradients:
    # on this tiny vocabulary it wants a lower rate.
    config = _config(engine="keras", epochs=4, batch_size=256, shared_negatives=4,
                     shared_group=64, lr=lr, window=4, model=model)
    result = train(topic_corpus, config, verbose=False)
    kv = result.keyed_vectors()
    fruit, cars = ["apple", "banana", "cherry", "grape"], ["engine", "wheel", "brake", "piston"]
    within = np.mean([kv.similarity(a, b) for a in fruit for b in fruit if a != b])
    across = np.mean([kv.similarity(a, b) for a in fruit for b in cars])
    assert within > across + 0.3
    assert kv.most_similar("violinz", topn=1)[0][0] in {"violin", "cello", "flute", "oboe",
                                                        "trumpet", "harp"}
    assert result.bucket_rows.shape == (config.buckets, config.dim)
    # The default rate (README, "The measurements behind the defaults"): its own on Keras.
    assert TrainConfig(subwords=True).for_engine("keras").lr == 0.06
    assert TrainConfig(subwords=True, model="cbow").for_engine("keras").lr == 0.05
    assert TrainConfig(subwords=True).for_engine("native").lr == 0.025


def test_keras_subwords_with_lazy_adam_keep_moments_for_every_input_row(topic_corpus):
    """The input table holds the buckets too: its Adam moments must be as large, and rows
    outside the batches stay as they started."""
    from sgns.engines.keras.driver import build_model

    config = _config(engine="keras", optimizer="adam", lr=0.01, schedule="constant",
                     batch_size=256, shared_negatives=4, shared_group=64, epochs=1)
    vocab = Vocabulary.build(topic_corpus)
    model = build_model(vocab, config.for_engine("keras"), total_steps=10)
    assert [tuple(m.shape) for m in model._moments] == [
        (vocab.size + config.buckets, 16), (vocab.size + config.buckets, 16),
        (vocab.size, 16), (vocab.size, 16)]
    result = train(topic_corpus, config, verbose=False)
    assert np.isfinite(result.info["epochs"][0]["loss"])
    starts, ids = word_bags(config.subword_spec(), vocab.words)
    used = np.zeros(config.buckets, dtype=bool)
    used[ids[ids >= vocab.size] - vocab.size] = True
    fresh = build_model(vocab, config.for_engine("keras"), total_steps=10)
    start = np.array(keras_numpy(fresh.input_table.embeddings))[vocab.size:]
    np.testing.assert_array_equal(result.bucket_rows[~used], start[~used])
    assert not np.allclose(result.bucket_rows[used], start[used])


def keras_numpy(variable):
    import keras

    return keras.ops.convert_to_numpy(variable.value)


@pytest.mark.parametrize("examples,expected", [
    (372, (31, 15)),  # the default step: groups of 12 windows (240 pairs), 15 negatives each
    (373, (373, 1)),  # a prime: one window a group, one negative (16 per 256 pairs, rounded)
    (1, (1, 1)),
])
def test_keras_subword_negatives_are_shared_by_whole_windows(examples, expected):
    from sgns.engines.keras.models import SubwordSkipGram

    vocab_size = 50
    model = SubwordSkipGram(vocab_size, 4, window=10, input_rows=vocab_size + 10, shared=16,
                            group=256, noise=np.full(vocab_size, 1 / vocab_size),
                            batch_size=examples)
    groups, per_group = model._negative_shape(examples * 20)
    assert (groups, per_group) == expected
    assert examples % groups == 0  # every group holds whole windows
