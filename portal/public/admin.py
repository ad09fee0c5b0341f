from portal.public import rates_admin  # noqa: F401
