"""The companion as a static website: ``make book`` (``python -m lmf.site``).

Builds a Jupyter Book 1.x (Sphinx + myst-nb) from the committed notebooks **without executing
them** (their committed outputs are the checked ones), offline: every source of the book (config,
table of contents, landing page, the notebooks with a "run this yourself" box and links to their
figures and tables, the data/GPU/SLURM notes) is generated here into ``_build/book/src/``, the site
into ``_build/book/html/`` (git-ignored), with MathJax served from the site itself
(``jupyter-server-mathjax``) and the figure folders copied beside the pages, so it works from
``file://`` and from any static host. Jupyter Book 2 (mystmd) fetches its theme from the network
at build time, hence 1.x.

The landing page is computed from the committed tables (``figures/<profile>/*.csv``) and the
published numbers (``data/paper/*.tsv`` through ``lmf.classification.paper`` and ``lmf.seg.paper``): one row per
published figure and table of the three papers.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from docutils.nodes import make_id

from lmf.classification import paper
from lmf.seg.paper import published_table

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
FIGURES = REPO / "figures"
DEFAULT_OUT = REPO / "_build" / "book"

#: The figures/tables each notebook writes, by file-name prefix under figures/<profile>/.
NOTEBOOK_OUTPUTS = {
    "01": ("fig2_", "table1_"),
    "02": ("nb02_",),
    "03": ("nb03_",),
    "04": ("fig1", "table2", "table3_", "table4_", "table5_", "extra_"),
    "05": ("fig3_", "table_fig3_"),
    "06": ("fig4_", "table6_"),
    "07": ("seg_",),
    "08": ("feat_", "scholz_"),
}

#: The pages made from the repository's notes: (page name, title, source file, README section).
NOTES = (
    ("data", "The data", "data/README.md", None),
    ("gpu", "Running the paper on a GPU", "README.md", "Running the paper on a GPU"),
    ("cluster", "SLURM clusters", "docs/cluster.md", None),
)

CSS = """
/* wide tables and outputs scroll inside their box, never the page */
div.cell_output, div.output, div.cell_input, .bd-article div.highlight { overflow-x: auto; max-width: 100%; }
div.cell_output table, .bd-article table.dataframe, .bd-article table { display: block; overflow-x: auto; max-width: 100%; }
div.cell_output img, .bd-article img { max-width: 100%; height: auto; }
.bd-article mjx-container, .bd-article .MathJax_Display { overflow-x: auto; overflow-y: hidden; }
table.lmf-results td, table.lmf-results th { vertical-align: top; padding: 0.25em 0.6em; }
table.lmf-results { font-size: 0.85em; }
table.lmf-results td.num { font-variant-numeric: tabular-nums; min-width: 9em; }
/* the page's width for the content: the results table and wide outputs need it */
.bd-main .bd-content .bd-article-container { max-width: 100%; }
.bd-page-width { max-width: 100%; }
.lmf-files { font-size: 0.9em; }
"""


# --------------------------------------------------------------------------- landing page data

@dataclass
class Row:
    """One published figure or table: what the paper reports and what a profile regenerated."""

    paper: str  # "LMF", "Cui et al. 2024", "Scholz et al. 2024"
    item: str  # "Fig 1", "Table 3", "claim"
    what: str  # the representative number, in words
    published: str
    notebook: str  # "04"
    heading: str  # a heading of that notebook that starts with this text ("" = the page)
    regenerate: Callable[[Path], tuple[str, float | None]]  # figures folder -> (text, value)
    published_value: float | None = None


def _fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name)


def _counterpart(folder: Path) -> str:
    """The paper dataset the profile's tables lay beside their own (Table 1's ``paper_dataset``)."""
    return str(_read(folder, "table1_split_sizes.csv").paper_dataset.iloc[0])


def _lmf_rows() -> list[Row]:
    overall = paper.overall()
    counts = paper.split_counts()
    table5 = paper.table5()
    table6 = paper.table6()
    rows: list[Row] = []
    ham = "ham10000"  # the counterpart of the cpu profile; each row names the dataset it uses

    def fig1(folder):
        frame = _read(folder, "fig1_macro_f1.csv")
        mine = frame[(frame.source == "this run") & (frame.loss == "lmf")]
        value = float(mine["mean"].iloc[0])
        return f"{_fmt(value)} ({mine.dataset.iloc[0]}, mean of {int(mine.n.iloc[0])} models)", value

    f1 = overall[(overall.dataset == ham) & (overall.loss == "lmf")].macro_f1.mean()
    rows.append(Row("LMF", "Fig 1", "LMF's macro-F1, mean over the three models",
                    f"{_fmt(f1)} (HAM10000)", "04", "Fig 1", fig1, f1))

    def ratio_of(train):
        return float(train.max() / train.min())

    def fig2(folder):
        frame = _read(folder, "table1_per_class_split.csv")
        first = frame[frame.dataset == frame.dataset.iloc[0]]
        value = ratio_of(first.train)
        return f"{_fmt(value, 1)} ({first.dataset.iloc[0]})", value

    pub = ratio_of(counts[counts.dataset == ham].train)
    rows.append(Row("LMF", "Fig 2", "imbalance: largest over smallest training class",
                    f"{_fmt(pub, 1)} (HAM10000)", "01", "Fig 2", fig2, pub))

    def fig3(folder):
        frame = _read(folder, "table_fig3_scores.csv").set_index("loss").loc["lmf"]
        correct, images = int(frame.correct), int(frame.images)
        return (f"{correct}/{images} correct; CAM energy in the region "
                f"{_fmt(float(frame.energy_share), 3)}"), 100.0 * correct / images

    # Fig 3 prints images, not numbers: its caption and text say LMF classifies all four correctly
    rows.append(Row("LMF", "Fig 3", "Grad-CAM images LMF classifies correctly",
                    "4/4 correct (one image per dataset; no scores printed)", "05", "Fig 3",
                    fig3, 100.0))

    def fig4(folder):
        frame = _read(folder, "fig4_hparam_settings.csv")
        means = frame.groupby("setting", sort=False).macro_f1.mean()
        best = str(means.idxmax())
        return f"best: {best}, mean macro-F1 {_fmt(float(means.max()))}", None

    rows.append(Row("LMF", "Fig 4", "the setting of α, β with the highest mean macro-F1",
                    "best: Setting 2 (α = 1); plot only, no values printed", "06", "Fig 4",
                    fig4))

    def table1(folder):
        frame = _read(folder, "table1_split_sizes.csv")
        value = int(frame.train.iloc[0])
        return f"{value} ({frame.dataset.iloc[0]})", value

    pub = int(paper.table1().set_index("dataset").loc[ham, "train"])
    rows.append(Row("LMF", "Table 1", "training images", f"{pub} (HAM10000)", "01", "Table 1",
                    table1, pub))

    for number, model, name in ((2, "efficientnetv2_s", "EfficientNetV2-S"),
                                (3, "resnet50", "ResNet50"), (4, "densenet121", "DenseNet121")):
        def overall_of(folder, model=model):
            frame = _read(folder, "table2-4_overall_long.csv")
            mine = frame[(frame.model_id == model) & (frame.loss == "lmf")].iloc[0]
            return f"{_fmt(float(mine.macro_f1))} ({mine.dataset_id})", float(mine.macro_f1)

        pub = float(overall.query("model == @model and dataset == @ham and loss == 'lmf'")
                    .macro_f1.iloc[0])
        rows.append(Row("LMF", f"Table {number}", f"LMF's macro-F1, {name}",
                        f"{_fmt(pub)} (HAM10000)", "04", f"Table {number}", overall_of, pub))

    def table5_of(folder):
        frame = _read(folder, "table5_classwise_f1.csv")
        first = frame[frame.dataset == frame.dataset.iloc[0]]
        smallest = first.loc[first.train_samples.idxmin()]
        return (f"{_fmt(float(smallest.lmf))} (class {smallest['class']}, "
                f"{int(smallest.train_samples)} training images)"), float(smallest.lmf)

    mine = table5[table5.dataset == ham]
    smallest = mine.loc[mine.train_samples.idxmin()]
    rows.append(Row("LMF", "Table 5", "LMF's F1 on the smallest class, EfficientNetV2-S",
                    f"{_fmt(float(smallest.lmf))} (HAM10000 {smallest['class']}, "
                    f"{int(smallest.train_samples)} training images)", "04", "Table 5",
                    table5_of, float(smallest.lmf)))

    def table6_of(folder):
        frame = _read(folder, "table6_lmf_alpha_beta.csv").iloc[0]
        return (f"α = {_fmt(float(frame.alpha))}, β = {_fmt(float(frame.beta))} "
                f"({frame.dataset}, {frame.model})"), float(frame.beta)

    pub6 = table6.query("dataset == @ham and model == 'resnet50'").iloc[0]
    rows.append(Row("LMF", "Table 6", "LMF's weights α, β chosen on validation (β compared)",
                    f"α = {_fmt(float(pub6.alpha))}, β = {_fmt(float(pub6.beta))} "
                    "(HAM10000, resnet50)", "06", "Table 6", table6_of, float(pub6.beta)))
    return rows


#: Cui et al.: each table's headline setting (published ``setting``, this project's ``setting``).
CUI_HEADLINES = {
    1: ("proposed", "full strategy, unified focal", "Networks before/after the full strategy"),
    2: ("sas", "SAS", "SAS gate"),
    3: ("unified focal", "unified focal", "the unified focal loss"),
    4: ("progressive resizing", "progressive resizing", "progressive resizing"),
    5: ("sas", "SAS", "attention variants"),
    6: ("sas", "SAS", "oversampling against SAS"),
}
CUI_FILES = {1: "seg_table1_models", 2: "seg_table2_sas", 3: "seg_table3_losses",
             4: "seg_table4_resizing", 5: "seg_table5_attention", 6: "seg_table6_balancing"}


def _cui_rows() -> list[Row]:
    rows = []
    for number, (published_setting, our_setting, topic) in CUI_HEADLINES.items():
        table = published_table(number)
        chosen = table[table.setting == published_setting]
        model = "unet" if (chosen.model == "unet").any() else str(chosen.model.iloc[0])
        chosen = chosen[chosen.model == model]
        value = float(chosen.dsc.mean())
        shown = str(chosen.model.iloc[0]).replace("unet", "UNet").replace("deeplabv3",
                                                                          "DeepLab-V3")

        def ours(folder, number=number, our_setting=our_setting):
            frame = _read(folder, f"{CUI_FILES[number]}_beside_published.csv")
            frame = frame[~frame.source.str.contains("published")]
            mine = frame[(frame.model_id == "UNet") & (frame.setting == our_setting)].iloc[0]
            return f"{_fmt(float(mine.dsc), 3)} (UNet, {mine.dataset_id})", float(mine.dsc)

        rows.append(Row("Cui et al. 2024", f"Table {number}",
                        f"{topic}: DSC as printed, setting '{published_setting}'",
                        f"{_fmt(value, 3)} ({shown}, mean of {len(chosen)} datasets)", "07",
                        f"Table {number}", ours, value))
    return rows


def _scholz_row() -> Row:
    """Scholz et al. report their gains in words; the notebook's introduction quotes them."""
    intro = "".join(json.loads((NOTEBOOKS / "08_feature_space.ipynb").read_text())
                    ["cells"][0]["source"])
    gains = re.search(r"balanced accuracy up to (\d+) points and\s+minority-class F1 up to (\d+)",
                      intro)
    ba, f1 = (int(gains.group(1)), int(gains.group(2))) if gains else (12, 51)

    def ours(folder):
        frame = _read(folder, "scholz_table_loss_sampler.csv")
        others = frame[frame.loss != "cce"]
        best_ba, best_f1 = others.diff_balanced_accuracy.max(), others.diff_minority_f1.max()
        return (f"up to {best_ba:+.1f} balanced accuracy, {best_f1:+.1f} minority-class F1 "
                f"({frame.dataset_id.iloc[0]})"), float(best_f1)

    return Row("Scholz et al. 2024", "claim",
               "best gain over cross-entropy of a soft-metric loss × sampler (points)",
               f"up to +{ba} balanced accuracy, +{f1} minority-class F1", "08", "", ours,
               float(f1))


