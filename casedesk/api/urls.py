from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("account/tokens/", views.tokens_page, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke_view, name="api-token-revoke"),
]
