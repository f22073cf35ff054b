from django.urls import path

from . import releases, views

app_name = "agent"
urlpatterns = [
    path("", views.queues, name="queues"),
    path("bulk/", views.bulk, name="bulk"),
    path("new/", views.register, name="register"),
    path("desks/", views.desks, name="desks"),
    path("desks/<int:desk_id>/workflow/", views.workflow, name="workflow"),
    path("desks/<int:desk_id>/releases/", releases.releases, name="releases"),
    path("desks/<int:desk_id>/releases/<str:version>/", releases.release, name="release"),
    path("t/<str:key>/", views.ticket_page, name="ticket"),
    path("t/<str:key>/reply/", views.reply, name="reply"),
    path("t/<str:key>/act/<slug:transition>/", views.act, name="act"),
    path("t/<str:key>/assign/", views.assign, name="assign"),
    path("t/<str:key>/contact/", views.contact, name="contact"),
    path("t/<str:key>/route/", views.route, name="route"),
    path("t/<str:key>/duplicate/", views.duplicate, name="duplicate"),
    path("t/<str:key>/mail/", views.mail, name="mail"),
    path("t/<str:key>/edit/", views.edit, name="edit"),
    path("t/<str:key>/log/", views.log_work, name="log"),
    path("t/<str:key>/estimate/", views.estimate_set, name="estimate"),
    path("t/<str:key>/fix/", releases.fix, name="fix"),
    path("t/<str:key>/quote/", views.quote_send, name="quote"),
    path("t/<str:key>/quote/<int:number>/<str:move>/", views.quote_answer, name="quote_answer"),
]
