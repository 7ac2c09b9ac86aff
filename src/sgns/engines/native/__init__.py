"""Native engine: word2vec's skip-gram and CBOW with negative sampling, compiled with numba.

The algorithm is word2vec's (Mikolov et al., 2013): subsampling of frequent words, a window
shrunk at random per center word, negatives from unigram counts ** 0.75, linear learning-rate
decay, input table uniform in +-0.5/dim and output table zeros. What makes it fast is told in
``docs/engines.md``: HogBatch windows (Ji et al., 2016), negatives from an alias table (Walker
1977; Vose 1991) drawn ahead, CBOW windows from running sums, kernels compiled for the CPU.

From the bottom up: ``compiler`` (how the compiled code is compiled), ``sampling`` (the random
draws and the alias table), ``kernels`` (one example's update), ``windows`` (the steps every
model's loop shares), ``sentences`` (one document, center by center, per model and loss),
``loops`` (the compiled loop over documents, in threads), ``cache`` (numba's cache kept true to
the sources), ``tree_top`` (each worker's copy of the top of hierarchical softmax's tree),
``prepare`` (compiling a run's model path, now or ahead while the corpus is read) and
``driver`` (the Python loop over epochs).
"""

from .driver import initial_tables, train_native, worker_ranges
from .kernels import LOSS_CAP, MAX_EXP, gradient_and_loss
from .prepare import compile_ahead, compile_kernels
from .sampling import alias_table

__all__ = [
    "LOSS_CAP", "MAX_EXP", "alias_table", "compile_ahead", "compile_kernels", "gradient_and_loss",
    "initial_tables", "train_native", "worker_ranges",
]
