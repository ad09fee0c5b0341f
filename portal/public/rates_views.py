"""`/rates/`: the interest-rate sheet of today (IST), or of an earlier day (`?as_of=YYYY-MM-DD`), the same
for every visitor (portal/public/views.py `render_public`); the page cache keeps it whole
(portal/public/pages.py). A bad, future or pre-history date is a message beside the field, with today's
sheet under it (status 200), marked `no-store` so that no copy is kept: every ISO date up to 9999-12-31 is a
distinct URL, and a copy of each would let anyone fill Redis (which also holds the sessions)."""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from portal.public.rates import SENIOR_AGE, rate_sheet, sheet_dates
from portal.public.rates_forms import RatesAsOfForm
from portal.public.views import render_public


@require_safe
def rates(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    changes = sheet_dates(until=today)
    form = RatesAsOfForm(request.GET or None, today=today, first=changes[0] if changes else None)
    as_of = (form.cleaned_data["as_of"] if form.is_valid() else None) or today
    context = {
        "page_name": "rates",
        "partial": "rates-swap",  # the sheet, and its status line out of band
        "form": form,
        "sheet": rate_sheet(as_of=as_of),
        "today": today,
        "is_today": as_of == today,
        "changes": changes[::-1],  # newest first
        "senior_age": SENIOR_AGE,
    }
    response = render_public(request, "public/rates.html", context)
    if form.is_bound and not form.is_valid():
        response["Cache-Control"] = "no-store"
    return response
