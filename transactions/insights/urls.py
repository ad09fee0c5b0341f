from django.urls import path

from transactions.insights import views

urlpatterns = [
    path("", views.insights_page, name="insights"),
]
