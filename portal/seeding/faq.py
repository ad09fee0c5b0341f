"""The demo's FAQ: five topics and their questions as an Indian bank's help pages put them, and one draft
that staff have not published. `seed_faq()` adds what is missing and never changes what is there (staff
may have edited the demo's entries since), so a second run does nothing."""

from django.db import transaction

from portal.public.models import FaqCategory, FaqEntry

# (topic name, slug, [(question, slug, answer in Markdown), ...])
FAQ: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "Accounts",
        "accounts",
        [
            (
                "How do I open a savings account?",
                "open-a-savings-account",
                "Visit any branch with your **PAN card** and an officially valid document for your address "
                "(Aadhaar, passport, voter ID or driving licence), or start online and finish with a "
                "video KYC call.\n\nYour account number and customer ID arrive by SMS and email once the "
                "KYC check is done, usually within one working day.",
            ),
            (
                "What is the minimum balance I must keep?",
                "minimum-balance",
                "Regular savings accounts need an **average monthly balance of ₹10,000** in metro and urban "
                "branches and ₹5,000 in semi-urban and rural branches. Basic savings bank deposit "
                "(BSBD) accounts have no minimum balance.\n\nIf the average falls short, a charge "
                "proportional to the shortfall applies; it never takes the balance below zero.",
            ),
            (
                "How do I update my mobile number or address?",
                "update-contact-details",
                "Mobile number: at any branch, or at one of our ATMs with your debit card and PIN. "
                "Address: upload a new address proof under *Profile* in online banking, or hand it in "
                "at a branch.\n\nFor your safety, we send a message to your **old** number as well when "
                "the mobile number changes.",
            ),
            (
                "How do I add a nominee to my account?",
                "add-a-nominee",
                "Fill in form DA-1 at your branch, or add a nominee under *Profile → Nominees* in online "
                "banking. You can name one nominee per account; the nominee's name appears on your "
                "passbook and statements if you ask for it.",
            ),
        ],
    ),
    (
        "Transfers and payees",
        "transfers-and-payees",
        [
            (
                "What is the difference between NEFT, RTGS, IMPS and UPI?",
                "neft-rtgs-imps-upi",
                "- **NEFT** settles in half-hourly batches, 24×7, for any amount.\n"
                "- **RTGS** settles one by one in real time, for ₹2 lakh and above.\n"
                "- **IMPS** is instant, 24×7, up to ₹5 lakh.\n"
                "- **UPI** is instant and needs only the payee's UPI ID; the usual limit is ₹1 lakh a day."
                "\n\nAll four need the payee's account number and IFSC, except UPI.",
            ),
            (
                "Why can't I send a large amount to a new payee straight away?",
                "new-payee-cooling-off",
                "When you add a payee there is a **cooling-off period** of 30 minutes before you can send "
                "them anything, and for the first 24 hours you can send at most ₹50,000 in all.\n\n"
                "Fraudsters who get into an account add a payee and empty it at once: the wait gives you "
                "time to see our SMS and block the payee if you did not add them.",
            ),
            (
                "Where do I find a branch's IFSC?",
                "find-ifsc",
                "The IFSC (Indian Financial System Code) is the 11-character code of a bank branch, such "
                "as `SBIN0001234`: four letters for the bank, a zero, then six characters for the branch. "
                "It is printed on cheque leaves and passbooks, and the "
                "[Reserve Bank of India lists every branch](https://www.rbi.org.in/Scripts/IFSCMICRDetails.aspx).",
            ),
            (
                "I sent money to the wrong account. What should I do?",
                "wrong-account-transfer",
                "Call us at once on **1800 000 0000** (toll-free, 24×7) with the transaction reference. "
                "We will ask the receiving bank to contact its customer and request a return; we cannot "
                "take money back from another person's account without their consent.\n\n"
                "Check the payee's name before you confirm: our review page shows the name the receiving "
                "bank has on record.",
            ),
            (
                "Are there charges for NEFT or IMPS transfers?",
                "transfer-charges",
                "Online NEFT and RTGS transfers are free. IMPS transfers are free up to ₹1,000 and "
                "charged ₹5 plus GST above that. A transfer made at a branch is charged as listed in our "
                "schedule of charges.",
            ),
        ],
    ),
    (
        "Cards and security",
        "cards-and-security",
        [
            (
                "Someone called asking for my OTP. Is that the bank?",
                "otp-never-asked",
                "**No.** SecureBank never asks for your OTP, PIN, CVV or password by phone, SMS, email or "
                'WhatsApp, not even to "verify" or "unblock" your account.\n\nHang up, and report the '
                "number to us and on the national cybercrime helpline **1930**.",
            ),
            (
                "How do I block a lost or stolen debit card?",
                "block-lost-card",
                "Block it at once in online banking under *Cards → Block card*, by SMS (`BLOCK` and the "
                "last four digits of the card to 56161) or by calling 1800 000 0000. Blocking is "
                "permanent; order a replacement card in the same place.",
            ),
            (
                "How do I set up two-factor authentication for online banking?",
                "two-factor-authentication",
                "Go to *Security → Two-factor authentication*, scan the QR code with an authenticator app "
                "and type the code it shows. Keep the backup codes somewhere safe: each one signs you in "
                "once if you lose your phone.",
            ),
            (
                "I see a transaction I did not make. What now?",
                "unauthorised-transaction",
                "Report it within **three working days** by calling 1800 000 0000 or from the "
                "transaction's page in online banking. Under RBI rules your liability is zero when you "
                "report a third-party fraud within three days; we credit the amount back, usually within "
                "ten working days, while we investigate.",
            ),
        ],
    ),
    (
        "Interest rates and deposits",
        "interest-rates-and-deposits",
        [
            (
                "How is savings account interest calculated?",
                "savings-interest",
                "Interest is calculated on your **end-of-day balance** every day and paid into the "
                "account every quarter. See the current [interest rates](/rates/) for each balance slab.",
            ),
            (
                "Do senior citizens get a higher rate on fixed deposits?",
                "senior-citizen-rates",
                "Yes. Customers aged 60 or more get **0.50% a year more** than the general rate on fixed "
                "and recurring deposits of every tenor. The extra is applied automatically from the date "
                "of birth in your KYC records.",
            ),
            (
                "Is my money insured?",
                "dicgc-insurance",
                "Deposits with SecureBank are insured by the Deposit Insurance and Credit Guarantee "
                "Corporation (DICGC) up to **₹5 lakh per depositor**, covering principal and interest "
                "across all your accounts with us in the same right and capacity.",
            ),
            (
                "Can I close a fixed deposit before it matures?",
                "premature-withdrawal",
                "Yes, from online banking or a branch. Interest is paid at the rate for the period the "
                "deposit actually ran, less a penalty of 0.5%; tax-saver deposits cannot be closed in "
                "their first five years.",
            ),
        ],
    ),
    (
        "Statements",
        "statements",
        [
            (
                "How do I download an account statement?",
                "download-statement",
                "Open the account in online banking and choose *Statements*. Pick a month or any range of "
                "dates in the last seven years and download it as PDF or CSV.",
            ),
            (
                "Why is my statement PDF password protected?",
                "statement-password",
                "To keep it private if the email is forwarded or the file is shared. The password is the "
                "first four letters of your name in capitals followed by your date of birth as DDMM, for "
                "example `RAVI0712`.",
            ),
            (
                "How do I get an interest certificate for income tax?",
                "interest-certificate",
                "Under *Statements → Certificates* choose the financial year (April to March). The "
                "certificate lists the interest paid and any TDS deducted, as your Form 26AS shows.",
            ),
        ],
    ),
]

