"""Text to tokens: the corpora, the cleaning modes, streaming from disk, and the Keras 2
preprocessing drop-ins."""
