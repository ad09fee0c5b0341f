"""Staff edit the FAQ in admin (portal/public/faq_admin.py): every add, change and delete is an audit event,
the public page shows an edit on the next request, a topic that holds questions cannot be deleted, and the
answer's preview is the sanitised one."""

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from portal.public.models import FaqCategory, FaqEntry
from tests.factories import UserFactory
from tests.public.faq_data import make_faq
from tests.twofactor import force_login_verified


@pytest.fixture
def entries(db):
    return make_faq()


@pytest.fixture
def staff_client(client, db):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    force_login_verified(client, staff)
    return client


def _form(entry: FaqEntry, **changes) -> dict:
    data = {
        "category": entry.category_id,
        "question": entry.question,
        "slug": entry.slug,
        "answer": entry.answer,
        "position": entry.position,
        "published": "on" if entry.published else "",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


def test_it_audits_adding_an_entry(staff_client, entries):
    category = entries["imps-fees"].category
    response = staff_client.post(
        reverse("admin:public_faqentry_add"),
        {
            "category": category.pk,
            "question": "Is UPI free?",
            "slug": "upi-free",
            "answer": "Yes.",
            "position": 9,
            "published": "on",
        },
    )
    assert response.status_code == 302, response.content
    entry = FaqEntry.objects.get(slug="upi-free")
    event = AuditEvent.objects.get(action="admin.add")
    assert (event.object_type, event.object_id) == ("public.faqentry", str(entry.pk))
    assert event.actor_email == "staff@example.com"
    assert event.after["question"] == "Is UPI free?" and event.after["category"] == category.pk


def test_it_audits_a_change_with_before_and_after(staff_client, entries):
    entry = entries["imps-fees"]
    url = reverse("admin:public_faqentry_change", args=[entry.pk])
    response = staff_client.post(url, _form(entry, question="What does IMPS cost?", published=""))
    assert response.status_code == 302, response.content
    event = AuditEvent.objects.get(action="admin.change")
    assert event.object_id == str(entry.pk)
    assert event.before == {"question": "Are there charges for IMPS?", "published": True}
    assert event.after == {"question": "What does IMPS cost?", "published": False}


def test_it_audits_a_deletion(staff_client, entries):
    entry = entries["cancel-scheduled"]
    response = staff_client.post(reverse("admin:public_faqentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not FaqEntry.objects.filter(pk=entry.pk).exists()
    event = AuditEvent.objects.get(action="admin.delete")
    assert event.object_id == str(entry.pk)
    assert event.before["slug"] == "cancel-scheduled"


def test_it_audits_topic_edits(staff_client, db):
    response = staff_client.post(
        reverse("admin:public_faqcategory_add"), {"name": "Loans", "slug": "loans", "position": 60}
    )
    assert response.status_code == 302
    category = FaqCategory.objects.get(slug="loans")
    staff_client.post(
        reverse("admin:public_faqcategory_change", args=[category.pk]),
        {"name": "Loans and EMIs", "slug": "loans", "position": 60},
    )
    assert [
        e.action for e in AuditEvent.objects.filter(object_type="public.faqcategory").order_by("seq")
    ] == [
        "admin.add",
        "admin.change",
    ]


def test_it_refuses_to_delete_a_topic_that_holds_questions(staff_client, entries):
    category = entries["imps-fees"].category
    url = reverse("admin:public_faqcategory_delete", args=[category.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert "protected" in page.content.decode()
    response = staff_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert FaqCategory.objects.filter(pk=category.pk).exists()
    assert not AuditEvent.objects.filter(action="admin.delete").exists()
    # Nor by the bulk action.
    response = staff_client.post(
        reverse("admin:public_faqcategory_changelist"),
        {"action": "delete_selected", "_selected_action": [category.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert FaqCategory.objects.filter(pk=category.pk).exists()


def test_it_refuses_a_link_name_the_page_uses_itself(staff_client, entries):
    entry = entries["imps-fees"]
    for slug in ("main", "faq-q", "topic-accounts"):
        response = staff_client.post(
            reverse("admin:public_faqentry_change", args=[entry.pk]), _form(entry, slug=slug)
        )
        assert response.status_code == 200
        assert "used by the page itself" in response.content.decode()
    entry.refresh_from_db()
    assert entry.slug == "imps-fees"


def test_it_previews_the_sanitised_answer(staff_client, entries):
    entry = entries["imps-fees"]
    FaqEntry.objects.filter(pk=entry.pk).update(answer="**Bold** <script>alert(1)</script> [x](javascript:y)")
    page = staff_client.get(reverse("admin:public_faqentry_change", args=[entry.pk])).content.decode()
    assert '<div class="faq-preview"><p><strong>Bold</strong> &lt;script&gt;' in page
    assert "<script>alert(1)" not in page and 'href="javascript' not in page
    assert staff_client.get(reverse("admin:public_faqentry_changelist"), {"q": "IMPS"}).status_code == 200
    assert staff_client.get(reverse("admin:public_faqentry_add")).status_code == 200


def test_an_edit_shows_on_the_next_request(
    client, staff_client, entries, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from django.test import Client

    visitor = Client()
    assert "Are there charges for IMPS?" in visitor.get("/faq/").content.decode()
    with django_assert_num_queries(0):  # the cached copy
        assert visitor.get("/faq/").status_code == 200
    entry = entries["imps-fees"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:public_faqentry_change", args=[entry.pk]),
            _form(entry, question="What does IMPS cost?"),
        )
    assert response.status_code == 302
    html = visitor.get("/faq/").content.decode()
    assert "What does IMPS cost?" in html and "Are there charges for IMPS?" not in html
    # Unpublishing takes it off the page as quickly.
    entry.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:public_faqentry_change", args=[entry.pk]), _form(entry, published="")
        )
    assert "What does IMPS cost?" not in visitor.get("/faq/").content.decode()


def test_a_change_moves_updated_at(staff_client, entries):
    """The admin writes only the changed columns (portal/admin.py); the entry's "updated" time, shown in the
    list and on the form, must still move with the change."""
    import datetime

    entry = entries["imps-fees"]
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    FaqEntry.objects.filter(pk=entry.pk).update(updated_at=long_ago)
    url = reverse("admin:public_faqentry_change", args=[entry.pk])

    response = staff_client.post(url, _form(entry, question="What does IMPS cost?"))

    assert response.status_code == 302, response.content
    entry.refresh_from_db()
    assert entry.question == "What does IMPS cost?"
    assert entry.updated_at > long_ago
