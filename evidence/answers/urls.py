"""URLs of the CEK-11.1 answers and their exports (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.answers import views

urlpatterns: list = [
    path("answers/", views.AnswerListView.as_view(), name="answer-list"),
    path("answers/generate/", views.AnswerGenerateView.as_view(), name="answer-generate"),
    path("answers/<int:pk>/", views.AnswerDetailView.as_view(), name="answer-detail"),
    path("answers/<int:pk>/edit/", views.AnswerEditView.as_view(), name="answer-edit"),
    path("answers/<int:pk>/publish/", views.AnswerPublishView.as_view(), name="answer-publish"),
    path("answers/<int:pk>/template/", views.AnswerTemplateView.as_view(), name="answer-template"),
    path("answers/<int:pk>/export.<str:fmt>", views.AnswerExportView.as_view(), name="answer-export"),
]
