"""The customer's categories as forms: the category of one entry (history detail) and a new rule (rules
page). They clean input only; transactions/insights/services.py checks and writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from transactions.categories import CATEGORIES
from transactions.insights.models import CategoryRule

# The choice that drops the customer's own category: the entry shows what their rules say, else the bank's
# (services.entry_recategorise). Not a category slug (those are CATEGORIES' keys).
BANKS = "bank"


def category_choices() -> list[tuple[str, str]]:
    """Every category, by name (as `Category` orders them), from the list the migrations load: no query."""
    return sorted(CATEGORIES.items(), key=lambda pair: pair[1])


class EntryCategoryForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose one of the categories in the list."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            *category_choices(),
            (BANKS, _("Use my rules or the bank's category")),
        ]

    @property
    def chosen(self) -> str | None:
        """The slug chosen, or None for no choice of theirs (after `is_valid`)."""
        value = self.cleaned_data["category"]
        return None if value == BANKS else value


class RuleForm(forms.Form):
    field = forms.ChoiceField(
        label=_("Look in"),
        choices=CategoryRule.Field.choices,
        initial=CategoryRule.Field.COUNTERPARTY,
        error_messages={"invalid_choice": _("Choose where to look from the list.")},
    )
    # Not named "contains": a form control of that name hides the form element's own DOM method `contains`.
    text = forms.CharField(
        label=_("For the text"),
        max_length=60,
        help_text=_("Up to 60 characters, matched anywhere in it, capitals or not (for example Swiggy)."),
        error_messages={
            "required": _("Enter the text to look for."),
            "max_length": _("Use at most 60 characters (this has %(show_value)d)."),
        },
    )
    direction = forms.ChoiceField(
        label=_("On"),
        choices=CategoryRule.Direction.choices,
        initial=CategoryRule.Direction.OUT,
        error_messages={"invalid_choice": _("Choose money in, out, or either from the list.")},
    )
    category = forms.ChoiceField(
        label=_("Put it in"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose one of the categories in the list."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose a category")), *category_choices()]
