"""The project's URLs plus the alerts app's (until config/urls.py includes them)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("alerts/", include("linda.alerts.urls")),
    *project_urlpatterns,
]
