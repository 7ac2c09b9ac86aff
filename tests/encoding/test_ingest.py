"""The compiled ingest (scanner, interner, counting) against the Python cleaner and
``Vocabulary.build``: the same tokens, counts, ranks and ids, for the cleanings it takes, in
memory and spilled, whatever the block size."""

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgns.encoding.ingest import scan_corpus
from sgns.encoding.token_lists import scanned_documents
from sgns.encoding.vocab import EncodedCorpus, Vocabulary
from sgns.errors import SgnsError
from sgns.text.cleaning import Cleaner, clean
from sgns.text.corpus import read_text_corpus


def _ids(encoded) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(encoded, EncodedCorpus):
        return encoded.ids, encoded.starts
    chunks = list(encoded.chunks())
    ids = np.concatenate([c.ids for c in chunks])
    lengths = np.concatenate([np.diff(c.starts) for c in chunks])
    return ids, np.concatenate(([0], np.cumsum(lengths)))


def _assert_same(scanned, cleaned, min_count=1, max_vocab=None):
    assert scanned.counts() == cleaned.counts() and scanned.tokens == cleaned.tokens
    want = Vocabulary.build(cleaned.documents, min_count, max_vocab)
    got = scanned.vocabulary(min_count, max_vocab)
    assert got.words == want.words
    np.testing.assert_array_equal(got.counts, want.counts)
    expected = want.encode(cleaned.documents)
    ids, starts = _ids(scanned.encode(got))
    np.testing.assert_array_equal(ids, expected.ids)
    np.testing.assert_array_equal(starts, expected.starts)


def test_20newsgroups_scans_as_the_notebook_cleans(newsgroups_docs, newsgroups_clean):
    scanned = scan_corpus(newsgroups_docs, Cleaner.mode("notebook"))
    _assert_same(scanned, newsgroups_clean)
    _assert_same(scanned, newsgroups_clean, min_count=5, max_vocab=2000)


@pytest.mark.parametrize("stream", [False, True])
def test_20newsgroups_from_a_file_in_small_blocks(newsgroups_docs, tmp_path, stream):
    """One document a line, read 64 KiB at a time: the blocks' seams split no token."""
    lines = [" ".join(doc.split()) for doc in newsgroups_docs[:3000]]
    path = tmp_path / "news.txt"
    path.write_text("\n".join(lines) + "\n")
    cleaner = Cleaner.mode("notebook")
    scanned = scan_corpus(path, cleaner, stream=stream, block_bytes=1 << 16)
    _assert_same(scanned, clean(read_text_corpus(path), cleaner))


MIXED = ("Héllo wörld ΚΑΛΗΜΕΡΑ мир\r\nthe THE The quick\rbrown\n\n   \nfox\x00jumps \ufeffover "
         "naïve café 東京 서울\tdoes\x0bit\x0cwork\ncafé café tail-end")


@pytest.mark.parametrize("mode", ["notebook", "none"])
@pytest.mark.parametrize("block_bytes", [7, 1 << 20])
def test_mixed_text_scans_as_python_reads_it(tmp_path, mode, block_bytes):
    """CRLF, a lone CR, blank lines, NUL, a BOM, other scripts, vertical tabs and a last line
    without its end, in every cleaning the scanner takes."""
    path = tmp_path / "mixed.txt"
    path.write_bytes(MIXED.encode() + b" \xff\xfe bad\xc3 bytes\n")
    cleaner = Cleaner.mode(mode, min_doc_tokens=1) if mode == "notebook" else Cleaner.mode(mode)
    scanned = scan_corpus(path, cleaner, block_bytes=block_bytes)
    _assert_same(scanned, clean(read_text_corpus(path), cleaner))


def test_none_splits_on_whitespace_and_keeps_everything_else(tmp_path):
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write("The the, café\tx\n\nA a\n")
    scanned = scan_corpus(path, Cleaner.mode("none"))
    vocab = scanned.vocabulary()
    assert vocab.words[1:] == ["The", "the,", "café", "x", "A", "a"]
    assert scanned.counts() == {"loaded": 3, "nonempty": 2, "kept": 2}
    assert scanned.encode(vocab).starts.tolist() == [0, 4, 6]


