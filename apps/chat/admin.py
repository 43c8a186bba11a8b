from django.contrib import admin

from apps.chat.models import ChatMessage


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["session", "sender", "created_at", "body"]
    list_filter = ["created_at"]
    search_fields = ["body", "sender__username"]
