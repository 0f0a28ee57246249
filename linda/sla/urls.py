from django.urls import path

from linda.sla import views

app_name = "sla"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/<str:month>/<str:fmt>/", views.download, name="download"),
]
