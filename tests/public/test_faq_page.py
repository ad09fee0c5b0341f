"""The FAQ page /faq/: topics and questions in the staff's order, deep links, the search as a page and as
an HTMX swap, hostile searches, and the same page for everyone."""

import re

import pytest
from django.urls import reverse

from portal.public.faq import faq_categories
from portal.public.models import FaqEntry
from tests.public.faq_data import make_faq

URL = "/faq/"


@pytest.fixture
def entries(db):
    return make_faq()


def _page(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_is_at_its_name():
    assert reverse("faq") == URL


def test_it_groups_the_published_questions_by_topic_in_order(entries, django_assert_num_queries):
    with django_assert_num_queries(1):
        topics = faq_categories()
    assert [(t.name, [q.slug for q in t.questions]) for t in topics] == [
        ("Accounts", ["minimum-balance", "open-account"]),
        ("Transfers and payees", ["neft-cost", "imps-fees", "cooling-off", "cancel-scheduled"]),
    ]


def test_it_shows_the_topics_and_questions_in_order(client, entries):
    html = _page(client)
    questions = re.findall(r"<summary>(.*?)</summary>", html)
    assert questions == [
        "What is the minimum balance?",
        "How do I open an account?",
        "What does an NEFT transfer cost?",
        "Are there charges for IMPS?",
        "Why must I wait before paying someone?",
        "Can I cancel a scheduled transfer?",
    ]
    assert re.findall(r'<h2 id="topic-([\w-]+)">', html) == ["accounts", "transfers"]
    assert re.findall(r'<a href="#topic-([\w-]+)">', html) == ["accounts", "transfers"]
    assert html.count("<h1>") == 1


def test_it_never_shows_a_draft_or_a_topic_of_drafts(client, entries):
    html = _page(client)
    assert "Draft" not in html and "secret-draft" not in html
    assert "Lockers" not in html and "locker" not in html
    assert "secret-draft" not in _page(client, q="charges")
    assert "secret-draft" not in _page(client, q="NEFT")


def test_it_gives_each_question_a_deep_link(client, entries):
    html = _page(client)
    for slug in ("minimum-balance", "open-account", "neft-cost", "imps-fees", "cooling-off"):
        assert f'<span class="faq-anchor" id="{slug}"></span>' in html
        assert f'<a href="#{slug}" aria-label="Link to this question: ' in html
    assert re.search(r'<details class="faq-item">\s*<summary>What is the minimum balance\?</summary>', html)


def test_it_draws_answers_from_markdown(client, entries):
    html = _page(client)
    assert "<strong>₹10,000</strong>" in html
    assert '<a href="/rates/" rel="noopener noreferrer">the rates</a>' in html


def test_it_neutralises_a_script_in_an_answer(client, entries):
    FaqEntry.objects.filter(slug="open-account").update(
        answer="<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    )
    html = _page(client)
    assert "<script>alert" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_shows_the_matching_answers(client, entries):
    html = _page(client, q="charges")
    assert "2 answers match “charges”." in html
    assert '<a href="/faq/#imps-fees">Are there <mark>charges</mark> for IMPS?</a>' in html
    assert 'href="/faq/#neft-cost"' in html
    assert "<details" not in html  # the results, not the whole FAQ
    assert 'value="charges"' in html


def test_it_says_when_nothing_matches(client, entries):
    html = _page(client, q="mortgage")
    assert "No answers match “mortgage”." in html
    assert "browse all the questions" in html


def test_an_empty_search_shows_the_whole_faq(client, entries):
    html = _page(client, q="   ")
    assert html.count("<details") == 6
    assert 'value=""' in html


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        '"unbalanced quote',
        "' OR 1=1 --",
        "%_\\",
        "\x00",
        "fees\x00<b>",
        '"><img src=x onerror=alert(1)>',
        "{{ 7*7 }} {% debug %}",
        "𝒩𝐸𝐹𝒯 ಠ_ಠ नेफ्ट",
    ],
)
def test_it_answers_a_hostile_search_safely(client, entries, query):
    html = _page(client, q=query)
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    assert "\x00" not in html
    assert 'id="faq-q"' in html
    if "<script>" in query:
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
        assert "No answers match “&lt;script&gt;alert(1)&lt;/script&gt;”." in html
    if query.startswith("{{"):
        assert "{{ 7*7 }}" in html and "49" not in html


def test_it_cuts_a_very_long_search_and_says_so(client, entries):
    html = _page(client, q="transfer " * 600)
    assert "Your search was cut to its first 200 characters." in html
    value = re.search(r'id="faq-q" value="([^"]*)"', html).group(1)
    assert len(value) <= 200 and value.startswith("transfer transfer")


def test_it_sends_htmx_only_the_results_and_their_status(client, entries):
    response = client.get(URL, {"q": "payee"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<h1>" not in html and 'id="faq-q"' not in html
    assert html.startswith('<p id="faq-status" hx-swap-oob="innerHTML">1 answer matches “payee”.</p>')
    assert 'href="/faq/#cooling-off"' in html
    assert "HX-Request" in response["Vary"]


def test_it_sends_htmx_the_whole_faq_for_an_empty_search(client, entries):
    html = client.get(URL, HTTP_HX_REQUEST="true").content.decode()
    assert "Showing all the questions." in html and html.count("<details") == 6
    assert "<h1>" not in html


def test_it_is_the_same_page_for_a_signed_in_customer(client, entries, alice):
    anonymous = _page(client, q="charges")
    client.force_login(alice)
    assert _page(client, q="charges") == anonymous
    assert alice.full_name not in _page(client)


def test_it_only_answers_get_and_head(client, entries):
    assert client.post(URL, {"q": "x"}).status_code == 405
    assert client.head(URL).status_code == 200