def test_other_encodings_are_read_as_python_reads_them(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("naïve déjà vu über alles\nzweite zeile über\n".encode("latin-1"))
    cleaner = Cleaner.mode("none")
    scanned = scan_corpus(path, cleaner, encoding="latin-1", block_bytes=5)
    _assert_same(scanned, clean(read_text_corpus(path, encoding="latin-1"), cleaner))


def test_a_folder_is_one_document_a_file(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a.txt").write_text("first line\nof file a\n")
    (tmp_path / "b" / "c.txt").write_text("only\nfile c")
    cleaner = Cleaner.mode("none")
    scanned = scan_corpus(tmp_path, cleaner)
    _assert_same(scanned, clean(read_text_corpus(tmp_path), cleaner))
    assert scanned.counts()["loaded"] == 2


def test_any_script_is_left_to_python():
    assert scan_corpus(["some text"], Cleaner.mode("any-script")) is None


def test_words_that_decode_alike_are_one_word(tmp_path):
    """Two different undecodable bytes both read as U+FFFD: one word, counted twice."""
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a\xff b a\xfe b\n")
    scanned = scan_corpus(path, Cleaner.mode("none"))
    vocab = scanned.vocabulary()
    assert vocab.words[1:] == ["a\ufffd", "b"] and vocab.counts[1:].tolist() == [2, 2]
    assert scanned.encode(vocab).ids.tolist() == [1, 2, 1, 2]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="abAB é\r\n\t\x00Жx", max_size=80),
       mode=st.sampled_from(["notebook", "none"]), block=st.integers(1, 12),
       min_length=st.integers(1, 3))
def test_any_text_scans_as_python_reads_it(tmp_path, text, mode, block, min_length):
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode())
    changes = {"min_word_length": min_length, "min_doc_tokens": 1} if mode == "notebook" else {}
    cleaner = Cleaner.mode(mode, stop_words=frozenset({"ab"}), **changes) \
        if mode == "notebook" else Cleaner.mode(mode)
    python = list(read_text_corpus(path))
    if not python or not any(cleaner.tokens(cleaner.words(d)) for d in python):
        return  # an empty corpus: an error both ways
    scanned = scan_corpus(path, cleaner, block_bytes=block)
    _assert_same(scanned, clean(python, cleaner))


def test_undecodable_bytes_are_counted_and_reported(tmp_path, capsys):
    """Invalid UTF-8, NUL, CRLF and a BOM train as documented; the undecodable sequences are
    counted (a genuine U+FFFD is not), printed and recorded in run.json."""
    import json

    from sgns.cli import main

    path = tmp_path / "bad.txt"
    text = b"\xef\xbb\xbfalpha beta\xff gamma\r\nbeta \xc3( alpha\x00 gamma \xef\xbf\xbd\n"
    path.write_bytes(text * 50)
    scanned = scan_corpus(path, Cleaner.mode("none"), block_bytes=64)
    assert scanned.undecodable == 100
    _assert_same(scanned, clean(read_text_corpus(path), Cleaner.mode("none")))
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(path), "--cleaning", "none", "--out", str(out),
                 "--epochs", "1", "--dim", "8", "--quiet", "--no-plots"]) == 0
    assert "100 undecodable byte sequence(s)" in capsys.readouterr().err
    assert json.loads((out / "run.json").read_text())["corpus"]["undecodable"] == 100


def test_the_interner_grows_past_a_quarter_million_words():
    """Its tables double as words come (each doubling of the word arrays once wrote past
    their end beyond 131,072 words); every word keeps its id."""
    from sgns.encoding.interner import Interner

    words = [f"w{k}".encode() for k in range(300_000)]
    data = np.frombuffer(b"".join(words), np.uint8)
    ends = np.cumsum([len(w) for w in words])
    starts = ends - [len(w) for w in words]
    interner = Interner(lowercase=False)
    ids = interner.ids(data, starts, ends)
    assert ids.tolist() == list(range(300_000))
    assert interner.ids(data[::-1].copy()[::-1].copy(), starts, ends).tolist() == ids.tolist()
    assert interner.words(299_990) == [w.decode() for w in words[299_990:]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(st.sampled_from(["ab", "cd", "the", "efg", "hij"]), max_size=14),
                      min_size=1, max_size=6),
       block=st.integers(1, 20), longest=st.integers(2, 5), stream=st.booleans(),
       part=st.sampled_from([4, 9, 1 << 18]))
