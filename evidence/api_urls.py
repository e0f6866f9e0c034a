"""``/api/v1/`` routes of the evidence app. URL names are ``api-<basename>-list/-detail``."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from evidence import api_answers, api_checks

router = SimpleRouter()
router.register("check-runs", api_checks.CheckRunViewSet, basename="api-check-run")
router.register("caiq-answers", api_answers.CaiqAnswerViewSet, basename="api-caiq-answer")

urlpatterns = router.urls
