"""The run report: what one retrain did, as one self-contained HTML page.

Evaluate (evaluate.py) calls `render(facts)` in the SageMaker XGBoost 3.2-0 image, which holds
matplotlib 3.10.9 (pipeline/images.py). The page carries its pictures as inline SVG that matplotlib
draws without a display (Agg), and nothing else: no script, no style sheet or font fetched. Every
picture draws at most MAX_POINTS rows (a random sample, the same rows for both models) or bins them,
so the page stays small whatever the size of the test split.

The new model and the model in production are drawn on the same axes, on the same test rows:
regression gets predicted against actual and the residuals; binary the ROC and precision-recall
curves and the confusion matrix at the 0.5 threshold Evaluate decides with; multiclass the confusion
matrix and the F1 of each class, named by the label mapping. Every problem type gets the features by
gain, the data summary (data_report.json) and the history of the group's primary metric.
"""

from __future__ import annotations

import html
import io
import math
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display in a processing job; the SVG backend draws the pictures

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator

MAX_POINTS = 2000  # rows drawn in a scatter plot
HISTOGRAM_BINS = 40
ANNOTATED_CLASSES = 12  # a confusion matrix with more classes shows colours only, no counts
OPEN_HISTORY_ROWS = 10  # a longer history table is folded (a click opens it)
SIDE_BY_SIDE_CLASSES = 20  # more classes: the production model's matrix goes below the new model's
LABEL_CHARACTERS = 24  # longer class and feature names are shortened in pictures (the tables keep them)
NEW, PRODUCTION, BASELINE = "#1f6fb4", "#e0701b", "#8a8a8a"
WIDTH = 11.0  # inches, every picture (the page's column is narrower: the SVG scales down to fit it)
CHARACTER_INCHES = 0.6 / 72  # a character's width per point of font size, generously (DejaVu Sans)
NUMBERS = 0.85  # inches left of an axes whose ticks are numbers: the numbers and the axis label
MIN_BARS = 1.2  # inches: a bar chart of two or three bars is not a strip
BOTTOM, TOP = 0.6, 0.35  # inches below an axes (tick labels, axis label) and above it (its title)
UNIT = (-0.02, 1.02)  # a rate's axis: a curve along an edge is not hidden under the axis line
matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, selectable, drawn with the browser's fonts
        "svg.hashsalt": "run-report",  # the same ids for the same drawing: reports compare byte for byte
        "text.parse_math": False,  # a `$` in a class name is a dollar sign
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)
LOWER_IS_BETTER = ("rmse", "mse", "mae", "log_loss")
LABELS = {"mse": "MSE", "rmse": "RMSE", "mae": "MAE", "r2": "R2", "auc": "AUC", "accuracy": "accuracy"}
LABELS |= {"f1": "F1", "macro_f1": "macro-F1", "log_loss": "log loss"}


def render(facts: dict[str, Any]) -> str:
    """The page, from what Evaluate knows (see evaluate.py `_report_facts`)."""
    problem_type = facts["evaluation"]["problem_type"]
    draw = {"regression": regression_pictures, "binary": binary_pictures, "multiclass": multiclass_pictures}
    sections = [
        header(facts),
        section("Metrics on the test rows", metrics_table(facts["evaluation"])),
        section("Pictures", draw[problem_type](facts)),
        section("Features by gain", importance_picture(facts["importance"])),
        section("The data", data_summary(facts["data_report"])),
        section("History of the model group", history(facts)),
    ]
    title = f"Run report {facts['run'].get('execution_id') or ''}".strip()
    return PAGE.format(title=html.escape(title), body="\n".join(sections))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; color: #1b1b1b; margin: 0; background: #fff; }}
