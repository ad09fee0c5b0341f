"""An account's history: its entries newest first, filtered, searched, paged by keyset, totalled, exported.

- `filters.py`: `HistoryFilter`, what a customer asked to see (the filter form's fields and the operator
  search both become one), and how it narrows a queryset of entries;
- `cursor.py`: the signed position of a page ("newer"/"older" links), bound to one account;
- `selectors.py`: the reads (every one takes the user or an account already filtered by owner);
- `params.py`: the page's GET parameters (filter form and search) read into a `HistoryFilter`, with a
  message per parameter it cannot read; the page and the export share it;
- `export.py`, `export_views.py`: the rows of the current filter as CSV (streamed) or XLSX.

History order is (created, id), newest first, on the index `entry_account_history`; it agrees with the
order of `balance_after` because a posting is never dated before the newest entry of an account it touches
(transactions/services.py), so the running balance shown beside each row is exact.
"""
