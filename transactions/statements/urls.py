from django.urls import path

from transactions.statements import views

urlpatterns = [
    path("", views.statements, name="statements"),
    path("verify/", views.verify, name="statement_verify"),
    path("<int:pk>/", views.statement_status, name="statement_status"),
    path("<int:pk>/retry/", views.statement_retry, name="statement_retry"),
    # The token is the link's signature (downloads.py): in the path, so that the link is one address.
    path("<int:pk>/download/<str:fmt>/<str:token>/", views.statement_download, name="statement_download"),
]
