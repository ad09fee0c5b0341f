from transactions import services


def test_it_moves_money_between_own_accounts(alice, alice_savings, alice_current):
    services.transfer_create(
        initiator=alice, source=alice_savings, destination=alice_current, amount_paise=1_00,
        description="", idempotency_key="k",
    )
    alice_current.refresh_from_db()
    assert alice_current.balance == 1_00
