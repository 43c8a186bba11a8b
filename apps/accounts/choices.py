from django.db import models


class ApiPermission(models.TextChoices):
    """What an API key may do. A key without permissions may do nothing; `global_admin` may do all."""

    GLOBAL_ADMIN = "global_admin", "Global admin"
    USERS_VIEW = "users_view", "View users"
    USERS_MODIFY = "users_modify", "Create and modify users"
    USERS_MODIFY_ADMIN = "users_modify_admin", "Modify administrators (staff, superusers, console admins)"
    GROUPS_VIEW = "groups_view", "View groups"
    GROUPS_MODIFY = "groups_modify", "Modify groups"
    GROUPS_MODIFY_SYSTEM = "groups_modify_system", "Modify membership of groups that carry permissions"
    IMAGES_VIEW = "images_view", "View images"
    IMAGES_MODIFY = "images_modify", "Create and modify images"
    SESSIONS_VIEW = "sessions_view", "View sessions"
    SESSIONS_MODIFY = "sessions_modify", "Create, join and destroy sessions"
    AGENTS_VIEW = "agents_view", "View agents"
    AGENTS_MODIFY = "agents_modify", "Modify agents"
