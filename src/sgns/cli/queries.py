"""``sgns neighbors``, ``evaluate``, ``plot`` and ``export``: the consumers of a run folder or a
vectors file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SgnsError
from ..files import read_json
from .common import map_words


def run(args: argparse.Namespace) -> int:
    commands = {"neighbors": _neighbors, "evaluate": _evaluate, "plot": _plot,
                "export": _export}
    return commands[args.command](args)


def _neighbors(args: argparse.Namespace) -> int:
    from ..embeddings.vectors import load_vectors, read_npz, vectors_path

    if args.topn < 1:
        raise SgnsError(f"--topn must be >= 1, got {args.topn}")
    from ..encoding.subwords import SUBWORDS_FILE

    path = vectors_path(args.vectors)  # a run folder or a vectors file
    built = set()  # words outside the vocabulary, built from their n-grams
    if (Path(args.vectors) / SUBWORDS_FILE).is_file():
        kv = load_vectors(args.vectors)
        built = {w for w in [*args.words, *args.negative] if not kv.has_index_for(w)}
    elif path.endswith(".npz"):  # sgns' own vectors: answered without importing gensim
        from ..embeddings.neighbors import NearestWords

        kv = NearestWords(*read_npz(path))
    else:
        kv = load_vectors(path)
    for word in [*args.words, *args.negative]:
        if word not in kv:
            raise SgnsError(f"word {word!r} is not in the vocabulary of {args.vectors}")
    queries = [(args.words, args.negative)] if args.negative else [([w], []) for w in args.words]
    for positive, negative in queries:
        mark = {w: f"{w} (not in the vocabulary: built from its n-grams)" if w in built else w
                for w in [*positive, *negative]}
        title = " + ".join(mark[w] for w in positive) + "".join(f" - {mark[w]}"
                                                                for w in negative)
        print(title)
        for word, score in kv.most_similar(positive=positive, negative=negative, topn=args.topn):
            print(f"  {score:7.4f}  {word}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from ..embeddings.evaluate import evaluate
    from ..embeddings.vectors import load_vectors

    kv = load_vectors(args.vectors)
    chosen = bool(args.pairs or args.analogies)
    results = evaluate(
        kv,
        pairs={Path(f).stem: f for f in args.pairs} if chosen else None,
        analogies={Path(f).stem: f for f in args.analogies} if chosen else None,
    )
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'set':<22}{'metric':<10}{'value':>8}{'out of vocabulary':>20}")
    for name, r in results.items():
        metric = "spearman" if "spearman" in r else "accuracy"
        print(f"{name:<22}{metric:<10}{r[metric]:>8.4f}{r['oov_ratio']:>19.1%}")
    return 0


def _plot(args: argparse.Namespace) -> int:

    from ..embeddings.plots import plot_training, plot_words
    from ..embeddings.vectors import load_vectors

    if args.neighbours < 1:
        raise SgnsError(f"--neighbours must be >= 1, got {args.neighbours}")
    source = Path(args.source)
    kv = load_vectors(source)
    folder = source if source.is_dir() else source.parent
    words_file = plot_words(kv, args.words or map_words(kv), args.out or folder / "words.png",
                            neighbours=args.neighbours, method=args.method)
    print(f"wrote {words_file}")
    if source.is_dir() and (source / "run.json").is_file():
        info = read_json(source / "run.json", "sgns run record")
        print(f"wrote {plot_training(info, args.curves or source / 'training.png')}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..embeddings.export import export, export_fasttext
    from ..embeddings.vectors import load_vectors

    if args.format == "fasttext":
        if not Path(args.vectors).is_dir():
            raise SgnsError("the fasttext format needs a run folder trained with --subwords, "
                            f"not a vectors file: {args.vectors}")
        print(f"wrote {export_fasttext(args.vectors, args.out)}")
        return 0
    kv = load_vectors(args.vectors)
    out = export(kv.index_to_key, kv.vectors, args.format, args.out)
    print(f"wrote {out}")
    return 0

