from django.urls import path

from apps.console.views import access as views
from apps.console.views import home, profiles, settings, staging, workspaces

app_name = "console"

urlpatterns = [
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_new, name="user-new"),
    path("users/<int:user_id>/", views.user_edit, name="user-edit"),
    path("users/<int:user_id>/password/", views.user_password, name="user-password"),
    path("users/<int:user_id>/logout/", views.user_logout, name="user-logout"),
    path("users/<int:user_id>/delete/", views.user_delete_view, name="user-delete"),
    path("groups/", views.group_list, name="groups"),
    path("groups/<int:group_id>/", views.group_edit, name="group-edit"),
    path("groups/<int:group_id>/members/", views.group_members, name="group-members"),
    path("groups/<int:group_id>/delete/", views.group_delete_view, name="group-delete"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<hex:key_id>/", views.api_key_action, name="api-key-action"),
    path("audit/", views.audit_list, name="audit"),
]

urlpatterns += [
    path("", home.console_home, name="home"),
    path("system/", home.system_info, name="system"),
    path("settings/", settings.runtime_settings, name="settings"),
    path("profiles/", profiles.profile_list, name="profiles"),
    path("staging/", staging.staging_pools, name="staging"),
    path("staging/<hex:pool_id>/", staging.staging_pools, name="staging-edit"),
    path("staging/<hex:pool_id>/delete/", staging.staging_pool_remove, name="staging-delete"),
    path("profiles/<hex:profile_id>/reset/", profiles.profile_reset, name="profile-reset"),
    path("workspaces/", workspaces.workspace_list, name="workspaces"),
    path("workspaces/new/", workspaces.workspace_edit, name="workspace-new"),
    path("workspaces/<hex:image_id>/", workspaces.workspace_edit, name="workspace-edit"),
    path("workspaces/<hex:image_id>/clone/", workspaces.workspace_clone, name="workspace-clone"),
    path("workspaces/<hex:image_id>/enabled/", workspaces.workspace_enabled, name="workspace-enabled"),
    path("workspaces/<hex:image_id>/delete/", workspaces.workspace_delete, name="workspace-delete"),
]
