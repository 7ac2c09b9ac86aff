"""The notebook's picture of the skip-gram model."""

from __future__ import annotations

import keras

from .models import SkipGram


def draw_diagram(vocab_size: int, dim: int, path) -> bool:
    """The notebook's ``plot_model`` picture of the two-table model; False when pydot or
    Graphviz is missing."""
    model = SkipGram(vocab_size, dim)
    center = keras.Input((), dtype="int32", name="center_word")
    context = keras.Input((), dtype="int32", name="context_word")
    graph = keras.Model(
        [center, context],
        model.sigmoid(
            model.dot([model.input_table(center), model.output_table(context)])
        ),
        name="skip_gram",
    )
    try:
        keras.utils.plot_model(graph, to_file=str(path), show_shapes=True, show_layer_names=True)
    except ImportError:
        return False
    return True
