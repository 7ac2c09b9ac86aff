"""``sgns serve``: the JSON API against gensim's answers for the same vectors, its errors (4xx
and a JSON message, never a traceback), unseen words of a subword run, and the page itself in
a real browser (Debian's Chromium, headless, driven by Selenium)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from starlette.testclient import TestClient

from sgns.browser.app import create_app
from sgns.browser.runs import load_run
from sgns.config import TrainConfig
from sgns.embeddings.vectors import load_vectors
from sgns.training.train import train


@pytest.fixture(scope="module")
def runs(tmp_path_factory, topic_corpus):
    root = tmp_path_factory.mktemp("serve")
    base = dict(engine="native", epochs=3, dim=16, workers=1, seed=2, window=3)
    train(topic_corpus, TrainConfig(**base), verbose=False).save(root / "plain")
    train(topic_corpus, TrainConfig(**base, subwords=True, buckets=2000, min_n=3, max_n=5),
          verbose=False).save(root / "sub")
    return root


@pytest.fixture(scope="module")
def client(runs):
    return TestClient(create_app([load_run(runs / "plain"), load_run(runs / "sub")]))


def test_neighbours_are_gensims(client, runs):
    kv = load_vectors(runs / "plain")
    got = client.get("/api/neighbors", params={"run": 0, "word": "violin", "topn": 5}).json()
    want = kv.most_similar("violin", topn=5)
    assert [n["word"] for n in got["neighbors"]] == [w for w, _ in want]
    np.testing.assert_allclose([n["similarity"] for n in got["neighbors"]],
                               [s for _, s in want], atol=1e-4)
    assert got["from_ngrams"] is False


def test_an_analogy_is_gensims_most_similar(client, runs):
    kv = load_vectors(runs / "plain")
    got = client.get("/api/analogy", params={"a": "violin", "b": "apple", "c": "banana",
                                             "topn": 4}).json()
    want = kv.most_similar(positive=["violin", "banana"], negative=["apple"], topn=4)
    assert [n["word"] for n in got["answers"]] == [w for w, _ in want]


def test_an_unseen_word_of_a_subword_run_is_built_from_ngrams(client, runs):
    kv = load_vectors(runs / "sub")
    got = client.get("/api/neighbors", params={"run": 1, "word": "violins", "topn": 3}).json()
    assert got["from_ngrams"] is True
    assert [n["word"] for n in got["neighbors"]] == [w for w, _ in kv.most_similar("violins",
                                                                                   topn=3)]


def test_completion_the_map_and_the_run_list(client):
    words = client.get("/api/complete", params={"prefix": "vi", "limit": 5}).json()["words"]
    assert words == ["violin"]
    points = client.get("/api/map", params={"word": "cello", "topn": 6}).json()["points"]
    assert len(points) == 7 and points[0]["word"] == "cello"
    assert all(np.isfinite([p["x"], p["y"]]).all() for p in points)
    tsne = client.get("/api/map", params={"word": "cello", "topn": 8, "method": "tsne"})
    assert tsne.status_code == 200 and len(tsne.json()["points"]) == 9
    listed = client.get("/api/runs").json()["runs"]
    assert [r["subwords"] for r in listed] == [False, True]
    assert len(listed[0]["losses"]) == 3 and set(listed[0]["scores"]) >= {"wordsim353"}
    page = client.get("/")
    assert page.status_code == 200 and "Plotly" in page.text
    assert client.get("/plotly.min.js").status_code == 200


@pytest.mark.parametrize("path,params,status,message", [
    ("/api/neighbors", {"word": "nosuchword"}, 404, "not in the vocabulary"),
    ("/api/neighbors", {"word": "violin", "topn": 10**9}, 400, "topn must be"),
    ("/api/neighbors", {"word": "violin", "topn": "-1"}, 400, "topn must be"),
    ("/api/neighbors", {"word": "violin", "run": "7"}, 404, "no run '7'"),
    ("/api/neighbors", {"word": "violin", "run": "../../etc/passwd"}, 404, "no run"),
    ("/api/neighbors", {}, 400, "give word=WORD"),
    ("/api/neighbors", {"word": "x" * 5000}, 414, "too long"),
    ("/api/analogy", {"a": "violin", "b": "apple"}, 400, "give c=WORD"),
    ("/api/map", {"word": "violin", "method": "umap3d"}, 400, "method must be"),
    ("/api/nothing", {}, 404, "Not Found"),
])
def test_a_bad_request_is_a_4xx_and_a_json_message(client, path, params, status, message):
    response = client.get(path, params=params)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_the_server_is_read_only(client):
    assert client.post("/api/neighbors", params={"word": "violin"}).status_code == 405
    assert client.delete("/").status_code == 405


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(runs):
    """``sgns serve`` itself, as a user starts it, on the loopback address."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "sgns", "serve", str(runs / "plain"),
                                str(runs / "sub"), "--port", str(port)],
                               stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "api/runs", timeout=2)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_serve_prints_its_address_and_refuses_a_bad_folder(served, tmp_path):
    done = subprocess.run([sys.executable, "-m", "sgns", "serve", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"sgns serve: error: {tmp_path} is not a run folder (no run.json)"]


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
NO_BROWSER = (not (BROWSER and shutil.which("chromedriver"))
              and not os.environ.get("SGNS_REQUIRE_BROWSER"))  # .ci/run installs and requires it


@pytest.mark.skipif(NO_BROWSER, reason="needs Chromium and its driver: apt-get install "
                    "chromium chromium-driver")
def test_the_page_in_a_real_browser(served, tmp_path):
    """Headless Chromium: the page loads, a typed word shows its neighbours, an analogy
    answers, the map draws, and a second run shows its neighbours beside the first's."""
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1300,1800"):
        options.add_argument(flag)
    options.binary_location = BROWSER
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    browser = webdriver.Chrome(options=options, service=service)
    wait = WebDriverWait(browser, 30)
    try:
        browser.get(served)
        wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        Select(browser.find_element(By.ID, "compare")).select_by_value("1")
        box = browser.find_element(By.ID, "word")
        box.send_keys("violin", Keys.ENTER)
        first = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#neighbors-0 td"))
        assert first[0].text in {"cello", "flute", "oboe", "trumpet", "harp"}
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#neighbors-1 td"))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#map .scatterlayer .point"))
        # The word and 30 neighbours asked: the whole vocabulary of 24 words.
        assert len(browser.find_elements(By.CSS_SELECTOR, "#map .scatterlayer .point")) == 24
        for key, word in zip("abc", ("violin", "apple", "banana"), strict=True):
            browser.find_element(By.ID, f"analogy-{key}").send_keys(word)
        browser.find_element(By.ID, "analogy-go").click()
        answers = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#analogy-results li"))
        assert len(answers) == 8
        assert browser.find_elements(By.CSS_SELECTOR, "#loss .scatterlayer .point")
        box.clear()
        box.send_keys("violins", Keys.ENTER)  # unseen: built from n-grams in the subword run
        wait.until(lambda b: "built from n-grams" in b.find_element(By.ID, "neighbors-1").text)
        browser.save_screenshot(str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 10_000
    finally:
        browser.quit()
