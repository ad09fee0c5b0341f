from django.urls import path

from transactions.statements import views

urlpatterns = [
    path("verify/", views.verify, name="statement_verify"),
]
