"""The insights in words, and the readable subsets of their tables: what a screen reader, a reader without
JavaScript and anyone skimming gets before (or instead of) the charts. Every sentence is built from the same
`Insights` as the charts, in integer paise; amounts are formatted by portal/money.py."""

import itertools
from dataclasses import dataclass

from portal.local_time import day as day_label
from portal.money import format_paise
from transactions.insights import periods
from transactions.insights.selectors import BalancePoint, CategoryTotal, Insights

# Up to this many days the balance table shows each week's closing balance; beyond, each month's.
WEEKLY_UP_TO_DAYS = 62


def share(part: int, whole: int) -> int:
    """`part` as a whole percentage of `whole`, rounded half up (integers only)."""
    return (part * 200 + whole) // (whole * 2) if whole else 0


def change_words(percent: int | None, against: str) -> str:
    if percent is None:
        return f"nothing was spent in {against}"
    if percent == 0:
        return f"about the same as {against}"
    return f"{abs(percent)}% {'more' if percent > 0 else 'less'} than {against}"


def signed_percent(percent: int) -> str:
    return f"{'+' if percent > 0 else '−' if percent < 0 else '±'}{abs(percent)}%"


def when(period: periods.Period) -> str:
    """The period as a sentence says it: 'so far in November', 'in October 2026', 'from … to …'."""
    if period.key == periods.THIS_MONTH:
        return f"so far in {period.start:%B}"
    if period.key == periods.LAST_MONTH:
        return f"in {period.start:%B %Y}"
    return f"from {day_label(period.start)} to {day_label(period.end)}"


def biggest_change(found: Insights) -> CategoryTotal | None:
    """The category whose spending moved most in rupees against the previous period (both non-zero)."""
    moved = [c for c in found.categories if c.spent and c.previous_spent]
    if not moved:
        return None
    top = max(moved, key=lambda c: (abs(c.spent - c.previous_spent), c.name))
    return top if top.change_percent else None


def headline(found: Insights) -> str:
    """'You spent ₹12,340.00 so far in November, 8% less than the same days last month; Dining +23%.'"""
    if not found.has_activity:
        return f"No money came in or went out {when(found.period)}."
    text = f"You spent {format_paise(found.spending)} {when(found.period)}"
    if found.spending or found.previous_spending:
        text += f", {change_words(found.spending_change_percent, found.period.comparison_label)}"
    top = biggest_change(found)
    if top is not None:
        text += f"; {top.name} {signed_percent(top.change_percent)}"
    return text + "."


def cash_flow_words(found: Insights) -> str:
    text = f"Money in: {format_paise(found.income)}. Money out: {format_paise(found.spending)}. "
    if found.net >= 0:
        text += f"Net savings: {format_paise(found.net)}."
    else:
        text += f"You spent {format_paise(-found.net)} more than came in."
    if found.moved_between_own:
        text += f" {format_paise(found.moved_between_own)} moved between your own accounts (not counted)."
    return text


def categories_words(found: Insights) -> str:
    spent = [c for c in found.categories if c.spent]
    if not spent:
        return f"Nothing was spent {when(found.period)}."
    first = spent[0]
    text = (
        f"Most went on {first.name}: {format_paise(first.spent)}, "
        f"{share(first.spent, found.spending)}% of your spending"
    )
    rest = [f"{c.name} ({format_paise(c.spent)})" for c in spent[1:3]]
    if rest:
        text += f", then {' and '.join(rest)}"
    return text + "."


def months_words(found: Insights) -> str:
    spending = [m for m in found.months if m.spending]
    if not spending:
        return "Nothing was spent in these months."
    high = max(spending, key=lambda m: (m.spending, m.month))
    low = min(found.months, key=lambda m: (m.spending, m.month))
    return (
        f"Spending was highest in {high.month:%B %Y} ({format_paise(high.spending)}) and lowest in "
        f"{low.month:%B %Y} ({format_paise(low.spending)})."
    )


def months_saved_words(found: Insights) -> str:
    """How many of the period's months saved money; nothing for a single month, whose net the cash-flow
    sentence already says ("in 0 of 1 month" read as a riddle)."""
    saved, months = sum(1 for m in found.months if m.net > 0), len(found.months)
    if months < 2:
        return ""
    return f"More came in than went out in {saved} of {months} months."


