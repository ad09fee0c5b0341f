from django.contrib import admin
from django.urls import include, path

from portal import views
from portal.metrics import metrics_view

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("transactions.urls")),
    path("insights/", include("transactions.insights.urls")),
    path("statements/", include("transactions.statements.urls")),
    path("", include("portal.public.urls")),
    path("health/", views.health, name="health"),
    path("ready/", views.ready, name="ready"),
    path("session/ping/", views.session_ping, name="session_ping"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
