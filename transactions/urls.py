from django.urls import path

from transactions import views

urlpatterns = [
    path("transfers/new/", views.transfer_new, name="transfer_new"),
    path("transfers/review/<str:token>/", views.transfer_review, name="transfer_review"),
    path("transfers/confirm/", views.transfer_confirm, name="transfer_confirm"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("security/limits/", views.limits_page, name="limits"),
]
