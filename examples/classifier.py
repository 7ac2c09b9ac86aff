"""A 20 Newsgroups topic classifier whose first layers are sgns embeddings, against the same
classifier from random embeddings.

The embeddings are trained on the training subset with the native engine, exported as a Keras
model (``sgns export --format keras``: ``StringLookup`` + ``Embedding``) and loaded back. The
classifier averages the word vectors of a document (masking padding) and puts one softmax layer
on top; it is trained on the training subset and scored on the test subset. Three starts:

- random: a fresh ``Embedding`` of the same shape, trained with the classifier;
- sgns, frozen: the exported layer, not trained;
- sgns, fine-tuned: the exported layer, trained with the classifier.

    pip install 'sgns[keras-export]'; python examples/classifier.py [--epochs 15]
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import sgns  # noqa: E402
from sgns.embeddings.export import save_keras  # noqa: E402

MAX_TOKENS = 200


def tokenised(subset: str) -> tuple[list[list[str]], np.ndarray, list[str]]:
    texts, labels = sgns.load_20newsgroups(subset=subset, with_labels=True)
    cleaner = sgns.Cleaner()
    docs, kept = [], []
    for text, label in zip(texts, labels, strict=True):
        tokens = cleaner.tokens(cleaner.words(text))
        if tokens:
            docs.append(tokens[:MAX_TOKENS])
            kept.append(label)
    names = sorted(set(labels))
    return docs, np.array([names.index(label) for label in kept]), names


def padded(docs: list[list[str]]) -> np.ndarray:
    out = np.full((len(docs), MAX_TOKENS), "", dtype=object)
    for k, doc in enumerate(docs):
        out[k, : len(doc)] = doc
    return out.astype(str)


def classifier(embedding: keras.layers.Layer, classes: int, seed: int) -> keras.Model:
    ids = keras.Input((MAX_TOKENS,), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(embedding(ids))
    probs = keras.layers.Dense(classes, activation="softmax",
                               kernel_initializer=keras.initializers.GlorotUniform(seed))(pooled)
    model = keras.Model(ids, probs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    train_docs, train_y, names = tokenised("train")
    test_docs, test_y, _ = tokenised("test")
    result = sgns.train(sgns.clean(sgns.load_20newsgroups()), sgns.TrainConfig(seed=args.seed),
                        verbose=False)
    kv = result.keyed_vectors()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "embeddings.keras")
        save_keras(path, kv.index_to_key, kv.vectors)
        exported = keras.saving.load_model(path)
    lookup = exported.get_layer("lookup")  # strings -> ids, in the input pipeline (JAX has no
    train_x = keras.ops.convert_to_numpy(lookup(padded(train_docs)))  # string tensors)
    test_x = keras.ops.convert_to_numpy(lookup(padded(test_docs)))
    table = exported.get_layer("embedding").get_weights()[0]

    def pretrained(trainable: bool) -> keras.layers.Embedding:
        return keras.layers.Embedding(*table.shape, mask_zero=True, trainable=trainable,
                                      embeddings_initializer=keras.initializers.Constant(table))

    starts = {
        "random embeddings (trained)": lambda: keras.layers.Embedding(*table.shape,
                                                                      mask_zero=True),
        "sgns embeddings, frozen": lambda: pretrained(False),
        "sgns embeddings, fine-tuned": lambda: pretrained(True),
    }
    print(f"20 Newsgroups: {len(train_docs):,} training and {len(test_docs):,} test documents, "
          f"{len(names)} classes; {args.epochs} epochs, Adam 1e-3, batch 64")
    print("| first layer | test accuracy |")
    print("|---|---|")
    for name, make in starts.items():
        model = classifier(make(), len(names), args.seed)
        model.fit(train_x, train_y, batch_size=64, epochs=args.epochs, verbose=0)
        accuracy = model.evaluate(test_x, test_y, verbose=0)[1]
        print(f"| {name} | {accuracy:.3f} |", flush=True)


if __name__ == "__main__":
    main()
