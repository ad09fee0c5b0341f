"""The operator search box of the history page: one line of text parsed into a `HistoryFilter`.

(A first version: free words only. The grammar of operators comes next.)
"""

from transactions.history.filters import HistoryFilter

MAX_LENGTH = 200


class SearchError(ValueError):
    """The search text does not parse; the message says where and why, fit to show the customer."""


def parse(text: str) -> HistoryFilter:
    if len(text) > MAX_LENGTH:
        raise SearchError(f"Keep the search under {MAX_LENGTH} characters.")
    return HistoryFilter(words=tuple(text.split()))
