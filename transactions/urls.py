from django.urls import path

from transactions import views
from transactions.history import balance_views, export_views
from transactions.history import views as history_views
from transactions.scheduled import views as scheduled_views
from transactions.statements import receipt_views

urlpatterns = [
    path("transfers/new/", views.transfer_new, name="transfer_new"),
    path("transfers/review/<str:token>/", views.transfer_review, name="transfer_review"),
    path("transfers/confirm/", views.transfer_confirm, name="transfer_confirm"),
    path("transfers/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/receipt.pdf", receipt_views.transfer_receipt_pdf, name="transfer_receipt_pdf"),
    path("security/limits/", views.limits_page, name="limits"),
]

# Scheduled and recurring transfers (transactions/scheduled/).
urlpatterns += [
    path("transfers/scheduled/", scheduled_views.scheduled_list, name="scheduled_list"),
    path("transfers/scheduled/new/", scheduled_views.scheduled_new, name="scheduled_new"),
    path("transfers/scheduled/<int:pk>/", scheduled_views.scheduled_detail, name="scheduled_detail"),
    path("transfers/scheduled/<int:pk>/cancel/", scheduled_views.scheduled_cancel, name="scheduled_cancel"),
]

# An account's history (transactions/history/): the page, a transaction, the export of what the page shows,
# the balance on a day and why.
urlpatterns += [
    path("accounts/<int:pk>/history/", history_views.history, name="history"),
    path(
        "accounts/<int:pk>/history/<int:transaction_id>/",
        history_views.history_detail,
        name="history_detail",
    ),
    path(
        "accounts/<int:pk>/history/<int:transaction_id>/category/",
        history_views.history_category,
        name="history_category",
    ),
    path(
        "accounts/<int:pk>/history/<int:transaction_id>/receipt.pdf",
        receipt_views.history_receipt_pdf,
        name="history_receipt_pdf",
    ),
    path("accounts/<int:pk>/history/export.csv", export_views.history_export_csv, name="history_export_csv"),
    path(
        "accounts/<int:pk>/history/export.xlsx", export_views.history_export_xlsx, name="history_export_xlsx"
    ),
    path("accounts/<int:pk>/balance/", balance_views.balance_page, name="history_balance"),
]
