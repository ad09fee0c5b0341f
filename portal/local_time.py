"""Times of day as customers read them, the way the emails write them (templates/emails/*.txt:
`{{ at|date:"g:i A" }} IST`): "10:54 PM IST". The portal's TIME_ZONE is Asia/Kolkata."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format, time_format

TIME_OF_DAY = "g:i A"
DATE = "j M Y"  # "1 Jan 2027": the day without a leading zero, everywhere (never "01 Jan 2027")
DATE_AND_TIME = "j M Y, g:i A"


def day(value: date) -> str:
    """A date as the pages write it: "1 Jan 2027"."""
    return date_format(value, DATE)


def time_of_day(moment: datetime) -> str:
    """`moment` in the portal's time zone, to the minute: "10:54 PM IST"."""
    return f"{time_format(timezone.localtime(moment), TIME_OF_DAY)} IST"


def date_and_time(moment: datetime) -> str:
    """`moment` in the portal's time zone, with its date, for a receipt: "1 Dec 2026, 8:53 PM IST"."""
    return f"{date_format(timezone.localtime(moment), DATE_AND_TIME)} IST"


def _minute_up(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    floor = local.replace(second=0, microsecond=0)
    return floor if floor == local else floor + timedelta(minutes=1)


def time_of_day_from(moment: datetime) -> str:
    """When something may be tried again, to the minute rounded up ("from 8:54 PM IST" must not be refused
    at 8:53:40): `moment` 8:53:20 PM is "8:54 PM IST"."""
    return time_of_day(_minute_up(moment))


def date_and_time_from(moment: datetime) -> str:
    """`date_and_time` rounded up to the minute, for when something becomes possible (a new payee can
    receive money): `moment` 6 Dec 2026, 5:29:20 PM is "6 Dec 2026, 5:30 PM IST"."""
    return date_and_time(_minute_up(moment))
