from django.urls import path

from . import releases, views

app_name = "portal"
urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.ticket_new, name="create"),
    path("new/<str:key>/", views.ticket_created, name="created"),
    path("t/<str:key>/", views.ticket_page, name="ticket"),
    path("t/<str:key>/comment/", views.ticket_comment, name="comment"),
    path("t/<str:key>/act/<slug:transition>/", views.ticket_act, name="act"),
    path("t/<str:key>/estimate/grant/", views.estimate_grant, name="estimate_grant"),
    path(
        "t/<str:key>/quote/<int:number>/<str:move>/",
        views.quote_answer,
        name="quote_answer",
    ),
    path("guide/", views.guides, name="guides"),
    path("guide/<int:desk_id>/", views.guide, name="guide"),
    path("updates/", releases.updates_desks, name="updates_desks"),
    path("updates/<int:desk_id>/", releases.updates, name="updates"),
    path("updates/<int:desk_id>/ask/", releases.ask_for_update, name="ask_update"),
    path("updates/<int:desk_id>/<str:version>/", releases.whats_new, name="whats_new"),
]
