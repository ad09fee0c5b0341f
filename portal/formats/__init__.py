"""Django's date and time formats for the portal's locale (settings.FORMAT_MODULE_PATH): Django ships none for
en-IN, and its "en" fallback writes "Dec. 1, 2026, 8:53 p.m.", the American way."""
