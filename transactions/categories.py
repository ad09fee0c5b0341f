"""The spending categories every transaction can carry."""

from typing import Any

CATEGORIES = {
    "groceries": "Groceries",
    "rent": "Rent",
    "salary": "Salary",
    "utilities": "Utilities",
    "dining": "Dining",
    "travel": "Travel",
    "shopping": "Shopping",
    "health": "Health",
    "emi": "EMI",
    "transfers": "Transfers",
    "interest": "Interest",
    "other": "Other",
}


def ensure_categories(category_model: Any) -> None:
    """Create the categories if missing. Takes the model so that a migration can pass its own."""
    for slug, name in CATEGORIES.items():
        category_model.objects.get_or_create(slug=slug, defaults={"name": name})
