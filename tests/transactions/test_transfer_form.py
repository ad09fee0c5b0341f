from django.urls import reverse

from accounts.models import Account


def test_it_says_why_a_frozen_account_is_not_offered_as_a_source(client, alice, alice_savings, settings):
    settings.BANK_PHONE = "1800 123 4567"
    frozen = Account.objects.create(owner=alice, number="771000099991", name="Rainy day", status="frozen")
    client.force_login(alice)
    response = client.get(reverse("transfer_new"))
    source = response.context["form"]["source"]
    assert str(frozen.pk) not in [str(value) for value, _label in source.field.choices]
    assert source.help_text == (
        "Rainy day is frozen, so money cannot be moved out of it. Call 1800 123 4567 to lift the freeze."
    )
    assert 'aria-describedby="id_source_helptext' in response.content.decode()


def test_it_gives_no_freeze_hint_without_a_frozen_account(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    assert not client.get(reverse("transfer_new")).context["form"]["source"].help_text


def test_it_says_in_its_own_words_what_is_missing(client, alice, alice_savings, alice_current):
    """Not Django's "This field is required." beside "Choose the account to move money from."."""
    client.force_login(alice)
    key = client.get(reverse("transfer_new")).context["form"]["idempotency_key"].value()
    response = client.post(
        reverse("transfer_new"), {"source": "", "destination": "", "amount": "", "idempotency_key": key}
    )
    body = response.content.decode()
    assert "This field is required." not in body
    assert "Choose the account to move money from." in body
    assert "Enter the amount to move." in body
