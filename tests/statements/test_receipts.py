"""Receipt PDFs: the owner downloads one for a transfer (from its receipt page) or for any transaction on
their account (from its history page), with the reference, both parties masked, the amount in figures and
words, the time in IST and a checksum that is stored and found again; another customer gets a 404; every
download is audited; the same receipt is the same bytes."""

import hashlib
import io
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from portal.models import AuditEvent
from tests.factories import AccountFactory, PayeeFactory
from transactions import services as ledger
from transactions.models import Transaction
from transactions.statements import receipts, selectors
from transactions.statements.models import Receipt


def _flat(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def rent(alice, alice_savings, alice_current) -> Transaction:
    ledger.deposit_create(  # ₹1.5 lakh in all: enough for an amount in lakh
        account=alice_savings,
        amount_paise=1_00_000_00,
        description="Bonus",
        idempotency_key=str(uuid.uuid4()),
    )
    return ledger.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=1_20_000_50,
        description="Rent for प्रिया शर्मा",
        idempotency_key=str(uuid.uuid4()),
    )


@pytest.mark.django_db
def test_it_gives_the_owner_a_pdf_with_the_reference_parties_and_amount_in_words(
    alice_client, rent, alice_savings, alice_current
):
    response = alice_client.get(reverse("transfer_receipt_pdf", args=[rent.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == f'attachment; filename="securebank-receipt-{rent.reference}.pdf"'
    )
    assert "no-store" in response["Cache-Control"].split(", ")
    text = _flat(response.content)
    for expected in (
        f"Reference (quote it if you contact us about this transaction) {rent.reference}",
        f"Debited from Savings account {alice_savings.masked_number}",
        "₹1,20,000.50",
        "One lakh twenty thousand rupees and fifty paise",
        f"From Savings account {alice_savings.masked_number}",
        f"To Current account {alice_current.masked_number}",
        "Description Rent for प्रिया शर्मा",
        " IST",
    ):
        assert expected in text, text
    assert alice_savings.number not in text and alice_current.number not in text, "numbers masked"


@pytest.mark.django_db
def test_the_stored_checksum_is_the_printed_one_and_finds_the_receipt(alice_client, rent):
    data = alice_client.get(reverse("transfer_receipt_pdf", args=[rent.pk])).content
    receipt = Receipt.objects.get()
    assert (receipt.transaction_id, receipt.account.name) == (rent.pk, "Savings")
    assert f"Receipt checksum (SHA-256 of its data): {receipt.data_sha256}" in _flat(data)
    assert receipt.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert receipt.data_sha256 != receipt.pdf_sha256
    # What /statements/verify/ asks: the printed checksum, or the file's own.
    assert selectors.receipt_by_checksum(receipt.data_sha256.upper()) == receipt
    assert selectors.receipt_by_checksum(f" {hashlib.sha256(data).hexdigest()}\n") == receipt
    assert selectors.receipt_by_checksum(hashlib.sha256(data + b"\n").hexdigest()) is None
    # The printed checksum is the SHA-256 of the receipt's data, one "Label: value" line per field.
    txn = Transaction.objects.get(pk=rent.pk)
    txn.own_entries = list(txn.entries.select_related("account").order_by("amount"))
    canonical = receipts.canonical_text(receipts.content_for(txn, receipt.account))
    assert canonical.startswith(f"{receipts.FORMAT}\nReference: {rent.reference}\nAmount: ₹1,20,000.50\n")
    assert hashlib.sha256(canonical.encode()).hexdigest() == receipt.data_sha256


@pytest.mark.django_db
def test_the_same_receipt_twice_is_the_same_bytes_one_row_and_two_audited_downloads(
    alice, alice_client, rent
):
    url = reverse("transfer_receipt_pdf", args=[rent.pk])
    first, second = alice_client.get(url).content, alice_client.get(url).content
    assert first == second
    receipt = Receipt.objects.get()
    events = AuditEvent.objects.filter(action="receipt.download").order_by("seq")
    assert [(e.actor_id, e.object_type, e.object_id) for e in events] == [
        (alice.pk, "statements.receipt", str(receipt.pk))
    ] * 2
    assert events[0].after["reference"] == rent.reference
    assert events[0].after["data_sha256"] == receipt.data_sha256


@pytest.mark.django_db
def test_another_customer_gets_404_and_nothing_is_stored(bob, rent, alice_savings):
    client = Client()
    client.force_login(bob)
    for url in (
        reverse("transfer_receipt_pdf", args=[rent.pk]),
        reverse("history_receipt_pdf", args=[alice_savings.pk, rent.pk]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert not Receipt.objects.exists()
    assert not AuditEvent.objects.filter(action="receipt.download").exists()


@pytest.mark.django_db
def test_a_transaction_that_did_not_touch_the_account_in_the_url_is_a_404(alice_client, alice_current):
    """The history URL names the account: a transaction on another of the owner's accounts is not on it."""
    paid = ledger.deposit_create(
        account=alice_current, amount_paise=5_00, description="Cash", idempotency_key=str(uuid.uuid4())
    )
    other = AccountFactory(owner=alice_current.owner, name="Other")
    assert alice_client.get(reverse("history_receipt_pdf", args=[other.pk, paid.pk])).status_code == 404
    assert (
        alice_client.get(reverse("history_receipt_pdf", args=[alice_current.pk, paid.pk])).status_code == 200
    )
    assert Receipt.objects.get().account == alice_current


@pytest.mark.django_db
def test_it_refuses_other_methods_to_the_owner(alice_client, rent):
    assert alice_client.post(reverse("transfer_receipt_pdf", args=[rent.pk])).status_code == 405
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_a_payment_to_a_payee_shows_the_payee_masked_with_ifsc_and_bank(alice, alice_client, alice_savings):
    payee = PayeeFactory(owner=alice, name="Ravi Kumar", account_number="501000123456", ifsc="HDFC0001234")
    paid = ledger.payee_transfer_create(
        initiator=alice,
        source=alice_savings,
        payee=payee,
        amount_paise=2_500_00,
        description="Tuition",
        idempotency_key=str(uuid.uuid4()),
    )
    payee.name = "Ravi (tutor)"  # renamed later: the receipt keeps the name the payment was made to
    payee.save(update_fields=["name"])
    text = _flat(alice_client.get(reverse("transfer_receipt_pdf", args=[paid.pk])).content)
    for expected in (
        f"From Savings account {alice_savings.masked_number}",
        "To Ravi Kumar Payee's account ••3456 · IFSC HDFC0001234 Payee's bank HDFC Bank",
        "Two thousand five hundred rupees",
        "Type Payment to another bank",
    ):
        assert expected in text, text
    assert "501000123456" not in text and "tutor" not in text


@pytest.mark.django_db
def test_any_transaction_on_the_account_has_a_receipt_from_its_history(alice_client, alice_savings):
    """A card payment (no transfer, no receipt page): its receipt from the history's transaction page."""
    paid = ledger.payment_create(
        account=alice_savings,
        amount_paise=349_00,
        description="Groceries",
        counterparty="DMart",
        category="groceries",
        idempotency_key=str(uuid.uuid4()),
    )
    detail = alice_client.get(reverse("history_detail", args=[alice_savings.pk, paid.pk]))
    url = reverse("history_receipt_pdf", args=[alice_savings.pk, paid.pk])
    assert f'href="{url}"' in detail.content.decode()
    response = alice_client.get(url)
    assert response.status_code == 200
    text = _flat(response.content)
    assert f"From Savings account {alice_savings.masked_number} To DMart" in text, text
    assert "Three hundred forty-nine rupees" in text


@pytest.mark.django_db
def test_the_transfer_receipt_page_links_to_its_pdf(alice_client, rent):
    page = alice_client.get(reverse("transfer_detail", args=[rent.pk])).content.decode()
    assert f'href="{reverse("transfer_receipt_pdf", args=[rent.pk])}"' in page


@pytest.mark.django_db
def test_the_credited_side_has_its_own_receipt(alice_client, rent, alice_current, alice_savings):
    text = _flat(alice_client.get(reverse("history_receipt_pdf", args=[alice_current.pk, rent.pk])).content)
    assert f"Credited to Current account {alice_current.masked_number}" in text
    assert f"From Savings account {alice_savings.masked_number} To Current account" in text
    assert Receipt.objects.get().account == alice_current


@pytest.mark.django_db
def test_the_verify_page_knows_a_receipt_by_its_file_or_printed_checksum(alice_client, rent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = alice_client.get(reverse("transfer_receipt_pdf", args=[rent.pk])).content
    receipt = Receipt.objects.get()
    day = timezone.localtime(rent.created).strftime("%-d %B %Y")
    genuine = (
        f"Genuine SecureBank receipt {rent.reference} for account {receipt.account.masked_number}, {day}"
    )
    anyone = Client()  # a lender with the customer's receipt: no login
    verify = reverse("statement_verify")
    upload = SimpleUploadedFile("receipt.pdf", data, content_type="application/pdf")
    assert genuine in anyone.post(verify, {"file": upload}).content.decode()
    assert genuine in anyone.post(verify, {"checksum": receipt.data_sha256}).content.decode()
    changed = SimpleUploadedFile("receipt.pdf", data + b"%", content_type="application/pdf")
    body = anyone.post(verify, {"file": changed}).content.decode()
    assert "Genuine SecureBank" not in body
    assert "₹1,20,000.50" not in anyone.post(verify, {"checksum": receipt.data_sha256}).content.decode()
