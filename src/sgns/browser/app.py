"""The web app behind ``sgns serve``: one page and a small read-only JSON API over runs loaded
once (:mod:`.runs`). Runs are named by their number on the command line, never by a path from
a request. A bad request is a 4xx with ``{"error": ...}``, never a traceback.

Built on Starlette (https://www.starlette.io): routes, query parameters and JSON responses are
all this needs, and uvicorn serves it. The page draws with Plotly's JavaScript, which ships
inside the ``plotly`` Python package, so the page works offline.
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.routing import Route

from .runs import MAX_TOPN, Run, UnknownWord

MAX_WORD = 200  # characters in a word of a request
MAX_QUERY = 2048  # characters in a request's query string
MAP_METHODS = ("pca", "tsne")


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _run(request: Request, runs: list[Run], key: str = "run") -> Run:
    value = request.query_params.get(key, "0")
    if not value.isdigit() or int(value) >= len(runs):
        raise BadRequest(404, f"no run {value!r}: runs are numbered 0 to {len(runs) - 1}")
    return runs[int(value)]


def _word(request: Request, key: str = "word") -> str:
    word = request.query_params.get(key, "").strip()
    if not word:
        raise BadRequest(400, f"give {key}=WORD")
    if len(word) > MAX_WORD:
        raise BadRequest(400, f"{key} is longer than {MAX_WORD} characters")
    return word


def _number(request: Request, key: str, default: int, most: int) -> int:
    value = request.query_params.get(key, str(default))
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise BadRequest(400, f"{key} must be a whole number from 1 to {most}")
    return int(value)


def _neighbors(request: Request, runs: list[Run]) -> dict:
    run, word = _run(request, runs), _word(request)
    topn = _number(request, "topn", 10, MAX_TOPN)
    vector, built = run.vector(word)
    return {"run": run.name, "word": word, "from_ngrams": built,
            "neighbors": run.nearest(vector, topn, {word})}


def _analogy(request: Request, runs: list[Run]) -> dict:
    """``a - b + c``, as gensim's most_similar(positive=[a, c], negative=[b])."""
    run = _run(request, runs)
    a, b, c = (_word(request, key) for key in "abc")
    topn = _number(request, "topn", 10, MAX_TOPN)
    (va, _), (vb, _), (vc, _) = (run.vector(w) for w in (a, b, c))
    return {"run": run.name, "query": [a, b, c],
            "answers": run.nearest(va - vb + vc, topn, {a, b, c})}


def _map(request: Request, runs: list[Run]) -> dict:
    """The word and its neighbours in two dimensions: PCA, or t-SNE (scikit-learn)."""
    run, word = _run(request, runs), _word(request)
    topn = _number(request, "topn", 30, MAX_TOPN)
    method = request.query_params.get("method", "pca")
    if method not in MAP_METHODS:
        raise BadRequest(400, f"method must be one of {', '.join(MAP_METHODS)}")
    vector, built = run.vector(word)
    near = run.nearest(vector, topn, {word})
    words = [word] + [n["word"] for n in near]
    points = np.vstack([vector] + [run.unit[run.index[w]] for w in words[1:]])
    centred = points - points.mean(axis=0)
    if method == "tsne" and len(points) > 4:
        from sklearn.manifold import TSNE

        xy = TSNE(2, perplexity=min(10, len(points) - 2), init="pca",
                  random_state=0).fit_transform(centred)
    else:
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        xy = centred @ axes[:2].T
    return {"run": run.name, "method": method, "from_ngrams": built,
            "points": [{"word": w, "x": round(float(x), 5), "y": round(float(y), 5),
                        "similarity": 1.0 if i == 0 else near[i - 1]["similarity"]}
                       for i, (w, (x, y)) in enumerate(zip(words, xy, strict=True))]}


def _complete(request: Request, runs: list[Run]) -> dict:
    run = _run(request, runs)
    prefix = request.query_params.get("prefix", "")
    if len(prefix) > MAX_WORD:
        raise BadRequest(400, f"prefix is longer than {MAX_WORD} characters")
    limit = _number(request, "limit", 10, MAX_TOPN)
    return {"run": run.name, "words": run.complete(prefix, limit) if prefix else []}


def create_app(runs: list[Run]) -> Starlette:
    """The app over ``runs`` (loaded already, in the order the page numbers them)."""
    page = resources.files("sgns.browser").joinpath("page.html").read_text("utf-8")
    import plotly

    plotly_js = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")

    def api(handler):
        # A plain function: Starlette runs it in its thread pool, and numpy's products release
        # the GIL, so that queries run side by side on several cores.
        def endpoint(request: Request) -> JSONResponse:
            if len(request.url.query) > MAX_QUERY:
                return JSONResponse({"error": "the query is too long"}, status_code=414)
            try:
                return JSONResponse(handler(request, runs))
            except BadRequest as exc:
                return JSONResponse({"error": str(exc)}, status_code=exc.status)
            except UnknownWord as exc:
                return JSONResponse({"error": str(exc)}, status_code=404)
        return endpoint

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def plotly_file(request: Request) -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript")

    async def run_list(request: Request) -> JSONResponse:
        return JSONResponse({"runs": [run.summary() for run in runs]})

    async def error(request: Request, exc: Exception) -> JSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        return JSONResponse({"error": detail}, status_code=status)

    routes = [Route("/", index), Route("/plotly.min.js", plotly_file),
              Route("/api/runs", run_list),
              Route("/api/neighbors", api(_neighbors)), Route("/api/analogy", api(_analogy)),
              Route("/api/map", api(_map)), Route("/api/complete", api(_complete))]
    return Starlette(routes=routes, exception_handlers={HTTPException: error, Exception: error})
