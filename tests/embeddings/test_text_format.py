"""The compiled word2vec text writer: every float exactly as ``"%.9g"`` writes it, every
float32 read back exactly, in blocks of rows."""

import numpy as np
import pytest

from sgns.embeddings.text_format import word2vec_text

EDGES = [0.0, -0.0, 1.0, -1.0, 10.0, 1e9, 123456789.0, 999999999.0, 1e-4, 9.99999e-5, 1e-5,
         0.1, 0.5, 100.0, 3.4028235e38, -3.4028235e38, 1e-45, 1.17549435e-38, np.inf, -np.inf,
         np.nan, 0.000123456789, 12345.6789]


@pytest.mark.parametrize("rows", [1, 7, 8192])
def test_every_float_is_written_as_percent_9g(rows):
    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.standard_normal(20000),
        rng.standard_normal(20000) * 10.0 ** rng.integers(-44, 38, 20000),
        np.array(EDGES * 10)]).astype(np.float32)
    values = values[: values.size // 10 * 10].reshape(-1, 10)
    words = [f"w{i}é" for i in range(len(values))]
    text = b"".join(word2vec_text(words, values, rows=rows)).decode("utf-8")
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(values) + 1
    for word, row, line in zip(words, values.tolist(), lines, strict=False):
        assert line == word + " " + " ".join(["%.9g"] * 10) % tuple(row)
    back = np.array([[float(v) for v in line.split()[1:]] for line in lines[:-1]], np.float32)
    np.testing.assert_array_equal(back, values)  # NaN equals NaN here