def balance_words(found: Insights) -> str:
    points = found.balance
    if not points:
        return "No balance to show for these dates."
    first, last = points[0], points[-1]
    low = min(points, key=lambda p: (p.balance, p.day))
    high = max(points, key=lambda p: (p.balance, p.day))
    text = (
        f"Your balance went from {format_paise(first.balance)} on {day_label(first.day)} to "
        f"{format_paise(last.balance)} on {day_label(last.day)}."
    )
    if low.balance != high.balance:
        text += (
            f" Lowest: {format_paise(low.balance)} on {day_label(low.day)}; highest: "
            f"{format_paise(high.balance)} on {day_label(high.day)}."
        )
    return text


@dataclass(frozen=True)
class MonthsTable:
    columns: list[str]  # the categories of the stacked chart, then "Everything else" if any
    rows: list[tuple[str, list[str], str]]  # month, the amount per column, the month's spending


def months_table(found: Insights, stacked: list[str]) -> MonthsTable:
    """The stacked months chart as a table: one column per category with a colour of its own (`stacked`,
    slugs, charts.category_colours), the rest together."""
    names = {c.slug: c.name for c in found.categories}
    rows, rest_any = [], False
    for m in found.months:
        values = [m.by_category.get(slug, 0) for slug in stacked]
        rest = m.spending - sum(values)
        rest_any = rest_any or bool(rest)
        rows.append((m.month, [*values, rest], m.spending))
    columns = [names[slug] for slug in stacked]
    if rest_any:
        columns.append("Everything else")
    return MonthsTable(
        columns,
        [
            (f"{month:%B %Y}", [format_paise(v) for v in values[: len(columns)]], format_paise(total))
            for month, values, total in rows
        ],
    )


def balance_rows(found: Insights) -> list[tuple[str, str, str]]:
    """A readable subset of the daily balances: the opening day, then each week's (short periods) or each
    month's (long ones) closing balance, and the last day shown: (when, day, balance)."""
    points = found.balance
    if not points:
        return []
    chosen: list[tuple[str, BalancePoint]] = [("Start", points[0])]
    if len(points) <= WEEKLY_UP_TO_DAYS:
        chosen += [("Week to", p) for p in points[7::7]]
    else:
        for p, after in itertools.pairwise(points):
            if after.day.month != p.day.month:
                chosen.append((f"End of {p.day:%B %Y}", p))
    if chosen[-1][1] is not points[-1]:
        chosen.append(("Last day", points[-1]))
    return [(label, day_label(p.day), format_paise(p.balance)) for label, p in chosen]


def change_text(category: CategoryTotal) -> str:
    percent = category.change_percent
    return "new" if percent is None else "0%" if percent == 0 else signed_percent(percent)


@dataclass(frozen=True)
class CategoryRow:
    slug: str
    name: str
    spent: str
    before: str
    change: str  # "+23%", "−19%", "0%" or "new"


@dataclass(frozen=True)
class Shown:
    """Everything the page writes of the insights, formatted: built with the charts when the insights are
    computed and cached beside them, so that a warm page formats no amount (Babel's en_IN formatting is
    about 70 µs an amount, and a year's tables hold about two hundred)."""

    text: dict[str, str]
    figures: dict[str, str]  # income, spending, net (without sign), previous, moved
    categories: list[CategoryRow]
    merchants: list[tuple[str, str, int]]
    months: list[tuple[str, str, str, str]]  # month, income, spending, net (signed)
    months_by_category: MonthsTable
    balance: list[tuple[str, str, str]]


def shown(found: Insights, stacked: list[str]) -> Shown:
    return Shown(
        text=describe(found),
        figures={
            "income": format_paise(found.income),
            "spending": format_paise(found.spending),
            "net": format_paise(abs(found.net)),
            "previous": format_paise(found.previous_spending),
            "moved": format_paise(found.moved_between_own),
        },
        categories=[
            CategoryRow(c.slug, c.name, format_paise(c.spent), format_paise(c.previous_spent), change_text(c))
            for c in found.categories
            if c.spent
        ],
        merchants=[(m.name, format_paise(m.spent), m.entries) for m in found.merchants],
        months=[
            (
                f"{m.month:%B %Y}",
                format_paise(m.income),
                format_paise(m.spending),
                ("+" if m.net > 0 else "") + format_paise(m.net),
            )
            for m in found.months
        ],
        months_by_category=months_table(found, stacked),
        balance=balance_rows(found),
    )


def describe(found: Insights) -> dict[str, str]:
    """Every sentence the page shows, by place."""
    return {
        "headline": headline(found),
        "cash_flow": cash_flow_words(found),
        "categories": categories_words(found),
        "months": months_words(found),
        "months_saved": months_saved_words(found),
        "balance": balance_words(found),
    }
