from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "transactions.insights"
    label = "insights"
    verbose_name = "Spending insights"
