from django.apps import AppConfig


class SeedingConfig(AppConfig):
    name = "portal.seeding"
    label = "seeding"
    verbose_name = "Demo and scale data"
