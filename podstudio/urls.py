from django.contrib import admin
from django.urls import include, path

handler404 = "composer.views.api.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("composer.urls")),
]
