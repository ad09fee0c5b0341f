from django.urls import path

from transactions.insights import budget_views, category_views, projection_views, views

urlpatterns = [
    path("", views.insights_page, name="insights"),
    path("budgets/", budget_views.budgets_page, name="insights_budgets"),
    path("budgets/remove/", budget_views.budget_remove_view, name="insights_budget_remove"),
    path("projection/", projection_views.projection_page, name="insights_projection"),
    # The customer's categorisation rules and their application to past transactions (category_views.py).
    path("rules/", category_views.rules, name="insights_rules"),
    path("rules/<int:pk>/remove/", category_views.rule_remove, name="insights_rule_remove"),
    path("rules/apply/", category_views.rules_apply, name="insights_rules_apply"),
    path("rules/apply/<int:pk>/", category_views.rules_progress, name="insights_rules_progress"),
]
