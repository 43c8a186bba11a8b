"""The first-party registry site, public like any registry: /registry/versions.txt, 1.0/list.json, icons."""

from django.urls import path

from apps.registry import views

app_name = "first-party-registry"

urlpatterns = [
    path("versions.txt", views.first_party_versions, name="versions"),
    path("1.0/list.json", views.first_party_list, name="list"),
    path("1.0/icons/<str:name>", views.first_party_icon, name="icon"),
]
