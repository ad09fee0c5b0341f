"""The audit trail in admin: read-only for everyone, searchable, and exported as CSV for any date range by
staff who may view it, streamed."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.urls import reverse

from accounts.models import User
from portal.models import AuditEvent
from tests.factories import UserFactory
from tests.twofactor import force_login_verified

IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
EXPORT = reverse("admin:portal_auditevent_export")


@pytest.fixture
def staff(db) -> User:
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def january(db) -> dict[str, int]:
    """Events around 10–11 January 2026 (IST): the names say whether they fall in that range."""
    times = {
        "before": datetime.datetime(2026, 1, 9, 23, 59, 59, tzinfo=IST),
        "first": datetime.datetime(2026, 1, 10, 0, 0, 0, tzinfo=IST),
        "middle": datetime.datetime(2026, 1, 10, 14, 30, tzinfo=IST),
        "last": datetime.datetime(2026, 1, 11, 23, 59, 59, tzinfo=IST),
        "after": datetime.datetime(2026, 1, 12, 0, 0, 0, tzinfo=IST),
    }
    return {
        name: AuditEvent.objects.create(
            created=when, action="login.success", actor_email=f"{name}@example.com", ip="10.0.0.1"
        ).seq
        for name, when in times.items()
    }


def _csv(response: StreamingHttpResponse) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_it_exports_every_event_of_a_date_range_in_seq_order(client, staff, january):
    force_login_verified(client, staff)
    response = client.get(EXPORT, {"since": "2026-01-10", "until": "2026-01-11"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="audit-2026-01-10-2026-01-11.csv"' in response["Content-Disposition"]

    rows = _csv(response)
    assert [int(row["seq"]) for row in rows] == [january["first"], january["middle"], january["last"]]
    assert rows[0]["created"] == "2026-01-10T00:00:00+05:30"
    assert rows[0]["actor_email"] == "first@example.com"
    assert rows[0]["ip"] == "10.0.0.1"
    assert set(rows[0]) >= {"action", "object_type", "object_id", "before", "after", "request_id", "hash"}


def test_it_exports_an_open_range(client, staff, january):
    force_login_verified(client, staff)
    rows = _csv(client.get(EXPORT, {"until": "2026-01-09"}))
    assert [int(row["seq"]) for row in rows] == [january["before"]]
    rows = _csv(client.get(EXPORT, {"since": "2026-01-12"}))
    assert int(rows[0]["seq"]) == january["after"]  # then the export's own event, made today


def test_it_records_the_export_itself(client, staff, january):
    force_login_verified(client, staff)
    _csv(client.get(EXPORT, {"since": "2026-01-10", "until": "2026-01-11"}))
    event = AuditEvent.objects.get(action="audit.export")
    assert event.actor == staff
    assert event.after == {"since": "2026-01-10", "until": "2026-01-11"}


def test_it_writes_json_columns_and_defuses_spreadsheet_formulas(client, staff):
    AuditEvent.objects.create(
        action="login.failure",
        after={"email": '=HYPERLINK("http://evil")'},
        user_agent="=cmd|' /C calc'!A0",
        actor_email="+91@example.com",
    )
    force_login_verified(client, staff)
    row = _csv(client.get(EXPORT))[0]
    assert row["user_agent"] == "'=cmd|' /C calc'!A0"
    assert row["actor_email"] == "'+91@example.com"
    assert row["after"] == '{"email": "=HYPERLINK(\\"http://evil\\")"}'  # JSON text: starts with {


def test_it_refuses_a_bad_range(client, staff):
    force_login_verified(client, staff)
    assert client.get(EXPORT, {"since": "2026-02-01", "until": "2026-01-01"}).status_code == 400
    assert client.get(EXPORT, {"since": "yesterday"}).status_code == 400


def test_it_sends_customers_and_visitors_to_the_admin_login(client, alice):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    client.force_login(alice)
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_it_refuses_staff_who_may_not_view_the_audit_trail(client, db):
    clerk = UserFactory(email="clerk@example.com", is_staff=True)
    force_login_verified(client, clerk)
    assert client.get(EXPORT).status_code == 403
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert client.get(EXPORT).status_code == 200


def test_it_exports_the_selected_events_from_the_changelist(client, staff, january):
    force_login_verified(client, staff)
    response = client.post(
        reverse("admin:portal_auditevent_changelist"),
        {"action": "export_csv", "_selected_action": [january["middle"], january["last"]]},
    )
    assert response.status_code == 200
    assert [int(row["seq"]) for row in _csv(response)] == [january["middle"], january["last"]]


def test_it_lists_filters_and_searches_events(client, staff, january):
    force_login_verified(client, staff)
    url = reverse("admin:portal_auditevent_changelist")
    AuditEvent.objects.create(action="money.transfer", object_type="transactions.transaction", object_id="77")
    assert client.get(url).status_code == 200

    def listed(**params) -> list[int]:
        return list(client.get(url, params).context["cl"].result_list.values_list("seq", flat=True))

    logins = 6  # the five of January and the staff member's own sign-in
    assert len(listed(action="login.success")) == logins
    assert len(listed(action="login")) == logins  # the family
    assert listed(action="money") == listed(action="money.transfer") == listed(q="77")
    assert len(listed(action="money")) == 1
    page = client.get(url, {"q": "middle@"})
    assert list(page.context["cl"].result_list.values_list("seq", flat=True)) == [january["middle"]]
    detail = client.get(reverse("admin:portal_auditevent_change", args=[january["middle"]]))
    assert detail.status_code == 200


def test_it_lets_nobody_add_change_or_delete_an_event(client, staff, january):
    force_login_verified(client, staff)
    seq = january["middle"]
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
    assert (
        client.post(reverse("admin:portal_auditevent_delete", args=[seq]), {"post": "yes"}).status_code == 403
    )
    client.post(reverse("admin:portal_auditevent_change", args=[seq]), {"action": "edited"})
    assert AuditEvent.objects.get(seq=seq).action == "login.success"
    actions = (
        client.get(reverse("admin:portal_auditevent_changelist")).context["action_form"].fields["action"]
    )
    assert "delete_selected" not in dict(actions.choices)


def test_it_offers_an_export_form_on_the_changelist_that_gets_the_export_view(client, staff, january):
    force_login_verified(client, staff)
    response = client.get(reverse("admin:portal_auditevent_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    form = re.search(r'<form class="audit-export" method="get" action="([^"]+)">(.*?)</form>', body, re.S)
    assert form is not None, "no export form on the changelist"
    assert form.group(1) == EXPORT
    fields = re.findall(r'<input type="date" id="[\w-]+" name="(\w+)">', form.group(2))
    assert fields == ["since", "until"]
    assert "Export CSV" in form.group(2)
    # What the form submits (its two fields as a query string) is an export of those days.
    rows = _csv(client.get(form.group(1), {"since": "2026-01-10", "until": "2026-01-10"}))
    assert [int(row["seq"]) for row in rows] == [january["first"], january["middle"]]


def test_it_draws_changelists_without_inline_styles(client, staff, monkeypatch):
    """The CSP refuses inline <style>. Django's changelist draws one for a list with neither top nor bottom
    actions; here that list gets a body class and the same rule from css/admin.css instead."""
    from django.contrib import admin
    from django.contrib.auth.models import Group

    force_login_verified(client, staff)
    for name in ("admin:auth_group_changelist", "admin:portal_auditevent_changelist"):
        body = client.get(reverse(name)).content.decode()
        assert "<style" not in body
        assert "css/admin.css" in body
    group_admin = admin.site._registry[Group]
    monkeypatch.setattr(group_admin, "actions_on_top", False)
    monkeypatch.setattr(group_admin, "actions_on_bottom", False)
    body = client.get(reverse("admin:auth_group_changelist")).content.decode()
    assert "<style" not in body
    assert re.search(r'<body class="[^"]*\bno-actions\b', body)


def test_the_list_shows_a_change_cut_short_and_the_event_page_all_of_it(client, staff):
    note = "नमस्ते" * 40  # one long word in Devanagari
    event = AuditEvent.objects.create(
        action="admin.change",
        actor_email="ops@example.com",
        object_type="accounts.account",
        object_id="42",
        before={"status": "active", "name": "Savings"},
        after={"status": "frozen", "name": note},
    )
    force_login_verified(client, staff)

    page = client.get(reverse("admin:portal_auditevent_changelist")).content.decode()
    assert "accounts.account #42" in page
    row = page.split(f'value="{event.seq}"')[1].split("</tr>")[0]
    shown = re.search(r'<td class="field-changes_display"><span title="([^"]*)">([^<]*)</span>', row)
    assert shown, row
    assert "name: Savings → नमस्ते" in shown.group(2) and shown.group(2).endswith("…")
    assert len(shown.group(2)) == 60
    assert note in shown.group(1) and "status: active → frozen" in shown.group(1)  # the hover text
    assert row.count("<td") + row.count("<th") == 7  # seven columns after the checkbox
    detail = client.get(reverse("admin:portal_auditevent_change", args=[event.seq])).content.decode()
    assert note in detail
