"""Tokens to ids: the vocabulary, the encoded corpus, subwords and bags of rows, the pair stream
(examples), and the tables' layout."""
