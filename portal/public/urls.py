from django.urls import path

from portal.public import views

# The paths are also the keys of portal/public/pages.py's PUBLIC_PAGES (served from the cache).
urlpatterns = [
    path("rates/", views.rates, name="rates"),
    path("faq/", views.faq, name="faq"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
