from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView

from apps.accounts.permissions import IsConsoleAdmin
from apps.common import views as common_views
from apps.common.converters import HexUuidConverter
from apps.console.views import access as console_access
from apps.console.views import profiles as console_profiles
from apps.sessions.api.public import public_api

register_converter(HexUuidConverter, "hex")

urlpatterns = [
    path("", include("apps.sessions.urls")),
    path("health", common_views.health, name="health"),
    path("api/public/<str:name>", public_api, name="public-api"),
    path("accounts/", include("apps.accounts.urls")),
    path("console/", include("apps.agents.urls")),
    path("console/", include("apps.console.urls")),
    path("profile/", console_access.profile, name="profile"),
    path("profile/homes/<hex:profile_id>/reset/", console_profiles.own_profile_reset, name="own-profile-reset"),
    path("console/registry/", include("apps.registry.urls")),
    path("registry/", include("apps.registry.site_urls")),
    path("api/console/", include("apps.agents.api.urls")),
    path("api/console/", include("apps.sessions.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsConsoleAdmin]), name="api-schema"),
    path("django-admin/", admin.site.urls),
    path("media/<path:path>", common_views.media_file, name="media"),
]
