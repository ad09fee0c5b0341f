from django.urls import path

from transactions.insights import category_views

# The customer's categorisation rules and their application to past transactions (category_views.py).
urlpatterns: list = [
    path("rules/", category_views.rules, name="insights_rules"),
    path("rules/<int:pk>/remove/", category_views.rule_remove, name="insights_rule_remove"),
    path("rules/apply/", category_views.rules_apply, name="insights_rules_apply"),
    path("rules/apply/<int:pk>/", category_views.rules_progress, name="insights_rules_progress"),
]
