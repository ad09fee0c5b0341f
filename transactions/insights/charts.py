"""The insights page's charts: plotly.py figures, serialised to JSON once and cached beside the insights.

A warm page reads the insights, their charts and their text (summary.py, formatted) in one cache round trip
(`insights_with_charts`: one `get_many` of both keys), whatever the number of charts; a cold one computes the
insights (selectors.py) and builds the figures (about 10 ms for all of them in a warm process).

Amounts: plotly's d3 number formats group digits in threes and know nothing of lakh and crore, so no figure
lets plotly format money. Values go to plotly as decimal strings of rupees (paise → `Decimal` → `str`, never a
float), and every label a person reads is ours: the axes' `tickvals`/`ticktext`, and each point's
`customdata`, which its `hovertemplate` shows (₹1,23,456.78, portal/money.py).

Colours: each has at least 3:1 contrast against the white card (WCAG 1.4.11, graphical objects) and adjacent
stacked segments are parted by a white line, so that no two colours need telling apart by hue alone; every
figure also has its numbers in a table on the page. Nothing animates (no `transition` in any layout).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import plotly.io as pio
from babel.numbers import format_decimal
from django.core.cache import cache

from accounts.models import Account
from portal.money import LOCALE, PAISE_PER_RUPEE, format_paise, paise_to_decimal
from transactions.insights import selectors, summary
from transactions.insights.periods import Period
from transactions.insights.selectors import Insights, MonthTotal

PIECES_SUFFIX = ":page:v2"
# At most this many categories get a colour of their own in the months' stacked bars; the rest are one bar.
STACKED_CATEGORIES = 6
# Each at least 3:1 against #ffffff (the card): blue, brown-orange, green, purple, crimson, teal, grey.
PALETTE = ("#1f5fa8", "#a4511a", "#2e7d32", "#7b3f8c", "#b0243f", "#00695c", "#5f6670")
INCOME_COLOUR, SPENDING_COLOUR, NET_COLOUR, BALANCE_COLOUR = "#1f5fa8", "#a4511a", "#17202e", "#0b4a6f"
FONT = {"family": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif', "size": 13}
GRID = "#d5dbe3"
# Each chart's height in CSS pixels: its box on the page (portal.css .chart-<name>) has the same, so that the
# page does not move when a chart is drawn into it.
HEIGHTS = {"categories": 340, "months": 360, "cash_flow": 340, "balance": 300}
BARS_MOST = 8


@dataclass(frozen=True)
class Chart:
    """One figure on the page: `figure` is plotly JSON, safe to put in a <script type="application/json">."""

    name: str
    figure: str


def rupees(paise: int) -> str:
    """An amount as plotly gets it: rupees as a decimal string ('1234.5'), exact, never a float."""
    return str(paise_to_decimal(paise).normalize()) if paise else "0"


def tick_label(paise: int) -> str:
    """A tick's label: whole rupees with Indian grouping, '₹1,20,000'; '-₹5,000' below zero."""
    text = format_decimal(abs(paise) // PAISE_PER_RUPEE, format="#,##,##0", locale=LOCALE)
    return f"{'-' if paise < 0 else ''}₹{text}"


def ticks(low: int, high: int, most: int = 5, *, from_zero: bool = True) -> dict:
    """An axis's ticks from `low` to `high` paise: a round step (1, 2 or 5 times a power of ten rupees) that
    gives at most `most` intervals, from the round value at or below the lowest (zero or below, for bars,
    `from_zero`) to the one at or above the top. The axis's range is the ticks' (else plotly picks one)."""
    if from_zero:
        low, high = min(low, 0), max(high, 0)
    span = max(high - low, PAISE_PER_RUPEE)
    step = PAISE_PER_RUPEE
    while True:
        for factor in (1, 2, 5):
            if span <= step * factor * most:
                step *= factor
                first, last = (low // step) * step, -(-high // step) * step  # floor and ceiling
                values = list(range(first, last + 1, step))
                return {
                    "tickvals": [rupees(v) for v in values],
                    "ticktext": [tick_label(v) for v in values],
                    "range": [rupees(first), rupees(last)],
                    "tickmode": "array",
                    "type": "linear",
                    "fixedrange": True,
                    "gridcolor": GRID,
                    "zerolinecolor": "#5f6670",
                }
        step *= 10


def _layout(**extra) -> dict:
    layout = {
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 80, "r": 16, "t": 8, "b": 48},
        "hoverlabel": {"font": FONT, "bgcolor": "#ffffff", "bordercolor": "#17202e"},
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "font": FONT},
        "autosize": True,
        "dragmode": False,
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def _trace(kind: str, **attributes) -> dict:
    """A trace as plotly's figure schema has it (`type` and its attributes)."""
    return {"type": kind, **attributes}


def _figure(*, data: list[dict], layout: dict) -> dict:
    """A figure in plotly's JSON schema. Built as plain data and serialised by plotly.io, without
    plotly.graph_objects' validation on every request (it deep-copies each point: 2 to 4 ms a figure, most
    of a cold page); tests/insights/test_views.py validates every figure the page makes through
    `plotly.graph_objects.Figure`, so a key plotly does not know fails there."""
    return {"data": data, "layout": layout}


def _json(figure: dict) -> str:
    """The figure's JSON with <, > and & escaped (as Django's json_script does), for a <script> element."""
    text = pio.to_json(figure, validate=False, pretty=False, engine="json")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def category_colours(found: Insights) -> dict[str, str]:
    spent = [c for c in found.categories if c.spent]
    return {c.slug: PALETTE[i % len(PALETTE)] for i, c in enumerate(spent[:STACKED_CATEGORIES])}


def categories_figure(found: Insights, link: Callable[[str], str]) -> dict | None:
    """Spending by category, largest on top (horizontal bars: long names stay readable on a phone); past
    BARS_MOST categories the rest are one bar (the table lists each)."""
    spent = [c for c in found.categories if c.spent]
    if not spent:
        return None
    colours = category_colours(found)
    bars = [(c.name, c.spent, colours.get(c.slug, PALETTE[-1]), link(c.slug), c.name) for c in spent]
    if len(bars) > BARS_MOST:
        folded = spent[BARS_MOST - 1 :]
        rest = sum(c.spent for c in folded)
        # The hover names what the bar holds: the table beside it lists those categories one by one.
        said = f"Everything else ({', '.join(c.name for c in folded)})"
        bars = [*bars[: BARS_MOST - 1], ("Everything else", rest, PALETTE[-1], "", said)]
    bar = _trace(
        "bar",
        orientation="h",
        y=[name for name, *_ in bars],
        x=[rupees(paise) for _, paise, *_ in bars],
        # The name rides in customdata, not %{y}: the axis's ticksuffix (a gap before the bars) would put a
        # space before the hover's colon ("Rent : ₹…").
        customdata=[[format_paise(paise), link, said] for _, paise, _, link, said in bars],
        hovertemplate="%{customdata[2]}: %{customdata[0]}<extra></extra>",
        marker={"color": [colour for _, _, colour, *_ in bars]},
        name="Spent",
    )
    return _figure(
        data=[bar],
        layout=_layout(
            height=HEIGHTS["categories"],
            xaxis=ticks(0, max(paise for _, paise, *_ in bars), most=4),
            yaxis={"autorange": "reversed", "fixedrange": True, "automargin": True, "ticksuffix": " "},
            showlegend=False,
            bargap=0.3,
            margin={"l": 8, "r": 24, "t": 8, "b": 40},
        ),
    )


def _month_labels(months: list[datetime.date]) -> list[str]:
    """Short month names, the year under the first and under each January: twelve fit a phone unturned."""
    return [f"{m:%b}<br>{m:%Y}" if i == 0 or m.month == 1 else f"{m:%b}" for i, m in enumerate(months)]


def _month_axis() -> dict:
    return {"fixedrange": True, "type": "category", "tickangle": 0, "tickfont": {**FONT, "size": 11}}


def months_figure(found: Insights) -> dict | None:
    """Spending by month, stacked by category (the largest few on their own, the rest together)."""
    if len(found.months) < 2 or not found.spending:
        return None
    colours = category_colours(found)
    names = {c.slug: c.name for c in found.categories}
    months = [m.month for m in found.months]
    labels = _month_labels(months)
    traces = []
    for slug, colour in colours.items():
        values = [m.by_category.get(slug, 0) for m in found.months]
        traces.append(_stack(names[slug], labels, values, colour, months))
    rest = [sum(v for s, v in m.by_category.items() if s not in colours) for m in found.months]
    if any(rest):
        traces.append(_stack("Everything else", labels, rest, PALETTE[-1], months))
    top = max(m.spending for m in found.months)
    return _figure(
        data=traces,
        layout=_layout(
            height=HEIGHTS["months"],
            barmode="stack",
            bargap=0.35,
            yaxis=ticks(0, top, most=4),
            xaxis=_month_axis(),
            legend={"orientation": "h", "y": -0.2, "x": 0, "font": FONT, "traceorder": "normal"},
            margin={"l": 80, "r": 16, "t": 8, "b": 96},
        ),
    )


def _stack(name: str, labels: list[str], values: list[int], colour: str, months: list[datetime.date]) -> dict:
    return _trace(
        "bar",
        name=name,
        x=labels,
        y=[rupees(v) for v in values],
        customdata=[[format_paise(v), f"{m:%B %Y}"] for v, m in zip(values, months, strict=True)],
        hovertemplate=f"{name}, %{{customdata[1]}}: %{{customdata[0]}}<extra></extra>",
        marker={"color": colour, "line": {"color": "#ffffff", "width": 1}},
    )


def _monthly(
    kind: str, name: str, labels: list[str], found: Insights, value: Callable[[MonthTotal], int], **style
) -> dict:
    """One series of the cash-flow chart: a value of each month, its hover naming the series and the month."""
    return _trace(
        kind,
        name=name,
        x=labels,
        y=[rupees(value(m)) for m in found.months],
        customdata=[[format_paise(value(m)), f"{m.month:%B %Y}"] for m in found.months],
        hovertemplate=f"{name}, %{{customdata[1]}}: %{{customdata[0]}}<extra></extra>",
        **style,
    )


def cash_flow_figure(found: Insights) -> dict | None:
    """Income and spending side by side each month, and what was left (net) as a line with markers."""
    if not (found.income or found.spending):
        return None
    labels = _month_labels([m.month for m in found.months])
    income = _monthly("bar", "Income", labels, found, lambda m: m.income, marker={"color": INCOME_COLOUR})
    spending = _monthly(
        "bar",
        "Spending",
        labels,
        found,
        lambda m: m.spending,
        marker={
            "color": SPENDING_COLOUR,
            "pattern": {"shape": "/", "fgcolor": "#ffffff", "solidity": 0.15, "fillmode": "overlay"},
        },
    )
    net = _monthly(
        "scatter",
        "Net savings",
        labels,
        found,
        lambda m: m.net,
        mode="lines+markers",
        line={"color": NET_COLOUR, "width": 2},
        marker={"symbol": "diamond", "size": 9, "color": NET_COLOUR},
    )
    low = min([0, *(m.net for m in found.months)])
    high = max([0, *(max(m.income, m.spending) for m in found.months)])
    return _figure(
        data=[income, spending, net],
        layout=_layout(
            height=HEIGHTS["cash_flow"],
            barmode="group",
            bargap=0.3,
            yaxis=ticks(low, high, most=4),
            xaxis=_month_axis(),
            margin={"l": 80, "r": 16, "t": 8, "b": 72},
        ),
    )


def balance_figure(found: Insights) -> dict | None:
    """The closing balance of each day (the selected accounts together)."""
    if not found.balance:
        return None
    values = [p.balance for p in found.balance]
    line = _trace(
        "scatter",
        name="Closing balance",
        x=[p.day.isoformat() for p in found.balance],
        y=[rupees(v) for v in values],
        customdata=[[format_paise(v)] for v in values],
        hovertemplate="%{x|%-d %b %Y}: %{customdata[0]}<extra></extra>",
        mode="lines+markers" if len(values) == 1 else "lines",
        line={"color": BALANCE_COLOUR, "width": 2, "shape": "hv"},
    )
    return _figure(
        data=[line],
        layout=_layout(
            height=HEIGHTS["balance"],
            yaxis=ticks(min(values), max(values), most=4, from_zero=False),
            xaxis=_date_axis(len(values)),
            showlegend=False,
        ),
    )


DAY_MS = 24 * 60 * 60 * 1000


def _date_axis(days: int) -> dict:
    """Days on a date axis: day and month up to a few months, month and year beyond; at least a day apart
    (plotly would otherwise tick every twelve hours of a short period)."""
    axis = {
        "type": "date",
        "fixedrange": True,
        "gridcolor": GRID,
        "ticklabelstandoff": 6,  # clear of the amount axis's lowest label in the corner
        "tickformatstops": [
            {"dtickrange": [None, 28 * DAY_MS], "value": "%-d %b"},
            {"dtickrange": [28 * DAY_MS, None], "value": "%b %Y"},
        ],
    }
    if days <= 8:
        axis["dtick"] = DAY_MS
    return axis


def build(found: Insights, link: Callable[[str], str]) -> list[Chart]:
    """The page's charts, in page order; a chart with nothing to show is left out."""
    made = [
        ("categories", categories_figure(found, link)),
        ("months", months_figure(found)),
        ("cash_flow", cash_flow_figure(found)),
        ("balance", balance_figure(found)),
    ]
    return [Chart(name, _json(figure)) for name, figure in made if figure is not None]


@dataclass(frozen=True)
class Pieces:
    """What the page shows of one set of insights, built once: the charts and the formatted text."""

    charts: dict[str, Chart]
    shown: summary.Shown


def insights_with_charts(
    *, accounts: list[Account], period: Period, link: Callable[[str], str], key: str | None = None
) -> tuple[Insights, Pieces]:
    """The insights of these accounts (the caller's own) over `period`, their charts and their text.
    `link(slug)`: where a click on a category's bar goes; it must follow from the accounts and the period
    alone (it is cached with them). Warm, one cache round trip (`get_many`) reads both. `key`: the insights'
    key if the caller has it (`selectors.insights_key`, which catches the sums up)."""
    key = key or selectors.insights_key(accounts=accounts, period=period)
    pieces_key = key + PIECES_SUFFIX
    found = cache.get_many([key, pieces_key])
    result: Insights | None = found.get(key)
    if result is None:
        result = selectors.compute(account_ids=[a.pk for a in accounts], period=period)
        cache.set(key, result, selectors.CACHE_SECONDS)
    pieces: Pieces | None = found.get(pieces_key)
    if pieces is None:
        charts = {c.name: c for c in build(result, link)}
        pieces = Pieces(charts, summary.shown(result, list(category_colours(result))))
        cache.set(pieces_key, pieces, selectors.CACHE_SECONDS)
    return result, pieces
