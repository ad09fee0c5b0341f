"""The bank's default categorisation rules: counterparties that name the category of what was bought. They
fill in what a posting left uncategorised (a card or UPI payment carries only the merchant's name), after
the customer's own rules. Earlier lines win: "Swiggy Instamart" (groceries) comes before "Swiggy" (dining)."""

from typing import Any

# (text the counterparty contains, category slug)
DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    ("Swiggy Instamart", "groceries"),
    ("BigBasket", "groceries"),
    ("DMart", "groceries"),
    ("Reliance Smart", "groceries"),
    ("Zepto", "groceries"),
    ("Blinkit", "groceries"),
    ("Nature's Basket", "groceries"),
    ("Swiggy", "dining"),
    ("Zomato", "dining"),
    ("Third Wave Coffee", "dining"),
    ("Chai Point", "dining"),
    ("Starbucks", "dining"),
    ("MTR", "dining"),
    ("Barbeque Nation", "dining"),
    ("Haldiram", "dining"),
    ("Uber", "travel"),
    ("Ola", "travel"),
    ("Rapido", "travel"),
    ("IRCTC", "travel"),
    ("IndiGo", "travel"),
    ("MakeMyTrip", "travel"),
    ("Indian Oil", "travel"),
    ("Amazon", "shopping"),
    ("Flipkart", "shopping"),
    ("Myntra", "shopping"),
    ("Nykaa", "shopping"),
    ("Croma", "shopping"),
    ("Apollo", "health"),
    ("Tata 1mg", "health"),
    ("PharmEasy", "health"),
    ("BESCOM", "utilities"),
    ("Tata Power", "utilities"),
    ("Adani Electricity", "utilities"),
    ("Jio", "utilities"),
    ("Airtel", "utilities"),
    ("Mahanagar Gas", "utilities"),
    ("Indane", "utilities"),
)


def ensure_default_rules(rule_model: Any) -> None:
    """Create the default rules that are missing (a migration passes its own model)."""
    have = set(rule_model.objects.filter(owner__isnull=True).values_list("contains", flat=True))
    for position, (text, category) in enumerate(DEFAULT_RULES):
        if text not in have:
            rule_model.objects.create(
                owner=None,
                field="counterparty",
                contains=text,
                direction="out",
                category_id=category,
                position=position,
            )
