"""WebSocket routes of every app, combined."""

from apps.chat.routing import websocket_urlpatterns as chat_routes
from apps.common.routing import websocket_urlpatterns as common_routes
from apps.sessions.routing import websocket_urlpatterns as sessions_routes

websocket_urlpatterns = [*common_routes, *sessions_routes, *chat_routes]
