"""``sgns phrases``: a corpus with its frequent collocations joined ("new_york"), as gensim's
``Phrases`` finds them; and the phrase options that ``sgns train --phrases`` shares."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SgnsError
from .common import formatter

CONNECTOR_CHOICES = "'none', 'english' (gensim's ENGLISH_CONNECTOR_WORDS) or a file of words"


def add_phrase_settings(group, prefix: str = "") -> None:
    """The scoring options, as ``--min-count`` (``sgns phrases``) or ``--phrase-min-count``
    (``sgns train``)."""
    group.add_argument(f"--{prefix}min-count", type=float, default=5,
                       help="a candidate seen fewer times is never a phrase (gensim's "
                       "min_count) [default: 5]")
    group.add_argument(f"--{prefix}threshold", type=float, default=10.0,
                       help="phrases score above this: word2vec's formula, or -1..1 for npmi "
                       "[default: 10]")
    group.add_argument(f"--{prefix}scoring", choices=("default", "npmi"), default="default",
                       help="'default': word2vec's (count - min_count) / (count_a * count_b) * "
                       "vocabulary size; 'npmi': normalised pointwise mutual information "
                       "[default: default]")
    group.add_argument(f"--{prefix}connectors", default="none",
                       help=f"connector words, which may sit inside a phrase but never begin or "
                       f"end one: {CONNECTOR_CHOICES} [default: none, as gensim]")


def phrase_settings(args: argparse.Namespace, prefix: str = ""):
    from ..encoding.phrases import ENGLISH_CONNECTORS, PhraseSettings

    def get(name):
        return getattr(args, prefix + name)

    connectors = get("connectors")
    if connectors == "none":
        words: frozenset[str] = frozenset()
    elif connectors == "english":
        words = ENGLISH_CONNECTORS
    else:
        try:
            words = frozenset(Path(connectors).read_text(encoding="utf-8").split())
        except (OSError, UnicodeDecodeError) as exc:
            raise SgnsError(f"cannot read the connector words {connectors}: {exc}") from None
    return PhraseSettings(get("min_count"), get("threshold"), get("scoring"), words)


def add_phrases_parser(sub) -> None:
    p = sub.add_parser(
        "phrases", formatter_class=formatter, help="join frequent collocations (new_york)",
        description="Write CORPUS, cleaned, one document a line, with its phrases joined by "
        "'_', as gensim's Phrases finds and joins them; or join the phrases of a saved model "
        "(--model) in new text.")
    p.add_argument("corpus", metavar="CORPUS",
                   help="'20newsgroups', a text file (one document a line, .gz allowed) or a "
                   "folder of .txt files")
    p.add_argument("out", metavar="OUT", help="text file to write")
    p.add_argument("--passes", type=int, default=1,
                   help="rounds of phrase detection, each on the last one's output (2 give "
                   "three- and four-word phrases) [default: 1]")
    add_phrase_settings(p)
    p.add_argument("--save", metavar="MODEL",
                   help="also write the phrases found (a JSON model for --model) [default: none]")
    p.add_argument("--model", metavar="MODEL",
                   help="join the phrases of a saved model instead of finding them [default: none: "
                   "find them]")
    p.add_argument("--cleaning", choices=("notebook", "any-script", "none"),
                   help="as for sgns train [default: notebook for 20newsgroups, any-script "
                   "otherwise]")
    p.add_argument("--encoding", default="utf-8", help="encoding of the corpus")
    p.add_argument("--stream", action="store_true",
                   help="keep the corpus's ids on disk, not in memory")
    p.add_argument("--archive", default=None, help="local 20news-bydate.tar.gz "
                   "(default: $SGNS_20NEWS_ARCHIVE)")
    p.add_argument("--quiet", action="store_true", help="no progress")


def read_for_phrases(source: dict, archive, quiet: bool):
    """The corpus as ids for phrases: scanned where the cleaning allows, else cleaned in
    Python and numbered."""
    from ..encoding.ingest import scan_corpus
    from ..encoding.token_lists import scanned_documents
    from ..text.cleaning import Cleaner, StreamingCorpus, clean
    from ..text.corpus import NEWSGROUPS, load_corpus

    cleaner = Cleaner.mode(source["cleaning"])
    stream = bool(source.get("stream"))
    name = source["source"]
    if name != NEWSGROUPS and not Path(name).exists():
        raise SgnsError(f"corpus not found: {name}")
    docs = name if name != NEWSGROUPS else load_corpus(name, archive=archive)
    scanned = scan_corpus(docs, cleaner, encoding=source["encoding"], stream=stream,
                          progress=not quiet)
    if scanned is not None:
        return scanned
    if stream:
        return scanned_documents(StreamingCorpus(name, cleaner, source["encoding"]), stream=True)
    return scanned_documents(clean(load_corpus(name, encoding=source["encoding"]), cleaner))


def run(args: argparse.Namespace) -> int:
    import os

    from ..encoding.phrases import PhraseModel, apply_phrases, learn_phrases, save_text
    from ..text.corpus import NEWSGROUPS

    settings = phrase_settings(args)
    model = PhraseModel.load(args.model) if args.model else None
    if args.stream and args.corpus == NEWSGROUPS:
        raise SgnsError("--stream reads a corpus from disk; 20newsgroups comes from "
                        "scikit-learn, in memory")
    source = {"source": args.corpus, "encoding": args.encoding, "stream": args.stream,
              "cleaning": args.cleaning or ("notebook" if args.corpus == NEWSGROUPS
                                            else "any-script")}
    corpus = read_for_phrases(source, args.archive or os.environ.get("SGNS_20NEWS_ARCHIVE"),
                              args.quiet)
    if model is None:
        model, corpus = learn_phrases(corpus, settings, args.passes, progress=not args.quiet)
    else:
        corpus = apply_phrases(corpus, model, progress=not args.quiet)
    save_text(corpus, args.out, progress=not args.quiet)
    if args.save:
        model.save(args.save)
    found = model.phrases()
    print(f"wrote {args.out}: {corpus.tokens:,} tokens, {len(found):,} phrases"
          + (f" (model: {args.save})" if args.save else ""))
    if not args.quiet:
        print("  " + ", ".join(found[:12]))
    return 0
