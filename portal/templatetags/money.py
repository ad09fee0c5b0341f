from django import template

from portal.money import format_paise, format_paise_short

register = template.Library()


@register.filter
def rupees(paise: int | None) -> str:
    """Format integer paise for people: {{ account.balance|rupees }} -> ₹1,23,456.78."""
    if paise is None:
        return ""
    return format_paise(paise)


@register.filter
def signed_rupees(paise: int | None) -> str:
    """Like rupees, with an explicit + on credits so direction never depends on colour alone."""
    if paise is None:
        return ""
    return ("+" if paise > 0 else "") + format_paise(paise)


@register.filter
def rupees_short(paise: int | None) -> str:
    """Rupees without ".00" on a whole amount: {{ budget.amount_paise|rupees_short }} -> ₹8,000."""
    if paise is None:
        return ""
    return format_paise_short(paise)
