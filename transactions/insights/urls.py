from django.urls import path  # noqa: F401 - the insights pages add their routes here

urlpatterns: list = []
