"""The page "Balance on a date, and why": `/accounts/<id>/balance/?on=YYYY-MM-DD` (item 8 of issue 12).

A GET form (every view is a link): the day, by default the last day of the previous month in India. The
page shows the balance at the end of that day, the entries since with their sum, and today's balance,
which the two add up to exactly (transactions/history/balance.py). A bad or future date is a message beside
the field; another customer's account is a 404.
"""

import datetime
import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from portal.local_time import day as day_words
from transactions.history.balance import BalanceMismatch, balance_explain
from transactions.history.cursor import Cursor, CursorError
from transactions.history.selectors import HistoryTooSlow, history_account
from transactions.scheduled.forms import DATE_FORMATS, DateInput

logger = logging.getLogger(__name__)


def last_day_of_previous_month(today: datetime.date) -> datetime.date:
    return today.replace(day=1) - datetime.timedelta(days=1)


class BalanceDateForm(forms.Form):
    on = forms.DateField(
        label=_("Balance at the end of"),
        help_text=_("A day up to today, e.g. 31/03/2026."),
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        error_messages={
            "required": _("Choose a day."),
            "invalid": _("Enter a date, like 31/03/2026."),
        },
    )

    def clean_on(self) -> datetime.date:
        on = self.cleaned_data["on"]
        today = timezone.localdate()
        if on > today:
            raise forms.ValidationError(
                _("Choose today (%(today)s) or an earlier day: the future has no balance yet.")
                % {"today": day_words(today)}
            )
        return on


def _cursor(request: HttpRequest, account_id: int) -> Cursor | None:
    """The page's position, if the link carried one that this portal signed for this account; a forged or
    foreign one is ignored (the list starts from the newest entry)."""
    token = request.GET.get("cursor", "")
    try:
        return Cursor.load(token, account_id) if token else None
    except CursorError:
        return None


@login_required
@require_safe
def balance_page(request: HttpRequest, pk: int) -> HttpResponse:
    account = history_account(user=request.user, account_id=pk)
    if account is None:
        raise Http404
    default = last_day_of_previous_month(timezone.localdate())
    form = BalanceDateForm(request.GET if "on" in request.GET else {"on": default.isoformat()})
    context = {"account": account, "form": form, "explanation": None, "bank_phone": settings.BANK_PHONE}
    if form.is_valid():
        on = form.cleaned_data["on"]
        try:
            explanation = balance_explain(account=account, day=on, cursor=_cursor(request, account.pk))
        except HistoryTooSlow:
            context["too_slow"] = True
            return render(request, "transactions/history_balance.html", context)
        except BalanceMismatch:
            # Entries posted before history order was kept (migration transactions/0013) may disagree: never
            # show a sum that does not add up; staff must look at it.
            logger.exception("balance_explain_mismatch", extra={"account_id": account.pk, "day": str(on)})
            context["mismatch"] = True
            return render(request, "transactions/history_balance.html", context)
        link = {"on": on.isoformat()}
        page = explanation.page
        context |= {
            "explanation": explanation,
            "newer_query": urlencode({**link, "cursor": page.newer.sign(account.pk)}) if page.newer else "",
            "older_query": urlencode({**link, "cursor": page.older.sign(account.pk)}) if page.older else "",
        }
    return render(request, "transactions/history_balance.html", context)
