from django.urls import path

from linda.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("hb/<str:key>", views.hb, name="hb"),
    path("hb/<str:key>/", views.hb),
    path("api/v1/heartbeats", views.api_heartbeats, name="api_heartbeats"),
]
