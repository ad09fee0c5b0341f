"""The customer's categorisation rules (`/insights/rules/`): their rules in the order they are tried, a form
to add one, removing one (after a page that asks), the bank's default rules below, and "Apply my rules to
past transactions" with its progress (a Celery task: transactions/insights/tasks.py).

The progress is a named partial of the rules page: HTMX polls it every second while the backfill is queued or
running, and the finished one comes back without the trigger, which stops the polling; without JavaScript
a "Refresh" link draws the page again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from transactions.insights import services
from transactions.insights.category_forms import RuleForm
from transactions.insights.models import CategoryRule, RuleBackfill

_RULES = "insights/rules.html"
_RULE_REMOVE = "insights/rule_remove.html"
_FIELD_OF = {
    "category_unknown": "category",
    "contains_empty": "text",
    "rule_duplicate": "text",
    "rules_max": None,
}


def _see_other(url: str) -> HttpResponseRedirect:
    """303: the browser follows a POST's answer with a GET, so Back and Reload never post it again."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _rules_context(request: HttpRequest, form: RuleForm, backfill: RuleBackfill | None = None) -> dict:
    rules = list(
        CategoryRule.objects.filter(owner=request.user).select_related("category").order_by("position", "id")
    )
    defaults = CategoryRule.objects.filter(owner__isnull=True).select_related("category")
    if backfill is None:
        backfill = RuleBackfill.objects.filter(owner=request.user).order_by("-created_at", "-id").first()
    return {
        "form": form,
        "rules": rules,
        "rules_max": services.RULES_MAX,
        "defaults": list(defaults.order_by("position", "id")),
        **_backfill_context(backfill),
    }


def _backfill_context(backfill: RuleBackfill | None) -> dict:
    running = backfill is not None and backfill.status in (
        RuleBackfill.Status.QUEUED,
        RuleBackfill.Status.RUNNING,
    )
    return {"backfill": backfill, "running": running}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            rule = services.rule_create(
                user=request.user,
                field=data["field"],
                contains=data["text"],
                direction=data["direction"],
                category=data["category"],
            )
        except services.CategoryError as error:
            form.add_error(_FIELD_OF.get(error.code), error.message)
        else:
            messages.success(
                request,
                _(
                    "Rule added: %(rule)s. It applies to new transactions; to apply it to past ones too, use "
                    "“Apply my rules to past transactions”."
                )
                % {"rule": rule_words(rule)},
            )
            return _see_other(reverse("insights_rules"))
    return render(request, _RULES, _rules_context(request, form))


def rule_words(rule: CategoryRule) -> str:
    """ "Counterparty contains “Swiggy” (money out) → Dining": the rule as the customer reads it."""
    direction = (
        "" if rule.direction == CategoryRule.Direction.ANY else f" ({rule.get_direction_display().lower()})"
    )
    return _("%(field)s contains “%(text)s”%(direction)s → %(category)s") % {
        "field": rule.get_field_display(),
        "text": rule.contains,
        "direction": direction,
        "category": rule.category.name,
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing does, and a button; POST: remove it, back to the rules."""
    rule = CategoryRule.objects.filter(pk=pk, owner=request.user).select_related("category").first()
    if rule is None:
        raise Http404("No such rule.")
    if request.method != "POST":
        return render(request, _RULE_REMOVE, {"rule": rule})
    try:
        services.rule_delete(user=request.user, rule_id=rule.pk)
    except CategoryRule.DoesNotExist as error:  # removed meanwhile (another tab)
        raise Http404("No such rule.") from error
    messages.success(
        request,
        _(
            "Rule removed: %(rule)s. Transactions it categorised keep their category until you apply your "
            "rules to past transactions."
        )
        % {"rule": rule_words(rule)},
    )
    return _see_other(reverse("insights_rules"))


@login_required
@require_POST
def rules_apply(request: HttpRequest) -> HttpResponse:
    """Apply the customer's rules to their past transactions (one backfill at a time: asking while one runs
    shows that one). HTMX: its progress in place; without: the rules page, which shows it."""
    backfill = services.rule_backfill_request(user=request.user)
    if request.htmx:
        return render(request, f"{_RULES}#rules-progress", _backfill_context(backfill))
    return _see_other(reverse("insights_rules_progress", args=[backfill.pk]))


@login_required
@require_safe
def rules_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One backfill's progress: the partial for HTMX's polling, the rules page with it for a page load."""
    backfill = RuleBackfill.objects.filter(pk=pk, owner=request.user).first()
    if backfill is None:
        raise Http404("No such request.")
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{_RULES}#rules-progress", _backfill_context(backfill))
    else:
        response = render(request, _RULES, _rules_context(request, RuleForm(), backfill))
    patch_vary_headers(response, ["HX-Request"])
    return response
