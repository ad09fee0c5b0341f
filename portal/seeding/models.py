from django.conf import settings
from django.db import models


class SeededUser(models.Model):
    """A user made by one of the loaders (seed_demo, seed_scale). A customer without this mark was made by
    the bank, and a loader refuses the database that holds one (portal/seeding/guards.py)."""

    class Loader(models.TextChoices):
        DEMO = "demo", "seed_demo"
        SCALE = "scale", "seed_scale"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    loader = models.CharField(max_length=10, choices=Loader.choices)

    def __str__(self) -> str:
        return f"{self.user_id} ({self.loader})"
