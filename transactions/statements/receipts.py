"""Receipts: a PDF for one transaction as one of the customer's accounts saw it, with a checksum anyone can
verify at /statements/verify/.

What a receipt says is made only of what never changes: the ledger's transaction and entry (reference,
kind, time, amount, description, the counterparty recorded at posting), account numbers (masked), and a
payee's account number, IFSC and bank (a payee can be renamed, not re-numbered; the name printed is the one
the ledger recorded when the money moved). Names a customer may change later (their accounts' names, a
payee's current name) and states that move on (an outward payment's clearing status) are left out, so that
a receipt rendered next year says the same and has the same checksum.

The checksum is the SHA-256 of the receipt's canonical text: a first line naming the format, then one
"Label: value" line for each field as printed (`ReceiptContent.fields`), UTF-8, "\\n" after each line. It is
printed in the footer and kept in a `Receipt` row with the SHA-256 of the file, so /statements/verify/
accepts either the printed checksum or the file. The PDF is drawn with `invariant=1` and no time of its
own: the same receipt gives the same bytes at every download.

Who sees which party: the customer's own accounts by kind and masked number; a payee by the name recorded,
masked account number, IFSC and bank (details the customer entered); anyone else (another customer who paid
them, a merchant, the bank) only by the name the ledger recorded for this customer's entry, never by an
account number."""

import hashlib
import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction as db
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Account, User
from portal.audit import audit_record
from portal.money import amount_in_words, format_paise
from transactions.history.selectors import history_transaction
from transactions.models import Entry, Transaction
from transactions.statements import pdf
from transactions.statements.models import Receipt

logger = logging.getLogger(__name__)

FORMAT = "SecureBank receipt, version 1"
BANK_NAME = "SecureBank"


def verify_url() -> str:
    return (settings.SITE_URL or "https://securebank.example") + reverse("statement_verify")


def file_name(txn: Transaction) -> str:
    return f"securebank-receipt-{txn.reference}.pdf"


def _own_account(account: Account) -> str:
    return f"{account.get_kind_display()} account {account.masked_number}"


def _other_party(txn: Transaction, entry: Entry, own: list[Entry], role: str) -> list[tuple[str, str]]:
    """The other side of `entry` as (label, text) rows under `role` ("From" or "To"): another of the
    customer's own accounts, a payee they paid (with its masked account, IFSC and bank), or the name the
    ledger recorded for this entry."""
    others = [leg for leg in own if leg.pk != entry.pk and (leg.amount < 0) != (entry.amount < 0)]
    if others:
        return [(role, _own_account(others[0].account))]
    recorded = entry.counterparty or txn.counterparty
    if entry.amount < 0 and txn.payee_id is not None:
        payee = txn.payee
        return [
            (role, recorded or payee.name),
            ("Payee's account", f"{payee.masked_account_number} · IFSC {payee.ifsc}"),
            ("Payee's bank", payee.bank_name),
        ]
    return [(role, recorded or (BANK_NAME if txn.initiator_id is None else "—"))]


def content_for(txn: Transaction, account: Account) -> pdf.ReceiptContent:
    """The receipt of `txn` for the customer's `account`; `txn` as history_transaction reads it (with
    `own_entries`: its entries on the customer's accounts, each with its account)."""
    own = list(txn.own_entries)
    entry = next(leg for leg in own if leg.account_id == account.pk)
    when = txn.created.astimezone(pdf.india())
    if entry.amount < 0:
        parties = [("From", _own_account(account)), *_other_party(txn, entry, own, "To")]
    else:
        parties = [*_other_party(txn, entry, own, "From"), ("To", _own_account(account))]
    details = [
        ("Date and time", f"{pdf.short_date(when.date())}, {pdf.clock(when)} IST"),
        ("Type", txn.get_kind_display()),
        *parties,
    ]
    if txn.description:
        details.append(("Description", txn.description))
    if txn.reversal_of_id:
        details.append(("Reverses", f"SB{txn.reversal_of_id:010d}"))
    return pdf.ReceiptContent(
        bank_name=BANK_NAME,
        reference=txn.reference,
        amount=format_paise(abs(entry.amount)),
        amount_words=amount_in_words(abs(entry.amount)),
        direction=f"{'Debited from' if entry.amount < 0 else 'Credited to'} {_own_account(account)}",
        details=tuple(details),
        verify_url=verify_url(),
    )


def canonical_text(content: pdf.ReceiptContent) -> str:
    return "".join(
        f"{line}\n" for line in (FORMAT, *(f"{label}: {value}" for label, value in content.fields))
    )


def render(content: pdf.ReceiptContent) -> tuple[str, bytes]:
    """The receipt's checksum (of its data) and its PDF."""
    checksum = hashlib.sha256(canonical_text(content).encode("utf-8")).hexdigest()
    out = io.BytesIO()
    pdf.ReceiptPDF(out, content).render(checksum)
    return checksum, out.getvalue()


@dataclass(frozen=True)
class Download:
    receipt: Receipt
    pdf: bytes
    file_name: str


def receipt_download(
    *, user: User, account: Account, transaction_id: int, request: HttpRequest | None = None
) -> Download | None:
    """The user's receipt of transaction `transaction_id` on their `account` (one of theirs: the caller
    found it for the user), its checksums kept in a `Receipt` row and the download audited, in one
    database transaction. None if the transaction did not touch that account of theirs."""
    txn = history_transaction(user=user, account=account, transaction_id=transaction_id)
    if txn is None:
        return None
    content = content_for(txn, account)
    checksum, data = render(content)
    pdf_sha256 = hashlib.sha256(data).hexdigest()
    with db.atomic():
        receipt, created = Receipt.objects.get_or_create(
            transaction=txn, account=account, defaults={"data_sha256": checksum, "pdf_sha256": pdf_sha256}
        )
        if not created and (receipt.data_sha256, receipt.pdf_sha256) != (checksum, pdf_sha256):
            # Only a change of this code (a new format, a new ReportLab) renders a receipt differently:
            # the row follows the latest rendering, which is what the customer now holds.
            logger.warning("receipt %s for account %s rendered differently from before", txn.pk, account.pk)
            Receipt.objects.filter(pk=receipt.pk).update(data_sha256=checksum, pdf_sha256=pdf_sha256)
            receipt.data_sha256, receipt.pdf_sha256 = checksum, pdf_sha256
        audit_record(
            action="receipt.download",
            actor=user,
            obj=receipt,
            after={
                "reference": txn.reference,
                "account": account.masked_number,
                "data_sha256": checksum,
                "pdf_sha256": pdf_sha256,
            },
            request=request,
        )
    return Download(receipt=receipt, pdf=data, file_name=file_name(txn))
