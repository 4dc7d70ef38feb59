"""Every URL of the app: the pages (composer/web/urls.py) and the API (composer/api/urls.py)."""

from composer.api import urls as api_urls
from composer.web import urls as web_urls

app_name = "composer"

urlpatterns = web_urls.urlpatterns + api_urls.urlpatterns
