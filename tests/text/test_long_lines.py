"""Lines as large as a corpus, read in Python (``any-script``, ``--count-limit``): in parts,
never whole, and cleaned into the same pieces as the whole line would give."""

import tracemalloc

import numpy as np

from sgns.config import LONGEST_DOCUMENT
from sgns.text.cleaning import Cleaner, StreamingCorpus, clean
from sgns.text.corpus import LinePart, read_text_corpus


def test_a_long_line_is_read_in_parts_that_join_into_it(tmp_path, monkeypatch):
    """Parts cut after a space or a tab, of about ``LINE_PART_CHARS``; a line with no space
    grows whole; shorter lines, and the last one without its end, are as Python reads them."""
    monkeypatch.setattr("sgns.text.corpus.LINE_PART_CHARS", 10)
    lines = ["alpha beta\tgamma delta epsilon zeta eta theta", "short", "x" * 25, "",
             "end, no \\n"]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines))
    got = list(read_text_corpus(path))
    joined, line = [], ""
    for s in got:
        line += s
        if not isinstance(s, LinePart):
            joined.append(line)
            line = ""
    assert joined == lines and line == ""
    parts = [s for s in got if isinstance(s, LinePart)]
    assert len(parts) >= 4 and all(s.endswith((" ", "\t")) and len(s) <= 20 for s in parts)
    first = got.index("short")  # the short lines, and the one with no space, whole
    assert got[first:first + 3] == ["short", "x" * 25, ""]


def test_a_long_line_cleans_into_the_pieces_of_the_whole(tmp_path, monkeypatch):
    """Read in parts, a line gives the tokens of the whole line, cut every
    LONGEST_DOCUMENT tokens; counted as one document."""
    monkeypatch.setattr("sgns.text.corpus.LINE_PART_CHARS", 50)
    monkeypatch.setattr("sgns.text.cleaning.LONGEST_DOCUMENT", 7)
    rng = np.random.default_rng(1)
    words = ["Ökonomie", "the", "café", "東京", "x", "naïve", "ab", "über"]
    lines = [" ".join(rng.choice(words, n)) for n in (60, 3, 1, 40)]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    cleaner = Cleaner.mode("any-script")
    parted = clean(read_text_corpus(path), cleaner)
    whole = clean(lines, cleaner)
    assert parted.counts() == whole.counts() and parted.tokens == whole.tokens
    pieces = [doc[k:k + 7] for doc in whole.documents for k in range(0, len(doc), 7)]
    assert parted.documents == pieces


def test_one_long_line_streams_in_bounded_memory(tmp_path):
    """One line of 8 MB (1.3 million words) through ``any-script`` and ``StreamingCorpus``:
    what is allocated at once stays a few parts' worth, where the line's words alone, as
    Python strings, take tens of MB."""
    rng = np.random.default_rng(0)
    vocab = np.array([f"wörd{k}" for k in range(2000)])
    path = tmp_path / "line.txt"
    path.write_text(" ".join(vocab[rng.integers(0, 2000, 1_300_000)]) + "\nshort line\n")
    corpus = StreamingCorpus(path, Cleaner.mode("any-script"))
    tracemalloc.start()
    try:
        lengths = [len(doc) for doc in corpus]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12_000_000, peak
    assert corpus.counts() == {"loaded": 2, "nonempty": 2, "kept": 2}
    assert lengths == [LONGEST_DOCUMENT] * 130 + [2]
