from django.urls import path

from transactions.insights import budget_views, projection_views

urlpatterns: list = [
    path("budgets/", budget_views.budgets_page, name="insights_budgets"),
    path("budgets/remove/", budget_views.budget_remove_view, name="insights_budget_remove"),
    path("projection/", projection_views.projection_page, name="insights_projection"),
]
