from django.urls import path

from apps.sessions import views

urlpatterns = [
    path("", views.workspaces, name="home"),
    path("workspaces/<hex:image_id>/launch/", views.session_launch, name="session-launch"),
    path("workspaces/default/launch/", views.session_launch, name="session-launch-default"),
    path("sessions/", views.my_sessions, name="my-sessions"),
    path("session/<hex:kasm_id>/", views.session_view, name="session-view"),
    path("connect/<hex:kasm_id>/<str:user_id>/<str:token>/", views.session_connect, name="session-connect"),
    path("session/<hex:kasm_id>/status/", views.session_status, name="session-status"),
    path("session/<hex:kasm_id>/keepalive/", views.session_keepalive_view, name="session-keepalive"),
    path("session/<hex:kasm_id>/share/", views.session_share_view, name="session-share"),
    path("session/<hex:kasm_id>/share/kick/", views.session_share_kick, name="session-share-kick"),
    path("share/<hex:share_id>/", views.share_view, name="share-view"),
    path("session/<hex:kasm_id>/delete/", views.session_delete, name="session-delete"),
    path("session/<hex:kasm_id>/pause/", views.session_pause_view, name="session-pause"),
    path("session/<hex:kasm_id>/files/", views.session_files, name="session-files"),
    path("session/<hex:kasm_id>/files/upload/", views.session_files_upload, name="session-files-upload"),
    path("session/<hex:kasm_id>/files/download/", views.session_file_download, name="session-file-download"),
    path("session/<hex:kasm_id>/stop/", views.session_stop_view, name="session-stop"),
    path("session/<hex:kasm_id>/resume/", views.session_resume_view, name="session-resume"),
    path("console/sessions/", views.console_sessions, name="console-sessions"),
    path("console/sessions/<hex:kasm_id>/destroy/", views.console_session_destroy, name="console-session-destroy"),
    path("desktop/<hex:kasm_id>/vnc/", views.workspace_http, name="workspace-http-root"),
    path("desktop/<hex:kasm_id>/vnc/<path:path>", views.workspace_http, name="workspace-http"),
]
