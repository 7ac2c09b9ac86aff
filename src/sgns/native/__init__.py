"""Native engine: word2vec's skip-gram and CBOW with negative sampling, compiled with numba.

The algorithm is word2vec's (Mikolov et al., 2013): subsampling of frequent words, a window
shrunk at random per center word, negatives from unigram counts ** 0.75, linear learning-rate
decay, input table uniform in +-0.5/dim and output table zeros. What makes it fast:

- Skip-gram shares a center word's negatives among its context words, and computes the window's
  updates together before writing them (HogBatch: Ji et al., "Parallelizing Word2Vec in
  Multi-Core and Many-Core Architectures", 2016). The few output rows stay in L1 while the
  context rows stream past; with up to 5 negatives (the default) the products are
  register-blocked.
- Negatives come from an alias table in O(1) (Walker 1977; Vose 1991) instead of a binary search
  or a 100M-entry table, drawn in runs ahead of the centers that use them.
- CBOW averages the window into one hidden vector, scores it against the center and its
  negatives, and adds the hidden vector's gradient to every context row, as word2vec does; a
  draw of negatives serves a few consecutive centers (``cbow_share``), whose output rows are
  then in cache.

The package holds the random draws and alias table (``sampling``), the per-example update
kernels, the score-to-gradient polynomials and the compiler settings of the kernels
(``kernels``), the thread loop over documents and epochs (``loop``), and the check that keeps
numba's cache of them true to the sources (``cache``).
"""

from .kernels import LOSS_CAP, MAX_EXP, gradient_and_loss
from .loop import compile_kernels, initial_tables, train_native, worker_ranges
from .sampling import alias_table

__all__ = [
    "LOSS_CAP", "MAX_EXP", "alias_table", "compile_kernels", "gradient_and_loss",
    "initial_tables", "train_native", "worker_ranges",
]
