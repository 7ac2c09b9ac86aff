"""Drop-in replacements for what Keras 3 removed: ``Tokenizer``, ``skipgrams``,
``make_sampling_table``, with Keras 2's behaviour (keras-preprocessing 1.1.2).

These are for code ported from Keras 2 notebooks. Training itself uses the vectorised pair stream
in :mod:`sgns.encoding.pairs`, which is orders of magnitude faster than ``skipgrams``.
"""

from __future__ import annotations

import random as _random
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(
    text: str, filters: str = DEFAULT_FILTERS, lower: bool = True, split: str = " "
) -> list[str]:
    """Split a string into words after turning every filter character into ``split``."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


class Tokenizer:
    """Keras 2's text tokenizer: word counts, a frequency-ranked index (1 = most frequent, ties in
    first-seen order, 0 reserved), and texts to index sequences.

    Texts may be strings or lists of tokens (the notebook passes lists); lists are only
    lower-cased, never split or filtered.
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = DEFAULT_FILTERS,
        lower: bool = True,
        split: str = " ",
        char_level: bool = False,
        oov_token: str | None = None,
        document_count: int = 0,
    ) -> None:
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.document_count = document_count
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def _words(self, text: str | Sequence[str]) -> Sequence[str]:
        if self.char_level or isinstance(text, list):
            if self.lower:
                return [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str | Sequence[str]]) -> None:
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for w in words:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(words):
                self.word_docs[w] += 1
        # sorted() is stable, so equal counts keep their first-seen order.
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in ranked]
        self.word_index = {w: i for i, w in enumerate(vocabulary, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int)
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def texts_to_sequences(self, texts: Iterable[str | Sequence[str]]) -> list[list[int]]:
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable[str | Sequence[str]]):
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            sequence = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and self.num_words and i >= self.num_words:
                    i = oov_index
                elif i is None:
                    i = oov_index
                if i is not None:
                    sequence.append(i)
            yield sequence

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        oov_index = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        texts = []
        for sequence in sequences:
            words = []
            for i in sequence:
                if self.num_words and i >= self.num_words:
                    i = oov_index
                word = self.index_word.get(i) if i is not None else None
                if word is not None:
                    words.append(word)
            texts.append(" ".join(words))
        return texts


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """Keep-probability of the word of rank ``i``, assuming Zipf-distributed frequencies, as in
    Keras 2 (word2vec's subsampling formula with frequencies estimated from the rank)."""
    euler_gamma = 0.577
    rank = np.arange(size, dtype=np.float64)
    rank[0] = 1
    # Harmonic-number approximation of 1 / frequency for rank r (Zipf's law).
    inverse_frequency = rank * (np.log(rank) + euler_gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inverse_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(
    sequence: Sequence[int],
    vocabulary_size: int,
    window_size: int = 4,
    negative_samples: float = 1.0,
    shuffle: bool = True,
    categorical: bool = False,
    sampling_table: np.ndarray | None = None,
    seed: int | None = None,
    rng: _random.Random | None = None,
) -> tuple[list[list[int]], list]:
    """Keras 2's skip-gram pairs for one sequence: every (word, context) within ``window_size``
    labelled 1, then ``negative_samples`` times as many (word, random word) labelled 0.

    Index 0 is skipped (padding). ``rng`` defaults to Python's global ``random``, as in Keras 2, so
    that seeding ``random`` reproduces Keras 2's output exactly; pass a ``random.Random`` to keep
    the global state untouched.
    """
    rng = rng or _random
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    couples: list[list[int]] = []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < rng.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
    labels = [list(positive) if categorical else positive for _ in couples]
    if negative_samples > 0:
        n_negative = int(len(labels) * negative_samples)
        centers = [c[0] for c in couples]
        rng.shuffle(centers)
        couples += [
            [centers[i % len(centers)], rng.randint(1, vocabulary_size - 1)]
            for i in range(n_negative)
        ]
        labels += [list(negative) if categorical else negative for _ in range(n_negative)]
    if shuffle:
        if seed is None:
            seed = rng.randint(0, int(10e6))
        # The same seed twice gives couples and labels the same permutation.
        _random.Random(seed).shuffle(couples)
        _random.Random(seed).shuffle(labels)
    return couples, labels
