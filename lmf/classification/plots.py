"""The paper's figures (and a few of our own) drawn from tidy DataFrames with seaborn/matplotlib.

Every function takes the DataFrame built by ``lmf.classification.report`` (or a run's history and confusion
matrix), returns the matplotlib ``Figure`` and draws nothing else; saving is
``lmf.core.outputs.save_figure``. Losses keep one colour and one label everywhere.

========================  ==================================================================
function                  figure
========================  ==================================================================
``fig1_macro_f1``         Fig 1: mean macro-F1 per loss over the architectures ± mean
                          absolute deviation (points with intervals), one panel per dataset
``fig2_class_counts``     Fig 2: images per class (one panel per dataset), split by part
``fig4_settings``         Fig 4: mean macro-F1 ± mean absolute deviation of Settings 1–3,
                          beside macro-F1 against each grid value
``minority_f1``           Fig 1 of the short version: F1 of the smallest classes per loss
``loss_curves``           loss and gradient against ``p_t`` (notebook 02)
``class_size_effect``     loss and gradient against the class count (notebook 02)
``learning_curves``       training loss and validation scores per epoch of one run
``confusion_matrix``      row-normalised confusion matrix of one run
``sample_grid``           a few training images of each class
``feature_embedding``     2-D embedding of each run's test features, minority classes in front
========================  ==================================================================
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

#: Display names of the losses, in the paper's order.
LOSS_LABELS = {"cce": "CCE", "focal": "Focal", "ldam": "LDAM", "bwcce": "BWCCE", "lmf": "LMF"}
#: One colour per loss in every figure, from the Okabe–Ito palette (Okabe & Ito, 2008,
#: "Color Universal Design"), which stays distinct under the common colour-vision deficiencies:
#: blue, orange, bluish green, reddish purple, and vermillion for LMF.
LOSS_COLOURS = {"cce": "#0072B2", "focal": "#E69F00", "ldam": "#009E73", "bwcce": "#CC79A7",
                "lmf": "#D55E00"}
#: One line style and marker per loss, so that curves lying on each other stay visible.
LOSS_LINES = {"cce": ("-", "o"), "focal": ("--", "s"), "ldam": ("-.", "^"),
              "bwcce": (":", "D"), "lmf": ((0, (5, 1, 1, 1)), "v")}
_LOSS_IDS = {label: loss for loss, label in LOSS_LABELS.items()}


def _loss_label(loss: str) -> str:
    return LOSS_LABELS.get(loss, loss)


def _loss_id(loss: str) -> str:
    """The loss id of an id or a display label ("LMF" → "lmf"); other names unchanged."""
    return _LOSS_IDS.get(loss, loss)


def loss_colour(loss: str):
    """The colour of a loss given by id or display label (``LOSS_COLOURS``); None for a name
    that is not one of the paper's losses."""
    return LOSS_COLOURS.get(_loss_id(loss))


def _palette(labels) -> dict:
    extra = iter(sns.color_palette("muted", 10))
    return {label: loss_colour(label) or next(extra) for label in dict.fromkeys(labels)}


