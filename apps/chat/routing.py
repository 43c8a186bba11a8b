from django.urls import path

from apps.chat.consumers import ShareChatConsumer

websocket_urlpatterns = [
    path("ws/share/<str:share_id>/chat/", ShareChatConsumer.as_asgi()),
]
