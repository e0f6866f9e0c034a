"""URLs of the CEK-11.1 answers and their exports (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.views import answers

urlpatterns: list = [
    path("answers/", answers.AnswerListView.as_view(), name="answer-list"),
    path("answers/generate/", answers.AnswerGenerateView.as_view(), name="answer-generate"),
    path("answers/<int:pk>/", answers.AnswerDetailView.as_view(), name="answer-detail"),
    path("answers/<int:pk>/edit/", answers.AnswerEditView.as_view(), name="answer-edit"),
    path("answers/<int:pk>/publish/", answers.AnswerPublishView.as_view(), name="answer-publish"),
    path("answers/<int:pk>/template/", answers.AnswerTemplateView.as_view(), name="answer-template"),
    path("answers/<int:pk>/export.<str:fmt>", answers.AnswerExportView.as_view(), name="answer-export"),
]
