"""WebSocket routes of every app, combined."""

from apps.common.routing import websocket_urlpatterns as common_routes

websocket_urlpatterns = [*common_routes]
