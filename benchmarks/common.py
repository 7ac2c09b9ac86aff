"""Helpers shared by the benchmark scripts: the cleaned 20 Newsgroups corpus and quality scores."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

from gensim.test.utils import datapath

import sgns


def newsgroups(data_home: str | None = None) -> sgns.CleanCorpus:
    """The cleaned corpus; offline from $SGNS_20NEWS_ARCHIVE when it is set."""
    docs = sgns.load_20newsgroups(archive=os.environ.get("SGNS_20NEWS_ARCHIVE"),
                                  data_home=data_home)
    return sgns.clean(docs)


def quality(kv) -> dict[str, float]:
    """Spearman rho on WordSim-353 and SimLex-999, accuracy on the Google analogies."""
    return {
        "ws353": kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0],
        "simlex": kv.evaluate_word_pairs(datapath("simlex999.txt"))[1][0],
        "analogy": kv.evaluate_word_analogies(datapath("questions-words.txt"))[0],
    }


def median(values) -> float:
    return statistics.median(values)


def cpu() -> str:
    """The CPU's model name, for the tables."""
    info = Path("/proc/cpuinfo")
    for line in info.read_text().splitlines() if info.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
