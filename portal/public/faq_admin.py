"""Staff edit the FAQ in admin; every add, change and delete is an audit event (AuditedAdminMixin), and
every save moves the FAQ's version so the public page is drawn again on the next request
(portal/public/signals.py). A topic that still holds questions cannot be deleted (PROTECT): admin says
which questions keep it."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from portal.admin import AuditedAdminMixin
from portal.public.markdown import render_answer
from portal.public.models import FaqCategory, FaqEntry

# Ids the FAQ page uses itself (templates/public/faq.html, base.html): a question's slug is the id of
# its deep link, so it must not be one of these.
RESERVED_IDS = frozenset({"main"})
RESERVED_PREFIXES = ("faq-", "topic-", "session-", "history-")


class FaqEntryForm(forms.ModelForm):
    class Meta:
        model = FaqEntry
        fields = ["category", "question", "slug", "answer", "position", "published"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_IDS or slug.startswith(RESERVED_PREFIXES):
            raise forms.ValidationError(
                "This link name is used by the page itself. Choose another, for example one made of the "
                "question's words."
            )
        return slug


@admin.register(FaqCategory)
class FaqCategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    search_fields = ["name", "slug"]
    ordering = ["position", "name"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(FaqEntry)
class FaqEntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = FaqEntryForm
    list_display = ["question", "category", "position", "published", "updated_at"]
    list_filter = ["category", "published"]
    list_select_related = ["category"]
    search_fields = ["question", "answer", "slug"]
    ordering = ["category__position", "category__name", "position", "id"]
    prepopulated_fields = {"slug": ("question",)}
    readonly_fields = ["answer_preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["category", "question", "slug", "position", "published"]}),
        (
            "Answer",
            {
                "fields": ["answer", "answer_preview"],
                "description": "The preview shows the saved answer as the public page draws it: scripts, "
                "raw HTML and links other than http, https, mailto or a page of this site are removed.",
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Preview (as saved)")
    def answer_preview(self, obj: FaqEntry | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the entry to see its answer as the page shows it."
        return format_html('<div class="faq-preview">{}</div>', render_answer(obj.answer))

    def audit_deleted(self, obj: FaqEntry) -> dict:
        return {"repr": str(obj), "slug": obj.slug, "category": obj.category_id, "published": obj.published}

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"published": False, **super().get_changeform_initial_data(request)}
