"""URLs of policy reviews, significant changes and effectiveness evaluations (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.reviews import views

urlpatterns = [
    path("policies/<int:pk>/reviews/new/", views.ReviewCreateView.as_view(), name="review-create"),
    path("changes/", views.ChangeEventListView.as_view(), name="changeevent-list"),
    path("changes/new/", views.ChangeEventFormView.as_view(), name="changeevent-create"),
    path("changes/<int:pk>/", views.ChangeEventDetailView.as_view(), name="changeevent-detail"),
    path("changes/<int:pk>/edit/", views.ChangeEventFormView.as_view(), name="changeevent-update"),
    path("evaluations/", views.EvaluationListView.as_view(), name="evaluation-list"),
    path("evaluations/new/", views.EvaluationFormView.as_view(), name="evaluation-create"),
    path("evaluations/<int:pk>/", views.EvaluationDetailView.as_view(), name="evaluation-detail"),
    path("evaluations/<int:pk>/edit/", views.EvaluationFormView.as_view(), name="evaluation-update"),
]
