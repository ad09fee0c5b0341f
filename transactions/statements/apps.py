from django.apps import AppConfig


class StatementsConfig(AppConfig):
    name = "transactions.statements"
    label = "statements"
    verbose_name = "Account statements"
