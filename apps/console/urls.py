from django.urls import path

from apps.console import views

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
