"""A small FAQ for the tests: two topics in a known order, a topic holding only a draft, and a draft in a
topic that is shown (tests/public/test_faq_*.py, tests/browser/test_public_faq.py)."""

from portal.public.models import FaqCategory, FaqEntry


def make_faq() -> dict[str, FaqEntry]:
    transfers = FaqCategory.objects.create(name="Transfers and payees", slug="transfers", position=20)
    accounts = FaqCategory.objects.create(name="Accounts", slug="accounts", position=10)
    lockers = FaqCategory.objects.create(name="Lockers", slug="lockers", position=5)
    rows = [
        (accounts, 2, "open-account", "How do I open an account?", "Bring your PAN card and address proof."),
        (
            accounts,
            1,
            "minimum-balance",
            "What is the minimum balance?",
            "Keep an average monthly balance of **₹10,000**. See [the rates](/rates/).",
        ),
        (
            transfers,
            1,
            "neft-cost",
            "What does an NEFT transfer cost?",
            "Online NEFT transfers are free of charge. A transfer made at a branch costs ₹25.",
        ),
        (
            transfers,
            2,
            "imps-fees",
            "Are there charges for IMPS?",
            "IMPS is charged ₹5 plus GST above ₹1,000.",
        ),
        (
            transfers,
            3,
            "cooling-off",
            "Why must I wait before paying someone?",
            "A new payee is in a cooling-off period for 30 minutes: fraudsters add payees and pay them "
            "at once.",
        ),
        (
            transfers,
            4,
            "cancel-scheduled",
            "Can I cancel a scheduled transfer?",
            "Yes, any time before it runs.",
        ),
    ]
    entries = {
        slug: FaqEntry.objects.create(
            category=category, position=position, slug=slug, question=question, answer=answer, published=True
        )
        for category, position, slug, question, answer in rows
    }
    entries["secret-draft"] = FaqEntry.objects.create(
        category=transfers,
        position=0,
        slug="secret-draft",
        question="Draft: new charges for NEFT",
        answer="Unpublished charges for NEFT and IMPS.",
        published=False,
    )
    entries["locker-draft"] = FaqEntry.objects.create(
        category=lockers,
        slug="locker-draft",
        question="How big is a locker?",
        answer="Draft.",
        published=False,
    )
    return entries
