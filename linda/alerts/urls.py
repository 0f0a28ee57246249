from django.urls import path

from linda.alerts import views

app_name = "alerts"
urlpatterns = [
    path("ack/<str:token>/", views.acknowledge, name="ack"),
]
