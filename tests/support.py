"""Helpers shared by test files: a small corpus with known structure, and a hook that stops
training after a given epoch."""

import random


def topic_corpus(n_docs: int = 400, seed: int = 0) -> list[list[str]]:
    """Documents drawn from three disjoint topics plus shared filler words: words of one topic
    co-occur, so trained embeddings must put them together."""
    rng = random.Random(seed)
    topics = [
        ["apple", "banana", "cherry", "grape", "melon", "peach"],
        ["engine", "wheel", "brake", "clutch", "piston", "gearbox"],
        ["violin", "cello", "flute", "oboe", "trumpet", "harp"],
    ]
    filler = ["thing", "stuff", "really", "quite", "maybe", "often"]
    docs = []
    for _ in range(n_docs):
        topic = rng.choice(topics)
        docs.append([rng.choice(topic) if rng.random() < 0.7 else rng.choice(filler)
                     for _ in range(rng.randint(20, 40))])
    return docs


class Stop(Exception):
    """Raised by :func:`stop_after` to end a run as a crash would."""


def stop_after(epochs_done: int):
    """An epoch-end hook that raises :class:`Stop` once ``epochs_done`` epochs have finished."""
    def hook(end):
        if end.epoch + 1 == epochs_done:
            raise Stop

    return hook
