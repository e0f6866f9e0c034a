"""``/api/v1/`` routes of the evidence app. URL names are ``api-<basename>-list/-detail``."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from evidence.answers import api as answers_api
from evidence.campaigns import api as campaigns_api
from evidence.checks import api as checks_api
from evidence.findings import api as findings_api
from evidence.iac import api as iac_api
from evidence.packs import api as packs_api
from evidence.policies import api as policies_api
from evidence.reviews import api as reviews_api
from evidence.usage import api as usage_api

router = SimpleRouter()
router.register("check-runs", checks_api.CheckRunViewSet, basename="api-check-run")
router.register("caiq-answers", answers_api.CaiqAnswerViewSet, basename="api-caiq-answer")
router.register("iac-scans", iac_api.IacScanViewSet, basename="api-iac-scan")
router.register("usage-ingestions", usage_api.UsageIngestionViewSet, basename="api-usage-ingestion")
router.register("usage", usage_api.UsageAggregateViewSet, basename="api-usage")
router.register("findings", findings_api.FindingViewSet, basename="api-finding")
router.register("packs", packs_api.PackViewSet, basename="api-pack")
router.register("campaigns", campaigns_api.CampaignViewSet, basename="api-campaign")
router.register("attestations", campaigns_api.AttestationViewSet, basename="api-attestation")
router.register("policies", policies_api.PolicyViewSet, basename="api-policy")
router.register("policy-versions", policies_api.PolicyVersionViewSet, basename="api-policy-version")
router.register("policy-reviews", reviews_api.PolicyReviewViewSet, basename="api-policy-review")
router.register("change-events", reviews_api.ChangeEventViewSet, basename="api-change-event")
router.register("evaluations", reviews_api.EvaluationViewSet, basename="api-evaluation")

urlpatterns = router.urls