DRAFT = (
    "statements",
    "Can I get my statement on WhatsApp?",
    "statement-on-whatsapp",
    "Draft: not yet offered. Do not publish before the service launches.",
)


def seed_faq() -> tuple[int, int]:
    """Add the demo FAQ's missing topics and entries (published, but for the one draft). Returns how many
    topics and entries were made now."""
    made_topics = made_entries = 0
    with transaction.atomic():
        for topic_position, (name, slug, questions) in enumerate(FAQ, start=1):
            category, created = FaqCategory.objects.get_or_create(
                slug=slug, defaults={"name": name, "position": topic_position * 10}
            )
            made_topics += created
            for position, (question, entry_slug, answer) in enumerate(questions, start=1):
                _entry, created = FaqEntry.objects.get_or_create(
                    slug=entry_slug,
                    defaults={
                        "category": category,
                        "question": question,
                        "answer": answer,
                        "position": position * 10,
                        "published": True,
                    },
                )
                made_entries += created
        topic_slug, question, entry_slug, answer = DRAFT
        if FaqCategory.objects.filter(slug=topic_slug).exists():
            _entry, created = FaqEntry.objects.get_or_create(
                slug=entry_slug,
                defaults={
                    "category": FaqCategory.objects.get(slug=topic_slug),
                    "question": question,
                    "answer": answer,
                    "position": 900,
                    "published": False,
                },
            )
            made_entries += created
    return made_topics, made_entries
