"""The rate sheet and the FAQ.

A rate is one line of the sheet from its `effective_from` day (IST) on: a product's rate for one bucket (a
tenor for deposits, a balance slab for savings). A change of rate is a new row with a later day, so the
sheet as it stood on any past day can be drawn again; rows already in effect are never edited (admin keeps
them read-only). A bucket leaves the sheet by a row with `offered=False`. Rates are `Decimal` percentages
per annum with two places, never float.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class RateProduct(models.TextChoices):
    SAVINGS = "savings", "Savings account"
    FIXED_DEPOSIT = "fd", "Fixed deposit"
    RECURRING_DEPOSIT = "rd", "Recurring deposit"


_RATE = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("99.99"))],
}


class InterestRate(models.Model):
    product = models.CharField(max_length=16, choices=RateProduct.choices)
    # Deposits: the tenor bucket, in days, both ends included. Savings: none.
    tenor_min_days = models.PositiveIntegerField(null=True, blank=True)
    tenor_max_days = models.PositiveIntegerField(null=True, blank=True)
    # Savings: the balance slab starts here (paise); the next slab's start ends it. Deposits: 0.
    balance_min_paise = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    general_rate = models.DecimalField("general rate (% p.a.)", **_RATE)
    senior_rate = models.DecimalField("senior citizens' rate (% p.a.)", **_RATE)
    effective_from = models.DateField(help_text="The first day (IST) this line applies.")
    # False: the bucket is withdrawn from the sheet from effective_from on.
    offered = models.BooleanField(default=True)
    published = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "tenor_min_days", "balance_min_paise", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "tenor_min_days", "tenor_max_days", "balance_min_paise", "effective_from"],
                nulls_distinct=False,
                name="interestrate_one_line_per_bucket_and_day",
            ),
            models.CheckConstraint(
                condition=Q(general_rate__gte=0, general_rate__lt=100)
                & Q(senior_rate__gte=0, senior_rate__lt=100),
                name="interestrate_rates_in_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(product="savings", tenor_min_days__isnull=True, tenor_max_days__isnull=True)
                    | (
                        ~Q(product="savings")
                        & Q(tenor_min_days__gte=1, tenor_max_days__isnull=False, balance_min_paise=0)
                        & Q(tenor_min_days__lte=models.F("tenor_max_days"))
                    )
                ),
                name="interestrate_bucket_fits_product",
            ),
        ]
        indexes = [models.Index(fields=["effective_from"], name="interestrate_effective")]

    def __str__(self) -> str:
        if self.tenor_min_days is None:
            bucket = f"balances from {self.balance_min_paise // 100} rupees"
        else:
            bucket = f"{self.tenor_min_days} to {self.tenor_max_days} days"
        return f"{self.get_product_display()}, {bucket}, from {self.effective_from:%d %b %Y}"


class FaqCategory(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "FAQ categories"

    def __str__(self) -> str:
        return self.name


class FaqEntry(models.Model):
    category = models.ForeignKey(FaqCategory, on_delete=models.PROTECT, related_name="entries")
    question = models.CharField(max_length=300)
    # The question's deep link: /faq/#<slug>.
    slug = models.SlugField(max_length=80, unique=True)
    answer = models.TextField(
        help_text="Markdown: paragraphs, lists, **bold**, *italic*, [links](https://…)."
    )
    position = models.PositiveSmallIntegerField(default=0)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__position", "category__name", "position", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self) -> str:
        return self.question


class ContentVersion(models.Model):
    """The version of a namespace of public pages ("rates", "faq"): moved in the transaction of every edit
    (portal/public/signals.py), the key of their cached copies (portal/public/page_cache.py)."""

    namespace = models.CharField(max_length=16, primary_key=True)
    version = models.BigIntegerField(default=1)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.namespace} v{self.version}"
