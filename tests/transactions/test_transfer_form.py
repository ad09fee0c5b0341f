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
