"""`/rates/`: today's sheet (IST) for everyone, the same bytes signed in or not; the "Rates as of" form
as a plain GET and as an HTMX swap; a bad, future or pre-history date a message beside the field."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from tests.public.rates_data import line

D = datetime.date
OLD = D(2025, 12, 1)
CUT = D(2026, 9, 1)
NOW = datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC)  # 11:30 IST, 6 Dec 2026

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sheet():
    line("savings", general="2.70", effective=OLD)
    line(low=7, high=45, general="3.50", effective=OLD)
    line(low=7, high=45, general="3.25", effective=CUT)
    line(low=46, high=179, general="5.50", effective=OLD)
    line(low=444, high=444, general="9.87", effective=OLD, published=False)


@pytest.fixture
def uncached(settings):
    """Every request rendered by the view (no whole-page copies: portal/public/page_cache.py needs Redis)."""
    settings.REDIS_URL = ""


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_it_shows_todays_sheet_to_an_anonymous_visitor(client, sheet):
    response = client.get(reverse("rates"))
    assert response.status_code == 200
    text = _text(response)
    assert "Rates effective as of 6 December 2026" in text
    assert "Last changed on 1 September 2026" in text
    assert "7 days to 45 days" in text and "3.25%" in text and "3.75%" in text
    assert "3.50%" not in text  # the line before the cut
    assert "9.87%" not in text and "444 days" not in text  # a draft
    assert "aged 60 and above" in text
    assert f'href="{reverse("faq")}"' in text
    assert '<caption class="visually-hidden">Fixed deposits' in text
    assert '<th scope="row" class="rate-bucket">7 days to 45 days' in text
    assert 'name="as_of"' in text and 'min="2025-12-01"' in text and 'max="2026-12-06"' in text
    assert 'value="2026-12-06"' in text
    assert "data-print hidden" in text


def test_it_shows_a_signed_in_customer_the_same_bytes(client, sheet, alice, uncached):
    anonymous = client.get(reverse("rates"))
    client.force_login(alice)
    signed_in = client.get(reverse("rates"))
    assert signed_in.status_code == 200
    assert signed_in.content == anonymous.content
    assert alice.email.encode() not in signed_in.content
    assert b"csrfmiddlewaretoken" not in signed_in.content


def test_it_shows_the_sheet_as_of_an_earlier_day(client, sheet):
    response = client.get(reverse("rates"), {"as_of": "2026-08-31"})
    text = _text(response)
    assert "Rates effective as of 31 August 2026" in text
    assert "3.50%" in text and "3.25%" not in text
    assert "Last changed on 1 December 2025" in text
    assert 'value="2026-08-31"' in text
    assert "Back to today's rates" in text
    on_the_day = _text(client.get(reverse("rates"), {"as_of": "2026-09-01"}))
    assert "3.25%" in on_the_day and "3.50%" not in on_the_day


def test_it_reads_a_day_first_date_too(client, sheet):
    text = _text(client.get(reverse("rates"), {"as_of": "31/08/2026"}))
    assert "Rates effective as of 31 August 2026" in text
    assert 'value="2026-08-31"' in text


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("not-a-date", "Enter a date, like 31/03/2026."),
        ("2026-02-30", "Enter a date, like 31/03/2026."),
        ("2026-12-07", "Choose today (6 Dec 2026) or an earlier day"),
        ("2099-01-01", "Choose today (6 Dec 2026) or an earlier day"),
        ("2025-11-30", "Our rate history starts on 1 Dec 2025"),
    ],
)
def test_it_explains_a_date_it_cannot_show_and_shows_todays_sheet(client, sheet, as_of, message):
    response = client.get(reverse("rates"), {"as_of": as_of})
    assert response.status_code == 200
    text = _text(response)
    assert f'<p class="field-error" id="id_as_of_error" role="alert">{message}' in text
    assert 'aria-invalid="true"' in text
    assert 'aria-describedby="id_as_of_helptext id_as_of_error"' in text
    assert "Rates effective as of 6 December 2026" in text and "3.25%" in text


def test_it_shows_a_scheduled_line_only_from_its_day_in_india(client, sheet):
    line(low=7, high=45, general="3.10", effective=D(2026, 12, 7))
    # 11:59 PM IST on 6 Dec is 6:29 PM UTC; midnight IST is 6:30 PM UTC.
    with time_machine.travel(datetime.datetime(2026, 12, 6, 18, 29, 59, tzinfo=datetime.UTC), tick=False):
        text = _text(client.get(reverse("rates")))
        assert "as of 6 December 2026" in text and "3.25%" in text and "3.10%" not in text
    with time_machine.travel(datetime.datetime(2026, 12, 6, 18, 30, tzinfo=datetime.UTC), tick=False):
        text = _text(client.get(reverse("rates")))
        assert "as of 7 December 2026" in text and "3.10%" in text and "3.25%" not in text
        assert "Last changed on 7 December 2026" in text


def test_it_answers_htmx_with_the_sheet_alone(client, sheet):
    response = client.get(reverse("rates"), {"as_of": "2026-08-31"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode().strip()
    status = '<p id="rates-status" hx-swap-oob="innerHTML">Showing the rates as of 31 August 2026.</p>'
    assert body.startswith(status)
    assert body.removeprefix(status).strip().startswith('<div id="rate-sheet"')
    assert "<html" not in body and "<h1>" not in body
    assert "Rates effective as of 31 August 2026" in body
    assert "HX-Request" in response["Vary"]


def test_the_form_swaps_the_sheet_on_submit_only(client, sheet):
    text = _text(client.get(reverse("rates")))
    form = re.search(r"<form class=\"card rates-as-of[^>]*>", text).group(0)
    assert 'method="get"' in form and f'action="{reverse("rates")}"' in form
    assert f'hx-get="{reverse("rates")}"' in form
    assert 'hx-target="#rate-sheet"' in form and 'hx-push-url="true"' in form
    assert 'hx-trigger="submit"' in form  # not on change: it fires at each digit typed in the field
    assert "[" not in form  # no hx-trigger filter expressions: the CSP forbids eval


def test_it_lists_the_days_the_sheet_changed_as_links(client, sheet):
    text = _text(client.get(reverse("rates")))
    for day in ("2026-09-01", "2025-12-01"):
        assert f'<a id="rates-change-{day}" href="/rates/?as_of={day}"' in text


def test_it_says_when_nothing_is_published(client, db):
    response = client.get(reverse("rates"))
    assert response.status_code == 200
    assert "No rates were published for that day." in _text(response)


def test_it_takes_a_constant_handful_of_queries_however_many_lines(
    client, sheet, uncached, django_assert_max_num_queries
):
    for i in range(1, 80):
        for low, high in ((7, 45), (46, 179), (180, 364)):
            line(low=low, high=high, general="4.00", effective=CUT + datetime.timedelta(days=i))
    with django_assert_max_num_queries(2):
        response = client.get(reverse("rates"))
    assert response.status_code == 200
    with django_assert_max_num_queries(2):
        client.get(reverse("rates"), {"as_of": "2026-10-01"})


def test_it_refuses_to_be_posted_to(client, sheet):
    assert client.post(reverse("rates"), {"as_of": "2026-08-31"}).status_code == 405


def test_it_ignores_repeated_or_unknown_parameters(client, sheet):
    response = client.get(reverse("rates") + "?as_of=2026-08-31&as_of=2026-01-01&utm_source=x")
    assert response.status_code == 200
    assert "Rates effective as of 1 January 2026" in _text(response)


@pytest.mark.parametrize(
    ("as_of", "value"),
    [
        ("abc", ""),
        ("2026-02-30", ""),
        ("9" * 5000, ""),
        ("31/02/2026", ""),
        ("2027-05-01", "2027-05-01"),  # a real day, refused: kept, the field marks it out of range
        ("2025-11-30", "2025-11-30"),
    ],
)
def test_it_gives_the_date_field_only_a_day_it_can_show(client, sheet, as_of, value):
    """A date input shows nothing for other text, and Chromium logs a console warning for it."""
    text = _text(client.get(reverse("rates"), {"as_of": as_of}))
    field = re.search(r'<input type="date"[^>]*>', text).group(0)
    if value:
        assert f'value="{value}"' in field
    else:
        assert "value=" not in field


def test_it_describes_itself_to_search_engines(client, sheet):
    text = _text(client.get(reverse("rates")))
    assert '<meta name="description" content="SecureBank interest rates for savings accounts' in text


def test_it_announces_nothing_on_load_and_only_the_alert_for_a_refused_day(client, sheet):
    page = _text(client.get(reverse("rates")))
    assert '<p id="rates-status" class="visually-hidden" role="status"></p>' in page
    body = client.get(reverse("rates"), {"as_of": "2099-01-01"}, HTTP_HX_REQUEST="true").content.decode()
    assert body.startswith('<p id="rates-status" hx-swap-oob="innerHTML"></p>')
    assert 'role="alert">Choose today' in body
    today = client.get(reverse("rates"), {"as_of": "2026-12-06"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Showing the rates as of 6 December 2026, today.</p>" in today
