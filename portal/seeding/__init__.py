"""Demo and scale data, kept apart from the bank: a Django app of its own (`portal.seeding`), installed only
when the setting `SEEDING_ENABLED` is on (default: `DEBUG`; `make test` and `make bench` turn it on), so
that production leaves the loaders and their commands out.

- `demo.py`: the demo plan (alice, bob, charlie and a year of banking); `demo_load.py` posts it through the
  ledger services (`manage.py seed_demo`).
- `scale.py`: the scale generator (customers and millions of balanced entries as COPY data);
  `copy_load.py`: the COPY loader that writes it into PostgreSQL (`manage.py seed_scale`).
- `history.py`: the loaders' one way to post with a past time through the ledger's `_post`.
- `guards.py` and `models.py`: which database a loader may touch. Every user a loader makes is marked
  (`SeededUser`); a database holding customers no loader made is not theirs.

This module imports no Django: the Makefile and the bench read the demo password from a bare Python.
"""

DEMO_PASSWORD = "Masala-Chai-Monsoon-42"  # noqa: S105 (published on purpose: `make run` prints it)
STAFF_EMAIL = "staff@example.com"
