"""``/api/v1/`` routes of the evidence app. URL names are ``api-<basename>-list/-detail``."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from evidence import api_answers
from evidence.checks import api as checks_api

router = SimpleRouter()
router.register("check-runs", checks_api.CheckRunViewSet, basename="api-check-run")
router.register("caiq-answers", api_answers.CaiqAnswerViewSet, basename="api-caiq-answer")

urlpatterns = router.urls
