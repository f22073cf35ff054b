from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.ticket_new, name="create"),
    path("new/<str:key>/", views.ticket_created, name="created"),
    path("t/<str:key>/", views.ticket_page, name="ticket"),
    path("t/<str:key>/comment/", views.ticket_comment, name="comment"),
    path("t/<str:key>/act/<slug:transition>/", views.ticket_act, name="act"),
    path("guide/", views.guides, name="guides"),
    path("guide/<int:desk_id>/", views.guide, name="guide"),
]
