"""Wiring: a saved or deleted rate or FAQ entry moves its pages' version, so that their cached copies are
dropped when the change commits (portal/public/page_cache.py), whoever writes it (admin, the shell, the
demo loader)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal.public import page_cache
from portal.public.models import FaqCategory, FaqEntry, InterestRate

_NAMESPACE = {InterestRate: "rates", FaqEntry: "faq", FaqCategory: "faq"}


@receiver(post_save, sender=InterestRate, dispatch_uid="public.rates.saved")
@receiver(post_delete, sender=InterestRate, dispatch_uid="public.rates.deleted")
@receiver(post_save, sender=FaqEntry, dispatch_uid="public.faq.saved")
@receiver(post_delete, sender=FaqEntry, dispatch_uid="public.faq.deleted")
@receiver(post_save, sender=FaqCategory, dispatch_uid="public.faqcategory.saved")
@receiver(post_delete, sender=FaqCategory, dispatch_uid="public.faqcategory.deleted")
def _drop_cached_pages(sender: type, using: str = "default", **kwargs: object) -> None:
    # In the edit's own transaction: the version moves if and only if the edit commits.
    page_cache.bump(_NAMESPACE[sender], using=using)
