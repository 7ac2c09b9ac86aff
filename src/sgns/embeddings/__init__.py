"""What a user does with trained vectors: the vector formats, nearest neighbours, evaluation,
exports and plots."""
