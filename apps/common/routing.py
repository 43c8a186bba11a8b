from django.urls import path

from apps.common.consumers import LiveUpdatesConsumer

websocket_urlpatterns = [path("ws/live/", LiveUpdatesConsumer.as_asgi())]