def result_rows() -> list[Row]:
    """Every published figure and table of the three papers, one row each."""
    return [*_lmf_rows(), *_cui_rows(), _scholz_row()]


# --------------------------------------------------------------------------- generated sources

def notebook_pages() -> dict[str, Path]:
    """Notebook number ("01") -> committed notebook."""
    return {path.name[:2]: path for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def _headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [line.lstrip("#").strip() for cell in cells if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines() if line.startswith("#")]


def _anchor(notebook: Path, start: str) -> str:
    """The section id Sphinx gives the first heading of ``notebook`` starting with ``start``."""
    if not start:
        return ""
    for heading in _headings(notebook):
        if heading.startswith(start) and not heading[len(start):len(start) + 1].isdigit():
            return "#" + make_id(heading)
    return ""


def _profiles() -> list[str]:
    """The profiles whose figures are committed or regenerated here: cpu, and paper when a lab
    regenerated it."""
    return [name for name in ("cpu", "paper") if (FIGURES / name / "fig1_macro_f1.csv").exists()]


def _cell(text: str, cls: str = "") -> str:
    return f'<td{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{html.escape(text)}</td>'


def landing_page() -> str:
    pages = notebook_pages()
    profiles = _profiles()
    head = ["paper", "figure / table", "representative number", "published"]
    for profile in profiles:
        head += [f"regenerated ({profile} profile)", f"difference ({profile})"]
    head.append("notebook")
    lines = ['<table class="lmf-results">', "<thead><tr>"
             + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead>", "<tbody>"]
    for row in result_rows():
        notebook = pages[row.notebook]
        cells = [_cell(row.paper), _cell(row.item), _cell(row.what), _cell(row.published, "num")]
        for profile in profiles:
            try:
                text, value = row.regenerate(FIGURES / profile)
            except (FileNotFoundError, KeyError, IndexError, ValueError, AttributeError):
                text, value = "not regenerated", None
            diff = ("—" if value is None or row.published_value is None
                    or (isinstance(value, float) and math.isnan(value))
                    else f"{value - row.published_value:+.2f}")
            cells += [_cell(text, "num"), _cell(diff, "num")]
        link = f"notebooks/{notebook.stem}.html{_anchor(notebook, row.heading)}"
        cells.append(f'<td><a href="{link}">{html.escape(notebook.stem)}</a></td>')
        lines.append(f'<tr data-item="{html.escape(row.paper + " " + row.item)}">'
                     + "".join(cells) + "</tr>")
    lines += ["</tbody>", "</table>"]
    table = "\n".join(lines)

    notebooks = "\n".join(f"- [{path.stem}](notebooks/{path.stem}.ipynb)"
                          for path in pages.values())
    paper_note = ("" if "paper" in profiles else
                  "The `paper` profile's figures (`figures/paper/`) are not here: a lab that "
                  "ran `make reproduce PROFILE=paper` and then `make book` gets its column beside "
                  "the `cpu` one.")
    return f"""---
html_theme.sidebar_secondary.remove: true
---

# LMF paper companion

The notebooks of this companion, as they were committed and checked (not re-executed for this
site), regenerate every figure and table of **"LMFLOSS: a hybrid loss for imbalanced medical image
classification"** (Sadi et al.) and of two related papers: Cui et al. 2024's segmentation study
and Scholz et al. 2024's claim about metric-based losses.

## Published beside regenerated

Numbers of the **{", ".join(f"`{p}`" for p in profiles)} profile**
({", ".join(f"`figures/{p}/`" for p in profiles)}), read from the committed tables; the published
ones from `data/paper/` (LMF and Cui et al.) and, for Scholz et al., from the claim as quoted in
notebook 08. The difference is regenerated minus published.


{table}

```{{admonition}} What the cpu profile can and cannot show
:class: important
The `cpu` profile trains on **digits-LT** (scikit-learn's handwritten digits, made long-tailed)
and small CNNs from random initialisation standing in for EfficientNetV2-S, ResNet50 and
DenseNet121 (notebook 07: digit strokes standing in for MRI segmentation). It shows that every
figure and table is regenerated end to end, and how the losses compare on a small long-tailed
problem. It cannot show whether the papers' numbers hold on their medical datasets: the published
values are laid beside it for orientation, and the differences are not expected to be small.
{paper_note}
```

Cui et al.'s printed IoU/DSC pairs follow neither definition of their Eqs 13–14 (see
`data/paper/README.md`), so their DSC compares with this project's only in order of magnitude.

## The notebooks

{notebooks}

Each page shows the notebook's parameters cell, its code and its committed outputs, with a box on
how to run it yourself and links to the full-resolution figures (PNG, PDF) and tables (CSV) it
wrote. The notes: [the data](data.md), [running the paper on a GPU](gpu.md),
[SLURM clusters](cluster.md).
"""


def _sanitize(text: str) -> str:
    """No machine paths in a page: the repository becomes ``.``, the home folder ``~``."""
    text = text.replace(str(REPO), ".")
    home = str(Path.home())
    if len(home) > 1:
        text = text.replace(home, "~")
    return text


def _figure_links(number: str, depth: str) -> str:
    lines = []
    for profile in _profiles():
        folder = FIGURES / profile
        stems = sorted({path.stem for path in folder.iterdir()
                        if path.name.startswith(NOTEBOOK_OUTPUTS.get(number, ()))
                        and path.suffix in {".png", ".pdf", ".csv"}})
        for stem in stems:
            links = [f'<a href="{depth}figures/{profile}/{stem}{suffix}">{label}</a>'
                     for suffix, label in ((".png", "PNG"), (".pdf", "PDF"), (".csv", "CSV"))
                     if (folder / f"{stem}{suffix}").exists()]
            lines.append(f"<li><code>figures/{profile}/{stem}</code>: {' · '.join(links)}</li>")
    if not lines:
        return ""
    return ('<details class="lmf-files"><summary>Figures (full resolution) and tables this '
            'notebook wrote</summary><ul>\n' + "\n".join(lines) + "\n</ul></details>")


def _parameters(cells: list[dict]) -> list[str]:
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return re.findall(r"^([A-Z][A-Z0-9_]*)\s*[:=]", "".join(cell["source"]), re.M)
    return []


def notebook_copy(path: Path) -> dict:
    """The committed notebook with the run-yourself box and figure links after its title."""
    notebook = json.loads(_sanitize(path.read_text()))
    number = path.name[:2]
    names = [name for name in _parameters(notebook["cells"]) if name != "PROFILE"]
    example = next((f" -p {name}={value}" for name, value in (("EPOCHS", 20), ("SEEDS", 3))
                    if name in names), "")
    box = f"""```{{admonition}} Run this yourself
:class: tip
`lmf reproduce --only {number} --profile cpu{example}` executes this notebook again (its copy
lands in `results/notebooks/cpu/`; `--profile paper` on the paper's data and a GPU);
`make lab` opens it in JupyterLab with the project's kernel. Parameters (`-p NAME=VALUE`):
{", ".join(f"`{name}`" for name in ["PROFILE", *names])}.
```

{_figure_links(number, "../")}
"""
    cell = {"cell_type": "markdown", "metadata": {}, "source": box}
    notebook["cells"].insert(1, cell)
    for each in notebook["cells"]:  # nbformat 4.5 ids: the inserted one needs its own
        each.pop("id", None)
    notebook["nbformat_minor"] = min(notebook.get("nbformat_minor", 4), 4)
    return notebook


def _note_page(source: str, section: str | None, title: str) -> str:
    text = (REPO / source).read_text()
    if section:
        match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
        text = f"# {title}\n\n" + (match.group(1) if match else "")
    else:
        text = re.sub(r"\A# .*", f"# {title}", text, count=1)
    pages = {"data/README.md": "data.md", "docs/cluster.md": "cluster.md"}

    def link(match):  # local files outside the book become plain names, book pages links
        label, target = match.group(1), match.group(2)
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        name = target.split("#")[0].lstrip("./")
        for key, page in pages.items():
            if name.endswith(key) or key.endswith(name):
                return f"[{label}]({page})"
        return f"{label} (`{name}`)" if label.strip("`") != name else label

    return _sanitize(re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, text))


def write_sources(src: Path) -> None:
    """Config, table of contents, landing page, notes and notebook copies under ``src``."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    (src / "_static").mkdir()
    (src / "_static" / "lmf.css").write_text(CSS)
    import jupyter_server_mathjax

    # outside _static: Jupyter Book adds every .js under _static to every page
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static",
                    src / "_extra" / "mathjax")
    (src / "index.md").write_text(landing_page())
    for name, title, source, section in NOTES:
        (src / f"{name}.md").write_text(_note_page(source, section, title))
    pages = notebook_pages()
    for path in pages.values():
        (src / "notebooks" / path.name).write_text(json.dumps(notebook_copy(path), indent=1))
    toc = ["format: jb-book", "root: index", "parts:", "  - caption: Notebooks", "    chapters:"]
    toc += [f"      - file: notebooks/{path.stem}" for path in pages.values()]
    toc += ["  - caption: Running it", "    chapters:"]
    toc += [f"      - file: {name}" for name, *_ in NOTES]
    (src / "_toc.yml").write_text("\n".join(toc) + "\n")
    (src / "_config.yml").write_text("""\
title: LMF paper companion
author: the lmf companion
copyright: ""
only_build_toc_files: true
execute:
  execute_notebooks: "off"
parse:
  myst_enable_extensions: [amsmath, colon_fence, dollarmath, html_image, html_admonition]
html:
  use_repository_button: false
  use_issues_button: false
  use_edit_page_button: false
  use_multitoc_numbering: false
  home_page_in_navbar: true
  extra_footer: ""
launch_buttons:
  notebook_interface: classic
  binderhub_url: ""
  jupyterhub_url: ""
  thebe: false
  colab_url: ""
  deepnote_url: ""
sphinx:
  config:
    html_extra_path: [_extra]
    mathjax_path: ../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full
    myst_update_mathjax: false
    html_css_files: [lmf.css]
    html_show_sourcelink: false
    html_last_updated_fmt: null
    nb_merge_streams: true
    suppress_warnings: [mystnb.unknown_mime_type, myst.header, misc.highlighting_failure]
    html_theme_options:
      use_download_button: true
      use_fullscreen_button: false
      show_toc_level: 2
      navigation_with_keys: false
    html_context: {default_mode: light}
    mathjax2_config:
      fast-preview: {disabled: true}
      CHTML-preview: {disabled: true}
      HTML-CSS: {availableFonts: [], preferredFont: null, webFont: STIX-Web, imageFont: null}
      SVG: {font: STIX-Web}
      MathMenu: {showFontMenu: false}
      menuSettings: {CHTMLpreview: false}
""")


def build(out: Path = DEFAULT_OUT, quiet: bool = True) -> Path:
    """Build the site into ``out/html``; returns its ``index.html``."""
    out = Path(out)
    src, site = out / "src", out / "html"
    write_sources(src)
    if (out / "_build").exists():
        shutil.rmtree(out / "_build")
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(src), "--path-output",
               str(out), "--builder", "html"]
    if quiet:
        command.append("--quiet")
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    done = subprocess.run(command, capture_output=quiet, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed:\n{done.stdout}\n{done.stderr}")
    if site.exists():
        shutil.rmtree(site)
    shutil.move(str(out / "_build" / "html"), site)
    shutil.rmtree(out / "_build", ignore_errors=True)
    for page in site.rglob("*.html"):  # sphinx-thebe and the book theme both declare it
        text = page.read_text(encoding="utf-8")
        thebe = re.search(r"<script>const THEBE_JS_URL.*?</script>\n", text)
        if thebe and text.count(thebe.group(0)) > 1:
            first = text.index(thebe.group(0)) + len(thebe.group(0))
            page.write_text(text[:first] + text[first:].replace(thebe.group(0), ""),
                            encoding="utf-8")
    for profile in _profiles():
        shutil.copytree(FIGURES / profile, site / "figures" / profile,
                        ignore=shutil.ignore_patterns("*.md"))
    return site / "index.html"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m lmf.site", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build folder")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's output")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    index = build(args.out, quiet=not args.verbose)
    print(f"built the book in {time.perf_counter() - start:.1f} s")
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
