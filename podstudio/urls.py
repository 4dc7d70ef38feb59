from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import include, path

handler404 = "composer.http.errors.not_found"

# Log in, log out, change password; the password-reset pages only when e-mail is configured
# (PODSTUDIO_EMAIL_HOST): without it they would offer to mail links that can never be sent.
account_urls = [
    route for route in auth_urls.urlpatterns
    if settings.PODSTUDIO_PASSWORD_RESET or not route.name.startswith("password_reset")
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    path("", include("composer.urls")),
]