def test_long_documents_are_cut_as_python_cuts_them(tmp_path, monkeypatch, lines, block,
                                                    longest, stream, part):
    """A document longer than LONGEST_DOCUMENT words (after the stop words go) is kept as pieces
    of that many, whatever the blocks it spans: the same pieces as Python's cleaning gives,
    from whole lines (``Vocabulary.encode`` cuts them) or from lines read in parts of ``part``
    characters; a document counts once however many pieces it makes."""
    monkeypatch.setattr("sgns.encoding.ingest.LONGEST_DOCUMENT", longest)
    monkeypatch.setattr("sgns.encoding.vocab.LONGEST_DOCUMENT", longest)
    monkeypatch.setattr("sgns.text.cleaning.LONGEST_DOCUMENT", longest)
    monkeypatch.setattr("sgns.text.corpus.LINE_PART_CHARS", part)
    path = tmp_path / "t.txt"
    path.write_text("\n".join(" ".join(line) for line in lines) + "\n")
    cleaner = Cleaner.mode("notebook", min_word_length=2, min_doc_tokens=2,
                           stop_words=frozenset({"the"}))
    python = list(read_text_corpus(path))
    if not any(len(cleaner.tokens(cleaner.words(d))) >= 2 for d in python):
        return  # an empty corpus: an error both ways
    scanned = scan_corpus(path, cleaner, block_bytes=block, stream=stream)
    _assert_same(scanned, clean(python, cleaner))
    _, starts = _ids(scanned.encode(scanned.vocabulary()))
    assert np.diff(starts).max() <= longest


def test_one_long_line_is_read_in_bounded_memory(tmp_path):
    """One line of 2.4 million words (14 MB), read 256 KB at a time and spilled: the arrays
    allocated at once stay a few blocks' worth, where the line's ids alone are 9.6 MB; the
    line is kept as pieces of LONGEST_DOCUMENT words."""
    import tracemalloc

    from sgns.config import LONGEST_DOCUMENT

    words = np.array([f"w{k:03d}" for k in range(1000)])
    rng = np.random.default_rng(0)
    path = tmp_path / "line.txt"
    with open(path, "w") as file:
        for _ in range(24):
            file.write(" ".join(words[rng.integers(0, 1000, 100_000)]) + " ")
        file.write("\nshort line\n")
    tracemalloc.start()
    try:
        scanned = scan_corpus(path, Cleaner.mode("none"), stream=True, block_bytes=1 << 18)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6_000_000, peak
    assert scanned.counts() == {"loaded": 2, "nonempty": 2, "kept": 2}
    _, starts = _ids(scanned.encode(scanned.vocabulary()))
    assert np.diff(starts).tolist() == [LONGEST_DOCUMENT] * 240 + [2]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(st.lists(st.sampled_from(["ab", "cd", "", "é"]), max_size=14), max_size=6),
       longest=st.integers(2, 5), batch=st.integers(1, 20), stream=st.booleans())
def test_token_lists_are_cut_and_spilled_as_python_cuts_them(monkeypatch, docs, longest, batch,
                                                             stream):
    """Token lists numbered by the interner (``scanned_documents``, as ``sgns.train`` takes
    them): documents longer than LONGEST_DOCUMENT as pieces of that many, empty ones kept, in
    memory or spilled, whatever the batch, as ``Vocabulary.encode`` cuts them."""
    monkeypatch.setattr("sgns.encoding.token_lists.LONGEST_DOCUMENT", longest)
    monkeypatch.setattr("sgns.encoding.vocab.LONGEST_DOCUMENT", longest)
    if not any(docs):
        return  # no token: no vocabulary either way
    scanned = scanned_documents(docs, stream=stream, batch_tokens=batch)
    assert scanned.counts() == {"loaded": len(docs), "nonempty": len(docs), "kept": len(docs)}
    want = Vocabulary.build(docs)
    got = scanned.vocabulary()
    assert got.words == want.words
    ids, starts = _ids(scanned.encode(got))
    expected = want.encode(docs)
    np.testing.assert_array_equal(ids, expected.ids)
    np.testing.assert_array_equal(starts, expected.starts)


def test_a_token_that_is_not_a_str_is_a_clear_error():
    with pytest.raises(SgnsError, match="list of str tokens"):
        scanned_documents([["a", "b"], ["c", 3]])
