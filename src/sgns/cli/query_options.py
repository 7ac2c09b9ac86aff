"""The options of ``sgns neighbors``, ``evaluate``, ``plot`` and ``export``."""

from __future__ import annotations

from .common import formatter


def add_query_parsers(sub) -> None:
    from ..embeddings.export import FORMATS

    n = sub.add_parser(
        "neighbors", formatter_class=formatter,
        help="nearest words by cosine similarity",
        description="Print the nearest words with their cosine similarity. Without --negative "
        "each WORD is queried on its own; with --negative the words are combined as in gensim's "
        "most_similar(positive=WORDS, negative=NEGATIVE), e.g. king woman --negative man.",
    )
    n.add_argument("vectors", help="a word2vec file (.txt; .bin for binary) or a run folder")
    n.add_argument("words", nargs="+", metavar="WORD", help="query words")
    n.add_argument("--topn", type=int, default=10, help="how many neighbours")
    n.add_argument("--negative", nargs="+", default=[], metavar="WORD",
                   help="words to subtract; the query words are then combined into one "
                   "query, as in most_similar(positive=..., negative=...) [default: none, each "
                   "word queried on its own]")

    e = sub.add_parser(
        "evaluate", formatter_class=formatter, help="word similarity and analogy scores",
        description="Spearman rho (and the share of pairs out of vocabulary) on word-pair "
        "similarity sets, accuracy on analogy sets. Without --pairs or --analogies: WordSim-353, "
        "SimLex-999 and the Google analogies, as shipped with gensim.",
    )
    e.add_argument("vectors", help="a run folder, a word2vec file (.txt, .bin) or an .npz")
    e.add_argument("--pairs", nargs="+", default=[], metavar="FILE",
                   help="word-pair files: 'word word score' per line, tab, comma or space "
                   "separated, header and '#' comments allowed [default: with neither option, "
                   "WordSim-353, SimLex-999 and the Google analogies that gensim ships]")
    e.add_argument("--analogies", nargs="+", default=[], metavar="FILE",
                   help="analogy files in the questions-words.txt layout [default: see --pairs]")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser(
        "plot", formatter_class=formatter, help="training curves and a map of word neighbours",
        description="Draw a 2-D map of chosen words and their nearest neighbours, and, for a run "
        "folder, its training curves (loss, and per-epoch evaluation when recorded). PNG or SVG "
        "by the file name's ending.",
    )
    p.add_argument("source", help="a run folder, or a vectors file (.txt, .bin, .npz)")
    p.add_argument("--words", nargs="+", metavar="WORD",
                   help="words to map [default: doctor police knife engine, those in the "
                   "vocabulary, else the five most frequent words]")
    p.add_argument("--out", help="the map's file [default: words.png in the run folder, or "
                   "beside the vectors file]")
    p.add_argument("--curves", help="the training curves' file, for a run folder "
                   "[default: training.png in the run folder]")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca", help="2-D projection")
    p.add_argument("--neighbours", type=int, default=6, help="neighbours drawn per word")

    x = sub.add_parser(
        "export", formatter_class=formatter, help="write the vectors in another format",
        description="word2vec-binary: word2vec's binary format (gensim binary=True, word2vec.c). "
        "projector: a folder with vectors.tsv and metadata.tsv for the Embedding Projector. "
        "npz: sgns' compact format (loads fastest; neighbors, evaluate and plot read it). "
        "keras: a .keras model mapping token strings to vectors (StringLookup + Embedding), "
        "which needs TensorFlow: pip install 'sgns[keras-export]'. fasttext: Facebook's fastText "
        "binary (.bin) of a run folder trained with --subwords, which fastText and gensim's "
        "load_facebook_model read, unseen words included.",
    )
    x.add_argument("vectors", help="a run folder, a word2vec file (.txt, .bin) or an .npz")
    x.add_argument("--format", required=True, choices=FORMATS, help="output format")
    x.add_argument("out", help="output file (a folder for projector)")
