"""Pictures of a run: the training curves, and a 2-D map of chosen words and their neighbours
(PCA or t-SNE from scikit-learn), drawn with matplotlib into PNG or SVG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from ..errors import SgnsError
from ..files import atomic_open

PLOT_FORMATS = (".png", ".svg")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen needed
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() not in PLOT_FORMATS:
        raise SgnsError(f"plot file must end in .png or .svg, got {path.name}")
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=path.suffix[1:].lower(), dpi=120, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_training(info: dict, path: str | os.PathLike) -> Path:
    """Loss per epoch, and the per-epoch evaluation figures when the run recorded them."""
    epochs = info.get("epochs") or []
    if not epochs:
        raise SgnsError("the run has no epochs to plot")
    plt = _pyplot()
    evaluated = [e for e in epochs if e.get("evaluation")]
    fig, axes = plt.subplots(1, 2 if evaluated else 1, figsize=(11 if evaluated else 6, 4),
                             squeeze=False)
    x = [e["epoch"] for e in epochs]
    ax = axes[0][0]
    ax.plot(x, [e["loss"] for e in epochs], marker="o")
    ax.set(xlabel="epoch", ylabel="loss per positive pair",
           title=f"training loss ({info.get('engine', '?')} engine)")
    ax.set_xticks(x)
    ax.grid(alpha=0.3)
    if evaluated:
        ax = axes[0][1]
        for name in evaluated[0]["evaluation"]:
            ax.plot([e["epoch"] for e in evaluated],
                    [e["evaluation"][name] for e in evaluated], marker="o", label=name)
        ax.set(xlabel="epoch", ylabel="Spearman rho / accuracy", title="evaluation per epoch")
        ax.set_xticks(x)
        ax.legend()
        ax.grid(alpha=0.3)
    return _save(fig, path)


def _label_offsets(xy: np.ndarray, labels: list[str]) -> list[tuple[float, float]]:
    """Greedy label placement: each label takes the first of a few offsets (in points) whose
    box, estimated from the label's length, overlaps no label placed before it."""
    span = np.ptp(xy, axis=0).clip(1e-9)
    unit = span / np.array([650.0, 500.0])  # data units per point on a 9 x 7 inch figure
    boxes: list[tuple[float, float, float, float]] = []
    offsets = []
    for (px, py), label in zip(xy, labels, strict=True):
        width, height = 6.0 * len(label) + 4, 11.0
        candidates = [(4, 3), (4, -12), (-width, 3), (-width, -12), (4, 14), (4, -24)]
        chosen = candidates[0]
        for dx, dy in candidates:
            x0, y0 = px + dx * unit[0], py + dy * unit[1]
            box = (x0, y0, x0 + width * unit[0], y0 + height * unit[1])
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                       for b in boxes):
                chosen = (dx, dy)
                break
        x0, y0 = px + chosen[0] * unit[0], py + chosen[1] * unit[1]
        boxes.append((x0, y0, x0 + width * unit[0], y0 + height * unit[1]))
        offsets.append(chosen)
    return offsets


def plot_words(
    kv: KeyedVectors,
    words: Sequence[str],
    path: str | os.PathLike,
    neighbours: int = 6,
    method: str = "pca",
    seed: int = 0,
) -> Path:
    """Each word (in colour) and its nearest neighbours, projected to 2-D together."""
    words = [w for w in words if w in kv]
    if not words:
        raise SgnsError("none of the words to plot is in the vocabulary")
    if method not in ("pca", "tsne"):
        raise SgnsError(f"method must be 'pca' or 'tsne', got {method!r}")
    groups = [[w] + [n for n, _ in kv.most_similar(w, topn=neighbours)] for w in words]
    labels = [w for group in groups for w in group]
    if len(labels) < 3 or kv.vector_size < 2:
        raise SgnsError("a word map needs at least 3 words and 2 dimensions")
    points = np.stack([kv[w] for w in labels])
    points = points / np.linalg.norm(points, axis=1, keepdims=True).clip(1e-12)
    if method == "pca" or len(points) < 5:
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=seed).fit_transform(points)
    else:
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(points) - 1) / 3)
        xy = TSNE(n_components=2, perplexity=perplexity, random_state=seed,
                  init="pca").fit_transform(points)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 7))
    colours = plt.get_cmap("tab10")
    group_of = [k for k, group in enumerate(groups) for _ in group]
    for k in range(len(groups)):
        part = xy[[i for i, g in enumerate(group_of) if g == k]]
        ax.scatter(part[1:, 0], part[1:, 1], color=colours(k % 10), alpha=0.6, s=25)
        ax.scatter(part[:1, 0], part[:1, 1], color=colours(k % 10), s=90, marker="*")
    heads = {sum(len(g) for g in groups[:k]) for k in range(len(groups))}
    for i, (offset, label) in enumerate(zip(_label_offsets(xy, labels), labels, strict=True)):
        ax.annotate(label, xy[i], xytext=offset, textcoords="offset points",
                    fontsize=11 if i in heads else 8, color=colours(group_of[i] % 10),
                    fontweight="bold" if i in heads else "normal")
    ax.set(title=f"nearest neighbours ({method.upper()} of unit vectors)",
           xticks=[], yticks=[])
    return _save(fig, path)
