from django.urls import path

from apps.registry import views

app_name = "registry"

urlpatterns = [
    path("", views.store, name="store"),
    path("add/", views.registry_add_view, name="add"),
    path("restore-first-party/", views.registry_restore_first_party_view, name="restore-first-party"),
    path("flags/", views.flag_explanations, name="flags"),
    path("space/", views.space_estimate, name="space"),
    path("<hex:registry_id>/update/", views.registry_update_view, name="update"),
    path("<hex:registry_id>/remove/", views.registry_remove_view, name="remove"),
    path("<hex:registry_id>/auto-update/", views.registry_auto_update_view, name="auto-update"),
    path("workspaces/<hex:workspace_id>/edit/", views.workspace_edit, name="edit"),
    path("workspaces/<hex:workspace_id>/install/", views.workspace_install_view, name="install"),
    path("workspaces/<hex:workspace_id>/apply-update/", views.workspace_apply_update_view, name="apply-update"),
]
