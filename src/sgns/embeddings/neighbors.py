"""Nearest words by cosine similarity with numpy alone, for ``sgns neighbors`` on sgns' own
``.npz`` vectors: the query is gensim's ``most_similar`` (the tests hold it to gensim's answers),
without the import of gensim, which takes most of a second of a command that should answer at
once. Everywhere else the vectors are a gensim ``KeyedVectors``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class NearestWords:
    """Words and their vectors, answering ``most_similar`` queries."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / np.where(norms > 0, norms, 1.0)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def most_similar(self, positive: Sequence[str], negative: Sequence[str] = (),
                     topn: int = 10) -> list[tuple[str, float]]:
        """As gensim's: the unit vectors of ``positive`` minus those of ``negative``, averaged
        and normalised, then the ``topn`` words of highest cosine with it, the query words
        left out."""
        rows = [self.index[w] for w in [*positive, *negative]]
        weights = np.r_[np.ones(len(positive)), -np.ones(len(negative))].astype(np.float32)
        query = weights @ self.unit[rows]
        query /= np.linalg.norm(query) or 1.0
        scores = self.unit @ query
        n = min(len(scores), topn + len(rows))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        excluded = set(rows)
        return [(self.words[k], float(scores[k])) for k in best if k not in excluded][:topn]
