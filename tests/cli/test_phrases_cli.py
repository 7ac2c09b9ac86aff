"""``sgns phrases`` and ``sgns train --phrases`` end to end: phrases joined in the text and the
vocabulary, queried, saved and applied to new text; one-line errors, no partial output."""

import json
import random

import pytest

from sgns.cli import main

CITIES = ["new york", "san francisco", "los angeles"]


@pytest.fixture()
def city_corpus(tmp_path):
    rng = random.Random(0)
    filler = [f"w{a}{b}" for a in "abcdefghij" for b in "klmnop"]  # letters: any-script keeps them
    lines = []
    for _ in range(400):
        words = [rng.choice(filler) for _ in range(8)]
        words.insert(rng.randrange(8), rng.choice(CITIES))
        lines.append(" ".join(words))
    path = tmp_path / "cities.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _one_error(capsys, expected):
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert expected in err, err


@pytest.mark.parametrize("stream", [False, True])
def test_phrases_writes_the_joined_text_and_a_model_that_joins_new_text(city_corpus, tmp_path,
                                                                       capsys, stream):
    out, model = tmp_path / "joined.txt", tmp_path / "phrases.json"
    argv = ["phrases", str(city_corpus), str(out), "--cleaning", "none", "--save", str(model),
            "--quiet"]
    assert main(argv + (["--stream"] if stream else [])) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 400
    assert all(sum(city.replace(" ", "_") in line.split() for city in CITIES) == 1
               for line in lines)
    assert sorted(json.loads(model.read_text())["layers"][0], key=str)
    new = tmp_path / "new.txt"
    new.write_text("i flew from new york to los angeles\nyork new\n")
    assert main(["phrases", str(new), str(tmp_path / "new_joined.txt"), "--cleaning", "none",
                 "--model", str(model), "--quiet"]) == 0
    assert (tmp_path / "new_joined.txt").read_text() == ("i flew from new_york to los_angeles\n"
                                                         "york new\n")


@pytest.mark.parametrize("cleaning,stream", [("none", False), ("any-script", False),
                                             ("any-script", True)])
def test_train_with_phrases_records_them_and_answers_phrase_queries(city_corpus, tmp_path,
                                                                    capsys, cleaning, stream):
    """The scanned corpus (none), and the one cleaned in Python (any-script), streamed too."""
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(city_corpus), "--out", str(run), "--cleaning",
                 cleaning, "--phrases", "1", "--epochs", "2", "--dim", "16", "--quiet",
                 *(["--stream"] if stream else [])]) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["corpus"]["phrases"]["passes"] == 1
    assert info["corpus"]["phrases"]["min_count"] == 5
    saved = json.loads((run / "phrases.json").read_text())
    joined = {"_".join(row[:-1]) for row in saved["layers"][0]}
    assert {"new_york", "san_francisco", "los_angeles"} <= joined
    capsys.readouterr()
    assert main(["neighbors", str(run), "new_york"]) == 0
    assert "new_york" in capsys.readouterr().out


def test_phrase_errors_are_one_line_and_write_nothing(city_corpus, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"sgns_phrases": 1, "layers": 3}')
    out = tmp_path / "joined.txt"
    assert main(["phrases", str(city_corpus), str(out), "--model", str(bad)]) == 2
    _one_error(capsys, "bad.json")
    assert main(["phrases", str(tmp_path / "missing.txt"), str(out)]) == 2
    _one_error(capsys, "corpus not found")
    assert main(["phrases", str(city_corpus), str(out), "--scoring", "npmi"]) == 2
    _one_error(capsys, "between -1 and 1")
    assert main(["phrases", str(city_corpus), str(out), "--passes", "0"]) == 2
    _one_error(capsys, "passes must be >= 1")
    assert not out.exists()
    assert main(["train", "--corpus", str(city_corpus), "--out", str(tmp_path / "run"),
                 "--phrases", "1", "--count-limit", "100"]) == 2
    _one_error(capsys, "--count-limit")
    assert not (tmp_path / "run").exists()
