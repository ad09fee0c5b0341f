"""en-IN, as Indian banks and newspapers write it: "1 Dec 2026, 8:53 PM" (day first, 12-hour clock).

Used wherever Django formats a date without a format of its own: the admin's lists and forms, `|date` with
no argument. The customer pages give their formats explicitly in the same style. Input accepts ISO first
(the admin's date widgets and the filters' GET parameters write it), then day-first; never month-first.
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "j M Y, g:i A"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y g:i A"
FIRST_DAY_OF_WEEK = 1  # Monday

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-12-01'
    "%d/%m/%Y",  # '01/12/2026'
    "%d-%m-%Y",  # '01-12-2026'
    "%d %b %Y",  # '1 Dec 2026'
]
TIME_INPUT_FORMATS = [
    "%H:%M:%S",  # '14:30:59'
    "%H:%M:%S.%f",  # '14:30:59.000200'
    "%H:%M",  # '14:30'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # '2026-12-01 14:30:59'
    "%Y-%m-%d %H:%M:%S.%f",  # '2026-12-01 14:30:59.000200'
    "%Y-%m-%d %H:%M",  # '2026-12-01 14:30'
    "%d/%m/%Y %H:%M:%S",  # '01/12/2026 14:30:59'
    "%d/%m/%Y %H:%M",  # '01/12/2026 14:30'
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = (3, 2, 0)  # 1,23,45,678: the first group of three, then twos