main {{ max-width: 1180px; margin: 0 auto; padding: 16px 20px 40px; box-sizing: border-box; }}
h1 {{ font-size: 24px; margin: 8px 0 12px; overflow-wrap: anywhere; }}
h2 {{ font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }}
.decision {{ font-size: 17px; padding: 10px 14px; border-left: 5px solid #1f6fb4; background: #f2f6fb; }}
.decision.kept {{ border-color: #e0701b; background: #fdf5ee; }}
dl {{ display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 16px; margin: 12px 0; }}
dt {{ font-weight: 600; }} dd {{ margin: 0; overflow-wrap: anywhere; }}
table {{ border-collapse: collapse; margin: 8px 0; max-width: 100%; }}
th, td {{ border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: left; overflow-wrap: anywhere; }}
td.number {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.primary td {{ font-weight: 600; }}
figure {{ margin: 12px 0; }} figcaption {{ color: #555; font-size: 13px; }}
svg {{ max-width: 100%; height: auto; display: block; }}
.note {{ color: #555; }}
ul.balance {{ columns: 15em 4; list-style: none; padding: 0; margin: 8px 0; }}
ul.balance li {{ break-inside: avoid; padding: 1px 0; overflow-wrap: anywhere; }}
</style></head>
<body><main>
{body}
</main></body></html>
"""


def section(title: str, content: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>\n{content}\n</section>"


def text(value: Any) -> str:
    return html.escape(str(value))


def number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4g}"


def short(name: str) -> str:
    """A long name cut in the middle, where class paths and feature names differ least
    ("Electronics > Comp…Laptops" and "…Desktops" stay apart)."""
    if len(name) <= LABEL_CHARACTERS:
        return name
    head = (LABEL_CHARACTERS - 1) // 2
    return name[:head] + "…" + name[-(LABEL_CHARACTERS - 1 - head) :]


def shortened(names: list[str]) -> list[str]:
    """Each name short, and all still told apart: numbered where shortening made two the same."""
    shown = [short(name) for name in names]
    if len(set(shown)) == len(shown):
        return shown
    return [f"{n}. {text}" if shown.count(text) > 1 else text for n, text in enumerate(shown, start=1)]


def class_names(facts: dict[str, Any], count: int) -> list[str]:
    mapping = facts["evaluation"].get("label_mapping") or {}
    return [str(mapping.get(str(index), index)) for index in range(count)]


# -- header and metrics --------------------------------------------------------------------------------


def header(facts: dict[str, Any]) -> str:
    evaluation, data_report, run = facts["evaluation"], facts["data_report"], facts["run"]
    kept = not evaluation["decision"]["register"]
    rows = [
        ("Run", run.get("execution_arn") or run.get("unavailable") or "not given"),
        ("Cause", run.get("cause") or run.get("unavailable") or "not recorded"),
        ("Trained on", trained_on(data_report)),
        ("Problem type", problem_type_line(data_report, evaluation["problem_type"])),
        ("Test rows", f"{evaluation['rows']['test']:,}"),
    ]
    listed = "\n".join(f"<dt>{text(name)}</dt><dd>{text(value)}</dd>" for name, value in rows)
    return (
        f"<h1>Run report{text(' ' + run['execution_id']) if run.get('execution_id') else ''}</h1>\n"
        f'<p class="decision{" kept" if kept else ""}">{text(decision_sentence(evaluation))}</p>\n<dl>{listed}</dl>'
    )


def trained_on(data_report: dict[str, Any]) -> str:
    lineage = data_report.get("lineage") or {}
    objects = lineage.get("objects") or []
    if not objects:
        return lineage.get("input") or "not recorded"
    keys = ", ".join(str(item.get("key")) for item in objects[:5])
    more = f" and {len(objects) - 5:,} more" if len(objects) > 5 else ""
    bucket = f" in {lineage['bucket']}" if lineage.get("bucket") else ""
    return f"{len(objects):,} object{'s' if len(objects) != 1 else ''}{bucket}: {keys}{more}"


def problem_type_line(data_report: dict[str, Any], chosen: str) -> str:
    described = data_report.get("problem_type") or {}
    requested = described.get("requested")
    how = "as requested" if requested and requested != "auto" else "chosen from the data"
    return f"{chosen}, {how}" + (f": {described['rule']}" if described.get("rule") else "")


def decision_sentence(evaluation: dict[str, Any]) -> str:
    """Evaluate's decision in one sentence (its summary ends with what was done: said here first)."""
    decision, gate = evaluation["decision"], evaluation["gate"]
    kept = "production stays" if evaluation.get("champion") else "no model in production"
    why = re.sub(r"(: registered( for review)?|: not registered)$", "", decision["summary"])
    if not gate["passed"]:
        return f"Not registered, {kept}: the new model failed the quality gate ({gate['reason']})."
    if decision["register"]:
        return f"New model registered, {decision['approval_status']}: {why}."
    return f"Not registered, {kept}: {why}."


def metrics_table(evaluation: dict[str, Any]) -> str:
    champion = evaluation.get("champion") or {}
    theirs = champion.get("metrics") or {}
    if not champion:
        note = "No model was in production (no Approved package in the group)."
    elif not champion.get("comparable"):
        note = f"The model in production was not compared: {champion.get('reason')}."
    else:
        note = "All three scored on the same test rows."
    lines = []
    for name, value in evaluation["metrics"].items():
        better = "lower is better" if name in LOWER_IS_BETTER else "higher is better"
        cells = [value, evaluation["baseline_metrics"].get(name), theirs.get(name) if theirs else None]
        shown = "".join(f'<td class="number">{number(cell)}</td>' for cell in cells)
        primary = ' class="primary"' if name == evaluation["primary_metric"] else ""
        lines.append(
            f"<tr{primary}><td>{text(LABELS.get(name, name))} <span class='note'>({better})</span></td>{shown}</tr>"
        )
    head = "<tr><th>metric</th><th>new model</th><th>trivial baseline</th><th>production</th></tr>"
    primary = LABELS.get(evaluation["primary_metric"], evaluation["primary_metric"])
    scoring = (evaluation.get("scoring") or {}).get("statement")  # how many rows AUC and the pictures saw
    scored = f" {text(scoring[:1].upper() + scoring[1:])}." if scoring else ""
    return (
        f"<table>{head}{''.join(lines)}</table>\n"
        f'<p class="note">{text(note)} The row in bold, {text(primary)}, decides against production.{scored}</p>'
    )


# -- pictures -----------------------------------------------------------------------------------------


def svg(figure: Figure, caption: str) -> str:
    """The figure as inline SVG (its XML prologue dropped) in a <figure> with its caption."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    drawn = buffer.getvalue()
    return f"<figure>{drawn[drawn.index('<svg') :]}<figcaption>{text(caption)}</figcaption></figure>"


def labels_inches(names: list[str], size: float) -> float:
    """Room beside an axes for tick labels of these names at this font size, and the axis label."""
    return max((len(name) for name in names), default=1) * size * CHARACTER_INCHES + 0.45


def place(figure: Figure, left: float, bottom: float, width: float, height: float) -> Any:
    """An axes where the numbers say, in inches. No layout engine: one measures every text again (half
    the report's drawing time), so each picture sets its margins from what its labels hold."""
    figure_width, figure_height = figure.get_size_inches()
    return figure.add_axes((left / figure_width, bottom / figure_height, width / figure_width, height / figure_height))


def sample_rows(rows: int) -> np.ndarray:
    if rows <= MAX_POINTS:
        return np.arange(rows)
    return np.sort(np.random.default_rng(0).choice(rows, MAX_POINTS, replace=False))


def models(facts: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(name, predictions, colour) of the model in production when compared, then the new model: drawn
    in that order, the new model on top (where they agree, production's ring shows around it)."""
    drawn = [("new model", facts["predicted"], NEW)]
    if facts.get("production_predicted") is not None:
        drawn.insert(0, ("production", facts["production_predicted"], PRODUCTION))
    return drawn


def regression_pictures(facts: dict[str, Any]) -> str:
    actual = np.asarray(facts["actual"], dtype=float)
    shown = sample_rows(len(actual))
    figure = Figure(figsize=(WIDTH, 4.4))
    scatter = place(figure, NUMBERS, BOTTOM, 4.45, 4.4 - BOTTOM - TOP)
    residuals = place(figure, 5.3 + NUMBERS, BOTTOM, WIDTH - 5.5 - NUMBERS, 4.4 - BOTTOM - TOP)
    low, high = float(np.min(actual)), float(np.max(actual))
    alpha = 0.8 if len(shown) <= 200 else 0.45  # many points: see-through, so dense areas look dense
    for name, drawn, colour in models(facts):
        predicted = np.asarray(drawn, dtype=float)
        if name == "production":  # rings, under the new model's dots
            style = {"s": 34, "facecolors": "none", "edgecolors": colour, "linewidths": 0.9, "alpha": alpha}
        else:
            style = {"s": 12, "color": colour, "linewidths": 0, "alpha": alpha}
        scatter.scatter(actual[shown], predicted[shown], label=name, **style)
        low, high = min(low, float(np.min(predicted))), max(high, float(np.max(predicted)))
    scatter.plot([low, high], [low, high], color=BASELINE, linewidth=1, label="predicted = actual")
    scatter.set(xlabel="actual", ylabel="predicted", title="Predicted against actual")
    scatter.legend(loc="upper left", framealpha=0.85, edgecolor="none")  # over the points, still readable
    errors = [np.asarray(predicted, dtype=float) - actual for _, predicted, _ in models(facts)]
    edges, beyond = residual_bins(np.concatenate(errors), len(actual))
    for (name, _, colour), error in zip(models(facts), errors, strict=True):
        dashes = "--" if name == "production" else "-"
        residuals.hist(error, bins=edges, histtype="step", linewidth=1.6, linestyle=dashes, color=colour, label=name)
    residuals.axvline(0, color=BASELINE, linewidth=1)
    residuals.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of rows
    residuals.set(xlabel="predicted - actual", ylabel="rows", title="Residuals")
    residuals.legend(loc="upper right", frameon=False)
    caption = f"{len(shown):,} of {len(actual):,} test rows drawn in the scatter plot; the histogram counts all."
    caption = caption if len(shown) < len(actual) else "Every test row is drawn."
    if beyond:
        caption += f" The histogram shows the central 98% of residuals; {beyond:,} beyond it are not drawn."
    return svg(figure, caption)


def residual_bins(errors: np.ndarray, rows: int) -> tuple[np.ndarray, int]:
    """Bin edges for the residuals, and how many fall outside them: long tails are cut to the
    1st-99th percentiles, so the bulk is not squeezed into two bars; few rows get few bins."""
    low, high = (float(v) for v in np.percentile(errors, [1, 99]))
    spread = float(np.max(errors) - np.min(errors))
    if high <= low or spread <= 4 * (high - low):
        low, high = float(np.min(errors)), float(np.max(errors))
    bins = int(min(HISTOGRAM_BINS, max(5, rows // 4)))
    edges = np.histogram_bin_edges(errors, bins=bins, range=(low, high) if high > low else None)
    return edges, int(np.sum((errors < edges[0]) | (errors > edges[-1])))


def binary_pictures(facts: dict[str, Any]) -> str:
    names = class_names(facts, 2)
    shown = shortened(names)
    left = 7.1 + labels_inches(shown, 9)
    side = min(2.75, WIDTH - 0.1 - left)
    # long class names stand upright under the matrix, with the room they need
    below = BOTTOM + (labels_inches(shown, 9) - 0.4 if upright(shown, 9, side / 2) else 0.0)
    height = max(3.9, below + side + TOP)
    figure = Figure(figsize=(WIDTH, height))
    roc, precision_recall = (place(figure, at, BOTTOM, 2.75, height - BOTTOM - TOP) for at in (0.75, 4.25))
    matrix = place(figure, left, below, side, side)
    qualities = [("new model", facts["quality"], NEW, "-")]
    if facts.get("production_quality"):
        qualities.insert(0, ("production", facts["production_quality"], PRODUCTION, "--"))
    for name, quality, colour, dashes in qualities:
        section = quality["binary_classification_metrics"]
        curve = section["receiver_operating_characteristic_curve"]
        style = {"color": colour, "label": name, "linestyle": dashes, "linewidth": 1.6}
        roc.plot(curve["false_positive_rates"], curve["true_positive_rates"], **style)
        curve = section["precision_recall_curve"]
        precision_recall.plot(curve["recalls"], curve["precisions"], **style)
    roc.plot([0, 1], [0, 1], color=BASELINE, linewidth=1, linestyle="--", label="chance")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=UNIT, ylim=UNIT)
    share = float(np.mean(np.asarray(facts["actual"]) == 1)) if len(facts["actual"]) else 0.0
    precision_recall.axhline(share, color=BASELINE, linewidth=1, linestyle="--", label="positive share")
    precision_recall.set(xlabel="recall", ylabel="precision", title="Precision-recall", xlim=UNIT, ylim=UNIT)
    roc.legend(loc="lower right", frameon=False)
    precision_recall.legend(loc="lower left", frameon=False)
    confusion(matrix, facts, names, annotate=True)
    matrix.set_title("Confusion matrix, threshold 0.5" if side > 2.4 else "At threshold 0.5")
    caption = f"Positive class: {names[1]}. Curves downsampled to the points in model_quality.json."
    if facts.get("production_predicted") is not None:
        caption += " Counts in brackets: the model in production."
    return svg(figure, caption)


def counts(actual: Any, predicted: Any, classes: int, binary: bool) -> np.ndarray:
    labels = np.asarray(actual).astype(int)
    predicted = np.asarray(predicted)
    chosen = (predicted >= 0.5).astype(int) if binary else predicted.argmax(axis=1)
    return np.bincount(labels * classes + chosen, minlength=classes * classes).reshape(classes, classes)


def confusion(axes: Any, facts: dict[str, Any], names: list[str], annotate: bool, which: str = "predicted") -> None:
    """Rows: the actual class; columns: the predicted one; colour: the share of the row (recall)."""
    binary = facts["evaluation"]["problem_type"] == "binary"
    table = counts(facts["actual"], facts[which], len(names), binary)
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1, interpolation="nearest", aspect="equal")
    ticks = range(len(names))
    size = matrix_font(len(names))
    cell = axes.get_position().width * axes.get_figure().get_size_inches()[0] / len(names)
    rotation = 90 if upright(shortened(names), size, cell) else 0
    axes.set_xticks(ticks, shortened(names), rotation=rotation, fontsize=size)
    axes.set_yticks(ticks, shortened(names), fontsize=size)
    axes.set(xlabel="predicted class", ylabel="actual class")
    axes.spines[:].set_visible(False)
    if not annotate:
        return
    theirs = None
    if binary and facts.get("production_predicted") is not None:
        theirs = counts(facts["actual"], facts["production_predicted"], len(names), binary)
    for (row, column), count in np.ndenumerate(table):
        label = f"{count:,}" + (f"\n({theirs[row, column]:,})" if theirs is not None else "")
        colour = "white" if shares[row, column] > 0.6 else "#1b1b1b"
        axes.text(column, row, label, ha="center", va="center", color=colour, fontsize=size)


def upright(names: list[str], size: float, cell: float) -> bool:
    """Whether these tick labels must stand upright to fit cells ``cell`` inches wide side by side."""
    return max((len(name) for name in names), default=0) * size * CHARACTER_INCHES > 0.9 * cell


def matrix_font(classes: int) -> float:
    return 9 if classes <= ANNOTATED_CLASSES else max(6.5, 9 - classes / 12)


def multiclass_pictures(facts: dict[str, Any]) -> str:
    classes = np.asarray(facts["predicted"]).shape[1]
    names = class_names(facts, classes)
    panels = [("predicted", "New model")]
    if facts.get("production_predicted") is not None:
        panels.append(("production_predicted", "Production"))
    # Side by side while both stay readable; with more classes, one above the other, each wider.
    across = len(panels) if classes <= SIDE_BY_SIDE_CLASSES else 1
    labels = labels_inches(shortened(names), matrix_font(classes))
    side = min((WIDTH - 0.2) / across - labels - 0.1, max(3.0, 0.2 * classes + 1.0), 8.0)
    panel_height = TOP + side + labels + 0.1
    rows = len(panels) // across
    figure = Figure(figsize=(WIDTH, panel_height * rows))
    for number, (which, title) in enumerate(panels):
        row, column = divmod(number, across)
        left = column * WIDTH / across + labels + 0.1
        axes = place(figure, left, (rows - 1 - row) * panel_height + labels + 0.1, side, side)
        confusion(axes, facts, names, annotate=classes <= ANNOTATED_CLASSES, which=which)
        axes.set_title(f"{title}: confusion matrix")
    matrices = svg(figure, "Colour: the share of each actual class predicted as each class (its recall).")
    return matrices + f1_picture(facts, names)


def f1_by_class(actual: Any, predicted: Any, classes: int) -> np.ndarray:
    table = counts(actual, predicted, classes, binary=False).astype(float)
    hits = np.diag(table)
    denominator = table.sum(axis=0) + table.sum(axis=1)
    scores: np.ndarray = np.divide(2 * hits, denominator, out=np.zeros(classes), where=denominator > 0)
    return scores


def f1_picture(facts: dict[str, Any], names: list[str]) -> str:
    drawn = models(facts)
    height = 0.8 / len(drawn)
    font = 9 if len(names) <= 25 else 7
    bars = max(MIN_BARS, 0.2 * len(names) * (1 + 0.4 * (len(drawn) - 1)))
    left = labels_inches(shortened(names), font)
    figure = Figure(figsize=(WIDTH, bars + BOTTOM + TOP))
    axes = place(figure, left, BOTTOM, WIDTH - left - 0.2, bars)
    positions = np.arange(len(names))
    for offset, (name, predicted, colour) in enumerate(drawn):
        scores = f1_by_class(facts["actual"], predicted, len(names))
        axes.barh(positions + (offset - (len(drawn) - 1) / 2) * height, scores, height=height, color=colour, label=name)
    axes.set_yticks(positions, shortened(names), fontsize=font)
    axes.invert_yaxis()
    axes.set(xlim=(0, 1), xlabel="F1 on the test rows", title="F1 of each class")
    axes.legend(loc="lower right", frameon=False)
    return svg(figure, "Each class's F1: how well it is both found and predicted only where it is.")


def importance_picture(importance: list[tuple[str, float]]) -> str:
    if not importance:
        return '<p class="note">The model made no split, so no feature gained it anything.</p>'
    names = shortened([name for name, _ in importance])
    bars, left = max(MIN_BARS, 0.24 * len(names)), labels_inches(names, 9)
    figure = Figure(figsize=(WIDTH, bars + BOTTOM + 0.15))
    axes = place(figure, left, BOTTOM, WIDTH - left - 0.3, bars)
    axes.barh(np.arange(len(names)), [gain for _, gain in importance], color=NEW)
    axes.set_yticks(np.arange(len(names)), names)
    axes.invert_yaxis()
    axes.set(xlabel="total gain (loss reduction over all the model's splits on the feature)")
    axes.xaxis.set_major_formatter(EngFormatter(sep=" "))  # 1.2 M, not 1.2 with 1e6 in a corner
    return svg(figure, f"The new model's top {len(names)} features by total gain (xgboost's total_gain).")


# -- the data and the history -------------------------------------------------------------------------


def data_summary(data_report: dict[str, Any]) -> str:
    rows = data_report.get("rows") or {}
    names = {"rows_read": "rows read", "rows_without_target": "dropped: no target value", "used": "used"}
    listed = [(names.get(key, key), f"{value:,}") for key, value in rows.items() if isinstance(value, int)]
    table = "".join(f"<tr><td>{text(name)}</td><td class='number'>{value}</td></tr>" for name, value in listed)
    parts = [f"<table>{table}</table>" if table else '<p class="note">No row counts were recorded.</p>']
    shares = (data_report.get("baseline") or {}).get("class_shares")
    if shares:
        mapping = data_report.get("label_mapping") or {}
        balance = "".join(
            f"<li><span>{text(mapping.get(str(n), n))}</span> <b>{share:.1%}</b></li>" for n, share in enumerate(shares)
        )
        parts.append(f'<h3>Class balance (training rows)</h3><ul class="balance">{balance}</ul>')
    parts.append(columns_table(data_report.get("columns") or {}))
    return "\n".join(parts)


def columns_table(columns: dict[str, Any]) -> str:
    if not columns:
        return '<p class="note">No column was described.</p>'
    lines = []
    for name, described in columns.items():
        cells = (name, described.get("kind", ""), column_note(described))
        lines.append("<tr>" + "".join(f"<td>{text(cell)}</td>" for cell in cells) + "</tr>")
    head = "<tr><th>column</th><th>used as</th><th>missing values and how it was used</th></tr>"
    return f"<h3>Columns</h3><table>{head}{''.join(lines)}</table>"


def column_note(described: dict[str, Any]) -> str:
    kind = described.get("kind")
    if kind == "dropped":
        return f"dropped: {described.get('reason', 'no reason recorded')}"
    missing = sum(int(described.get(key) or 0) for key in ("missing", "infinite", "missing_or_unreadable"))
    notes = [f"{missing:,} missing" if missing else "none missing"]
    if "filled_with_training_median" in described:
        fill = "filled with" if missing else "would be filled with"
        notes.append(f"{fill} the training median {number(described['filled_with_training_median'])}")
    unreadable = (described.get("non_numeric_cells") or {}).get("count")
    if unreadable:
        notes.append(f"{unreadable:,} cells not numbers, treated as missing")
    if kind == "category":
        notes.append(f"{len(described.get('categories') or [])} categories kept; {described.get('other', '')}")
    if kind == "date":
        notes.append("became " + ", ".join(described.get("became") or []))
    return "; ".join(note for note in notes if note)


def history(facts: dict[str, Any]) -> str:
    evaluation, found = facts["evaluation"], facts["history"]
    metric = evaluation["primary_metric"]
    label = LABELS.get(metric, metric)
    if isinstance(found, dict):
        return f'<p class="note">No history: {text(found.get("unavailable"))}.</p>'
    ours = evaluation["metrics"].get(metric)
    bottom = BOTTOM + (0.3 if len(found) + 1 > 20 else 0.0)  # version labels stand upright
    figure = Figure(figsize=(WIDTH, 3.2 + bottom - BOTTOM))
    axes = place(figure, NUMBERS, bottom, WIDTH - NUMBERS - 0.2, 3.2 - BOTTOM - TOP)
    known = [(n, item) for n, item in enumerate(found) if item.get("value") is not None]
    if known:
        axes.plot([n for n, _ in known], [item["value"] for _, item in known], color=BASELINE, linewidth=1)
        for n, item in known:
            approved = item.get("status") == "Approved"
            face = PRODUCTION if approved else "white"
            axes.scatter([n], [item["value"]], s=36, color=face, edgecolors=PRODUCTION, zorder=3)
    if ours is not None:
        axes.scatter([len(found)], [ours], s=90, marker="*", color=NEW, zorder=3, label="this run's new model")
    axes.scatter([], [], s=36, color=PRODUCTION, label="Approved")
    axes.scatter([], [], s=36, color="white", edgecolors=PRODUCTION, label="other status")
    axes.legend(loc="best", frameon=False)
    ticks = [*(f"v{item.get('version', n + 1)}" for n, item in enumerate(found)), "this run"]
    axes.set_xticks(range(len(ticks)), ticks, rotation=90 if len(ticks) > 20 else 0)
    axes.set(
        ylabel=label,
        title=f"{label} of each registered model ({'lower' if metric in LOWER_IS_BETTER else 'higher'} is better)",
    )
    axes.margins(x=0.03, y=0.15)
    caption = (
        f"{len(found)} model(s) registered in the group before this run, oldest first (at most the last 50). Each "
        "point is that model's score on its own run's test rows, so points of runs on different data do not compare; "
        "production's score on this run's rows is in the metrics table."
    )
    return svg(figure, caption) + history_table(found, label)


def history_table(found: list[dict[str, Any]], label: str) -> str:
    if not found:
        return '<p class="note">No model was registered in the group before this run.</p>'
    lines = "".join(
        f"<tr><td>v{text(item.get('version'))}</td><td>{text(item.get('status'))}</td>"
        f"<td>{text(item.get('created', ''))[:19]}</td><td class='number'>{number(item.get('value'))}</td></tr>"
        for item in found
    )
    table = f"<table><tr><th>version</th><th>status</th><th>registered</th><th>{text(label)}</th></tr>{lines}</table>"
    if len(found) <= OPEN_HISTORY_ROWS:
        return table
    return f"<details><summary>The {len(found)} models, one per row</summary>{table}</details>"  # opens without script
