"""The demo's FAQ (portal/seeding/faq.py)."""

from portal.public.faq import faq_categories, faq_search
from portal.public.models import FaqCategory, FaqEntry
from portal.seeding.faq import seed_faq


def test_it_seeds_the_demo_faq_once(db):
    assert seed_faq() == (5, 21)
    assert seed_faq() == (0, 0)
    assert FaqEntry.objects.filter(published=False).count() == 1
    topics = faq_categories()
    assert [t.name for t in topics] == [
        "Accounts",
        "Transfers and payees",
        "Cards and security",
        "Interest rates and deposits",
        "Statements",
    ]
    assert sum(len(t.questions) for t in topics) == 20


def test_it_leaves_staff_edits_alone(db):
    seed_faq()
    FaqEntry.objects.filter(slug="dicgc-insurance").update(question="Edited by staff")
    FaqCategory.objects.filter(slug="statements").update(name="Statements and certificates")
    seed_faq()
    assert FaqEntry.objects.get(slug="dicgc-insurance").question == "Edited by staff"
    assert FaqCategory.objects.get(slug="statements").name == "Statements and certificates"


def test_its_answers_are_found_and_drawn(db):
    seed_faq()
    assert faq_search(query="OTP")[0].slug == "otp-never-asked"
    assert "dicgc-insurance" in [hit.slug for hit in faq_search(query="insured")]
    assert "statement-on-whatsapp" not in [hit.slug for hit in faq_search(query="whatsapp statement")]
    answers = {q.slug: q.answer_html for t in faq_categories() for q in t.questions}
    assert 'href="https://www.rbi.org.in/Scripts/IFSCMICRDetails.aspx"' in answers["find-ifsc"]
    assert '<a href="/rates/" rel="noopener noreferrer">interest rates</a>' in answers["savings-interest"]
