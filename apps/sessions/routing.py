from django.urls import path

from apps.sessions.consumers import SessionVncProxyConsumer

websocket_urlpatterns = [
    path("desktop/<str:kasm_id>/vnc/websockify", SessionVncProxyConsumer.as_asgi()),
]
