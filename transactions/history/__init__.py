"""An account's history: its entries newest first, filtered, searched, paged by keyset, totalled, exported.

- `filters.py`: `HistoryFilter`, what a customer asked to see (the filter form's fields and the operator
  search both become one), and how it narrows a queryset of entries;
- `search.py`: the operator search box (`amount>500 category:groceries after:2026-01-01 ...`) parsed into a
  `HistoryFilter`, and a filter written back as search text (`describe`);
- `cursor.py`: the signed position of a page ("newer"/"older" links), bound to one account;
- `selectors.py`: the reads (every one takes the user or an account already filtered by owner);
- `forms.py`: the page's GET parameters (filter form and search) read into a `HistoryFilter`, with a
  message beside each field it cannot read (`read_history_query`); the page and the export share it;
- `views.py`: the page (its table a named partial for HTMX, a filter's totals in their own request) and a
  transaction's detail (a drawer, or a page without JavaScript);
- `export.py`, `export_views.py`: the rows of the current filter as CSV (streamed) or XLSX;
- `balance.py`, `balance_views.py`: the balance at the end of any day, and the entries since that explain
  today's.

History order is (created, id), newest first, on the index `entry_account_history`; it agrees with the
order of `balance_after` because a posting is never dated before the newest entry of an account it touches
(transactions/services.py), so the running balance shown beside each row is exact.
"""