def _grid(n: int, width: float = 4.0, height: float = 3.4, max_cols: int = 4, sharey=True):
    cols = min(n, max_cols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             sharey=sharey, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _points_with_errors(ax, labels, means, errors, colors) -> None:
    """One point per label at its mean with a ± ``errors`` interval, in the label's colour.

    Points rather than bars: a bar's length reads as the value from zero, so bars on an axis cut
    above zero make small gaps look large; a point with its interval reads on any axis range.
    """
    x = np.arange(len(labels))
    for position, mean, error, color in zip(x, means, errors, colors, strict=True):
        ax.errorbar(position, mean, yerr=error, fmt="o", color=color, markersize=7, capsize=5,
                    elinewidth=1.5, markeredgecolor="black", markeredgewidth=0.5)
    ax.set_xticks(x, labels, rotation=0)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(axis="y", linewidth=0.4, alpha=0.6)


def fig1_macro_f1(data: pd.DataFrame, title: str | None = None):
    """Fig 1: per panel (dataset × source), mean macro-F1 of each loss ± mean absolute deviation,
    drawn as points with intervals (``_points_with_errors``).

    ``data``: columns dataset, source (e.g. "this run", "published"), loss, mean, mad (from
    ``lmf.classification.report.fig1_data``); scores in percent.
    """
    panels = list(dict.fromkeys(zip(data.dataset, data.source, strict=True)))
    fig, axes = _grid(len(panels), sharey=False)
    for ax, (dataset, source) in zip(axes, panels, strict=True):
        rows = data[(data.dataset == dataset) & (data.source == source)]
        labels = [_loss_label(loss) for loss in rows.loss]
        _points_with_errors(ax, labels, rows["mean"], rows["mad"], _palette(labels).values())
        ax.set_title(f"{dataset} ({source})")
        ax.set_ylabel("macro-F1 (%)")
    fig.suptitle(title or "Mean macro-F1 over the three architectures ± mean absolute deviation")
    return fig


def fig2_class_counts(counts: pd.DataFrame, title: str | None = None):
    """Fig 2: images per class, one panel per dataset, bars stacked by split part.

    ``counts``: columns dataset, class, part (train/val/test), count.
    """
    datasets = list(dict.fromkeys(counts.dataset))
    fig, axes = _grid(len(datasets), width=4.5, max_cols=2, sharey=False)
    parts = [p for p in ("train", "val", "test") if p in set(counts.part)]
    colors = dict(zip(parts, sns.color_palette("Blues_r", len(parts) + 1), strict=False))
    for ax, dataset in zip(axes, datasets, strict=True):
        table = (counts[counts.dataset == dataset]
                 .pivot_table(index="class", columns="part", values="count", aggfunc="sum",
                              sort=False)
                 .reindex(columns=parts).fillna(0))
        bottom = np.zeros(len(table))
        for part in parts:
            ax.bar(table.index.astype(str), table[part], bottom=bottom, label=part,
                   color=colors[part], edgecolor="black", linewidth=0.4)
            bottom += table[part].to_numpy()
        for x, total in enumerate(bottom):
            ax.annotate(f"{int(total)}", (x, total), ha="center", va="bottom", fontsize=7)
        ax.set_title(dataset)
        ax.set_ylabel("images")
        ax.tick_params(axis="x", rotation=45)
    axes[0].legend(title="part")
    fig.suptitle(title or "Per-class image distribution")
    return fig


def fig4_settings(summary: pd.DataFrame, per_value: pd.DataFrame, title: str | None = None):
    """Fig 4: mean macro-F1 ± mean absolute deviation per hyperparameter setting (left, points
    with intervals), and macro-F1 against the varied value of each setting (right).

    ``summary``: columns setting, mean, mad; ``per_value``: columns setting, value, macro_f1
    (from ``lmf.classification.report.fig4_data``); scores in percent.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    colors = sns.color_palette("deep", len(summary))
    _points_with_errors(left, summary.setting, summary["mean"], summary["mad"], colors)
    left.set_ylabel("mean macro-F1 (%)")
    left.set_title("per setting (± mean abs. deviation)")
    sns.lineplot(per_value, x="value", y="macro_f1", hue="setting", marker="o", ax=right,
                 palette=dict(zip(summary.setting, colors, strict=True)), errorbar=None)
    right.set_xlabel("varied value (α = β; β with α = 1; α with β = 1)")
    right.set_ylabel("test macro-F1 (%)")
    right.set_title("per grid value")
    fig.suptitle(title or "LMF hyperparameters: Settings 1–3")
    return fig


def minority_f1(data: pd.DataFrame, title: str | None = None):
    """F1 of the smallest classes per loss (the short version's Fig 1).

    ``data``: columns class (label with its training count), loss, f1 (percent).
    """
    data = data.assign(loss=data.loss.map(_loss_label))
    fig, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
    sns.barplot(data, x="class", y="f1", hue="loss", palette=_palette(data.loss), ax=ax,
                saturation=1, edgecolor="black", linewidth=0.5)
    ax.set_ylabel("test F1 (%)")
    ax.set_xlabel("")
    ax.legend(title=None, ncols=len(set(data.loss)), loc="upper center",
              bbox_to_anchor=(0.5, -0.12))
    ax.set_title(title or "F1 of the three smallest classes")
    return fig


def _loss_lines(ax, data: pd.DataFrame, x: str, y: str, markers: int = 8) -> None:
    """One line per loss of ``data`` (column ``loss``, ids or display labels) in the loss's
    colour, line style and marker (``LOSS_LINES``), ``markers`` markers per line evenly spaced
    along the drawn line, staggered between losses so that lines lying on each other still
    show each marker."""
    losses = list(dict.fromkeys(data.loss))
    palette = _palette(losses)
    for k, loss in enumerate(losses):
        rows = data[data.loss == loss].sort_values(x)
        dash, marker = LOSS_LINES.get(_loss_id(loss), ("-", "o"))
        ax.plot(rows[x], rows[y], color=palette[loss], linestyle=dash, marker=marker,
                markevery=(k / (len(losses) * markers), 1 / markers), markersize=5,
                linewidth=1.6, label=_loss_label(loss))


def loss_curves(data: pd.DataFrame, title: str | None = None):
    """Loss value and the size of its gradient with respect to the true-class logit against
    ``p_t``, both on a log scale (values below 1e-4 are cut off).

    ``data``: columns loss, p_t, value, grad_zy (``lmf.classification.report.loss_analysis.loss_vs_pt``).
    """
    data = data.assign(grad_size=data.grad_zy.abs())
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for ax, column, label in ((left, "value", "loss of one sample"),
                              (right, "grad_size", r"$|\partial\,\mathrm{loss} / \partial z_y|$")):
        _loss_lines(ax, data, "p_t", column)
        ax.set_yscale("log")
        ax.set_ylim(1e-4, None)
        ax.set_xlabel(r"$p_t$ (softmax probability of the true class)")
        ax.set_ylabel(label)
    left.legend()
    fig.suptitle(title or r"Loss and gradient against $p_t$")
    return fig


def class_size_effect(data: pd.DataFrame, title: str | None = None):
    """Per-sample loss and gradient against the training count of the sample's class.

    ``data``: columns loss, class, n_train, value, grad_zy
    (``lmf.classification.report.loss_analysis.loss_vs_class``).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    gradient = r"$K \cdot \partial\,(\mathrm{balanced\ batch\ loss}) / \partial z_y$"
    for ax, column, label in ((left, "value", "loss of one sample"), (right, "grad_zy", gradient)):
        _loss_lines(ax, data, "n_train", column)
        ax.set_xscale("log")
        ax.set_xlabel("training images of the class")
        ax.set_ylabel(label)
    left.legend()
    fig.suptitle(title or "Loss and gradient against class size")
    return fig


def learning_curves(history: pd.DataFrame, best_epoch: int | None = None,
                    title: str | None = None):
    """Training loss (left, log scale when every value is positive, so that one spike does not
    flatten the rest) and validation scores (right) per epoch of one run, with a dashed line at
    ``best_epoch`` (the epoch kept for testing).

    ``history``: one row per epoch with ``epoch``, a ``train_loss`` column and any ``val_*``
    score columns (fractions; shown in percent). ``epoch`` and ``best_epoch`` count from 0 as the
    run stores them; the axis numbers epochs from 1 (epoch 0 is drawn as epoch 1).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    epoch = history.epoch + 1
    styles = iter([("-", "o"), ("--", "s"), ("-.", "^"), (":", "D")] * 4)
    loss_columns = [c for c in history.columns if c.endswith("loss")]
    for column in loss_columns:
        dash, marker = next(styles)
        left.plot(epoch, history[column], linestyle=dash, marker=marker, markersize=4,
                  label=column)
    if loss_columns and (history[loss_columns].to_numpy() > 0).all():
        left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.legend()
    score_columns = [c for c in history.columns
                     if c.startswith("val_") and not c.endswith("loss")]
    for column in score_columns:
        dash, marker = next(styles)
        right.plot(epoch, 100 * history[column], linestyle=dash, marker=marker, markersize=4,
                   label=column)
    right.set_xlabel("epoch")
    right.set_ylabel("validation score (%)")
    for ax in (left, right):
        ax.xaxis.get_major_locator().set_params(integer=True)
    if best_epoch is not None:
        for ax in (left, right):
            ax.axvline(best_epoch + 1, color="grey", linestyle="--", linewidth=1)
        right.annotate("best", (best_epoch + 1, 0), xytext=(3, 3), textcoords="offset points",
                       xycoords=("data", "axes fraction"), color="grey", fontsize=8)
    if score_columns:
        right.legend()
    fig.suptitle(title or "Learning curves")
    return fig


def confusion_matrix(matrix, class_names, title: str | None = None):
    """Confusion matrix normalised per true class (rows sum to 1), counts in the cells."""
    counts = np.asarray(matrix, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.5 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size), layout="constrained")
    sns.heatmap(rates, annot=counts.astype(int), fmt="d", cmap="Blues", vmin=0, vmax=1,
                xticklabels=class_names, yticklabels=class_names, ax=ax,
                cbar_kws={"label": "fraction of the true class"})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "Confusion matrix (test)")
    return fig


def sample_grid(images, labels, class_names, per_class: int = 4, seed: int = 0,
                title: str | None = None):
    """A few images of each class (rows: classes), drawn at random with ``seed``.

    ``images``: uint8 N×H×W×3 (a ``lmf.data.Part``'s images), ``labels``: N class indices.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    rows = len(class_names)
    fig, axes = plt.subplots(rows, per_class, figsize=(1.2 * per_class + 1, 1.2 * rows),
                             squeeze=False, layout="constrained")
    for k, name in enumerate(class_names):
        members = np.flatnonzero(labels == k)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for j, ax in enumerate(axes[k]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(chosen):
                ax.imshow(np.asarray(images[chosen[j]]))
        axes[k][0].set_ylabel(f"{name}\n(n={len(members)})", rotation=0, ha="right",
                              va="center", fontsize=8)
    fig.suptitle(title or "Training images per class")
    return fig


def feature_embedding(data: pd.DataFrame, title: str | None = None):
    """One panel per run (loss, sampler): the 2-D embedding of its test features, one colour per
    class, the minority classes drawn large with a black edge over the others (faded); every
    panel on the same axes limits. The legend names each class with its training count.

    ``data``: columns loss, sampler, x, y, class, train_samples, minority
    (``lmf.classification.report.feature_space.run_embeddings``).
    """
    panels = list(dict.fromkeys(zip(data.loss, data.sampler, strict=True)))
    fig, axes = _grid(len(panels), width=3.6, height=3.4, max_cols=3, sharey=False)
    classes = (data.drop_duplicates("class").sort_values("train_samples", ascending=False,
                                                         kind="stable"))
    colors = dict(zip(classes["class"], sns.color_palette("tab10" if len(classes) <= 10
                                                          else "tab20", len(classes)),
                      strict=True))
    pad_x = 0.05 * (data.x.max() - data.x.min())
    pad_y = 0.05 * (data.y.max() - data.y.min())
    for ax, (loss, sampler) in zip(axes, panels, strict=True):
        rows = data[(data.loss == loss) & (data.sampler == sampler)]
        for minority in (False, True):
            part = rows[rows.minority == minority]
            ax.scatter(part.x, part.y, c=[colors[name] for name in part["class"]],
                       s=22 if minority else 7, alpha=1.0 if minority else 0.35,
                       edgecolors="black" if minority else "none", linewidths=0.5)
        ax.set_xlim(data.x.min() - pad_x, data.x.max() + pad_x)
        ax.set_ylim(data.y.min() - pad_y, data.y.max() + pad_y)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{_loss_label(loss)} · {sampler}" if len({s for _, s in panels}) > 1
                     else _loss_label(loss))
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colors[row["class"]],
                          markeredgecolor="black" if row.minority else "none",
                          markersize=7 if row.minority else 5,
                          label=f"{row['class']} (n={row.train_samples})"
                                + (" ★" if row.minority else ""))
               for _, row in classes.iterrows()]
    fig.legend(handles=handles, title="class (training images; ★ minority)", loc="outside right")
    fig.suptitle(title or "Test features, 2-D embedding")
    return fig
