from django.urls import path

from accounts import password_reset_views, payee_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("password-reset/", password_reset_views.password_reset_ask, name="password_reset"),
    path("password-reset/sent/", password_reset_views.password_reset_sent, name="password_reset_sent"),
    path("password-reset/code/", password_reset_views.password_reset_code, name="password_reset_code"),
    path("password-reset/new-password/", password_reset_views.password_reset_new, name="password_reset_new"),
    path(
        "password-reset/<uidb64>/<token>/",
        password_reset_views.password_reset_link,
        name="password_reset_link",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("security/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("security/2fa/", views.two_factor, name="two_factor"),
    path("security/2fa/backup-codes/", views.two_factor_backup_codes, name="two_factor_backup_codes"),
    path(
        "security/2fa/backup-codes/new/",
        views.two_factor_backup_codes_new,
        name="two_factor_backup_codes_new",
    ),
    path("security/2fa/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("security/verify/", views.step_up, name="step_up"),
    path("security/", views.security, name="security"),
    path("security/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("security/not-me/", views.report_compromise, name="report_compromise"),
    path("security/not-me/done/", views.report_compromise_done, name="report_compromise_done"),
    path("payees/", payee_views.payee_list, name="payee_list"),
    path("payees/new/", payee_views.payee_new, name="payee_new"),
    path("payees/new/review/", payee_views.payee_review, name="payee_review"),
    path("payees/<int:pk>/", payee_views.payee_detail, name="payee_detail"),
    path("payees/<int:pk>/remove/", payee_views.payee_remove, name="payee_remove"),
]
