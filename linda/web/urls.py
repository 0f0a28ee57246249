from django.urls import path

from linda.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/causes/", views.dashboard_causes, name="dashboard-causes"),
    path("rollout/", views.rollout, name="rollout"),
    path("rollout/<int:pk>/transition/", views.transition, name="transition"),
    path("map/", views.site_map, name="map"),
    path("map/data.json", views.map_data, name="map-data"),
    path("sites/", views.site_list, name="sites"),
    path("sites/<slug:code>/", views.site_detail, name="site"),
    path("sites/<slug:code>/outages/", views.site_outages, name="site-outages"),
    path("sites/<slug:code>/metrics.json", views.site_metrics, name="site-metrics"),
    path("sites/<slug:code>/onboard/", views.site_onboard, name="site-onboard"),
    path("status/", views.public_status, name="public"),
]
