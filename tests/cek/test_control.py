"""The control catalog: the YAML holds every element of CEK-11, the loader validates it, the control page
shows it to every role, and other pages can link a guideline ID to its text."""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path

import pytest
import yaml
from django.template import Context, Template
from django.urls import reverse

from cek import control as control_module
from cek.control import (
    CATALOG_PATH,
    ControlCatalogError,
    GapLevel,
    GuidelineKind,
    load_control,
    parse_control,
)
from inventory import models as inventory_models


@pytest.fixture
def control():
    return load_control()


@pytest.fixture
def catalog_data() -> dict:
    """The shipped catalog as plain data, for tests that break it on purpose."""
    return yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))


def write_catalog(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- The catalog holds every element ---------------------------------------------------------------


def test_the_control_is_cek_11_key_purpose_in_aicm_1_1_0(control):
    assert control.id == "CEK-11"
    assert control.version == "AICM 1.1.0"
    assert control.qualified_id == "CEK-11 (AICM 1.1.0)"
    assert control.title == "Key Purpose"
    assert control.category == "Cloud & AI Related"
    assert (control.domain.id, control.domain.title) == ("CEK", "Cryptography, Encryption & Key Management")
    assert control.specification == (
        "Manage cryptographic secret and private keys that are provisioned for a unique purpose."
    )
    assert "AICM 1.1.1" in control.unchanged_in


def test_the_catalog_holds_every_element_of_the_control(control):
    assert [g.id for g in control.implementation_guidelines] == [f"IG-{n}" for n in range(1, 7)]
    assert [g.id for g in control.aicm_auditing_guidelines] == [f"AG-{n}" for n in range(1, 11)]
    assert [g.id for g in control.ccm_auditing_guidelines] == ["CCM-1", "CCM-2", "CCM-3"]
    assert len(control.threat_categories) == 9
    assert len(control.architectural_relevance) == 6
    assert len(control.lifecycle) == 6
    assert len(control.ssrm) == 4
    assert [m.standard for m in control.standards_mappings] == ["ISO 42001", "EU AI Act", "NIST AI 600-1", "BSI AIC4"]
    assert [q.id for q in control.questions] == ["CEK-11.1"]


def test_threats_and_architectural_relevance_are_named_as_in_the_control(control):
    assert [t.name for t in control.threat_categories] == [
        "Model manipulation",
        "Data poisoning",
        "Sensitive data disclosure",
        "Model theft",
        "Model/Service Failure",
        "Insecure supply chain",
        "Insecure apps/plugins",
        "Denial of Service",
        "Loss of governance",
    ]
    assert [a.name for a in control.architectural_relevance] == [
        "Physical infrastructure",
        "Network",
        "Compute",
        "Storage",
        "Application",
        "Data",
    ]


def test_the_texts_are_verbatim(control):
    assert control.guideline("AG-3").text == (
        "Verify that technical and procedural controls prevent the reuse of a single key or secret for multiple "
        "cryptographic purposes across different cloud services or layers."
    )
    assert control.guideline("AG-10").text.endswith(
        "are purpose-scoped and contractually or technically restricted from being reused for unrelated tasks "
        "or services."
    )
    assert control.guideline("CCM-2").text == (
        "Identify cryptographic secret and private keys that have been provisioned for a unique purpose."
    )
    # The typographic apostrophe (U+2019) is the control's own; a line wrapped in the source is one sentence here.
    assert control.guideline("IG-4").text == (
        "Apply the approved policies and procedures to all systems, services, and processes under the role\u2019s control."
    )
    assert control.guideline("IG-5").text == (
        "Evaluate the effectiveness of policy and procedure implementation using internal audits, technical "
        "reviews, and encryption control validations."
    )
    assert control.question("CEK-11.1").text == (
        "Are cryptographic secrets and private keys that are provisioned for a unique purpose properly managed?"
    )
    assert control.implementation_scope == "All Actors"
    assert control.implementation_note == "Applies to all Roles (Baseline) before application of role context."


def test_no_text_keeps_a_line_break_or_double_space_from_the_yaml(control):
    texts = [g.text for g in control.guidelines] + [s.text for s in control.ssrm]
    texts += [m.addendum for m in control.standards_mappings] + [control.attribution.text]
    for text in texts:
        assert "\n" not in text
        assert "  " not in text
        assert text == text.strip()


def test_every_id_carries_the_catalog_version(control):
    assert {g.version for g in control.guidelines} == {"AICM 1.1.0"}
    assert control.question("CEK-11.1").version == "AICM 1.1.0"
    assert control.guideline("AG-3").qualified_id == "CEK-11 AG-3 (AICM 1.1.0)"
    assert control.question("CEK-11.1").qualified_id == "CEK-11.1 (AICM 1.1.0)"


def test_the_lifecycle_gives_each_phase_its_applicability(control):
    by_phase = {phase.phase: phase for phase in control.lifecycle}
    assert by_phase["preparation"].applicability == "Data storage"
    assert by_phase["development"].applicability == "Guardrails"
    assert by_phase["evaluation"].applicable is False
    assert by_phase["evaluation"].applicability == "Not applicable"
    assert by_phase["evaluation"].activities == ()
    assert by_phase["deployment"].activities == ("Orchestration", "AI Services supply chain", "AI applications")
    assert by_phase["delivery"].applicability == (
        "Operations, Maintenance, Continuous monitoring, Continuous improvement"
    )
    assert by_phase["retirement"].activities == ("Archiving", "Data deletion", "Model disposal")
    assert [p.phase for p in control.lifecycle_applicable] == [
        "preparation",
        "development",
        "deployment",
        "delivery",
        "retirement",
    ]


def test_ssrm_ownership_per_layer(control):
    pi = control.ssrm_for("pi")
    assert pi.name == "Cloud/AI Processing Infrastructure"
    assert pi.former_name == "GenAI OPS/Processing Infrastructure"
    assert (pi.ownership, pi.owners, pi.is_shared) == ("Shared CSP-MP", ("CSP", "MP"), True)
    assert pi.label == "Shared Cloud Service Provider-Model Provider (Shared CSP-MP)"
    assert pi.text.startswith("The CSP and MP are jointly responsible and accountable")

    model = control.ssrm_for(inventory_models.SsrmLayer.MODEL)
    assert (model.ownership, model.owners, model.is_shared) == ("MP-Owned", ("MP",), False)
    assert model.label == "Owned by the Model Provider (MP)"
    assert model.text.endswith(
        "Examples: OpenAI (GPT, DALL-E, Whisper), Anthropic(Claude), Google(Gemini), Meta(Llama), as well as any "
        "customized model."
    )

    orchestrated = control.ssrm_for("orchestrated")
    assert (orchestrated.ownership, orchestrated.owners) == ("Shared MP-OSP", ("MP", "OSP"))
    assert orchestrated.label == "Shared Model Provider-Orchestrated Service Provider (Shared MP-OSP)"
    application = control.ssrm_for("application")
    assert (application.ownership, application.owners) == ("Shared OSP-AP", ("OSP", "AP"))
    assert application.text.startswith("The OSP and AP are jointly responsible")


def test_catalog_codes_match_the_inventory_choices(control):
    # cek must not import inventory, so the codes are repeated in the catalog; this keeps them in step.
    assert [row.layer for row in control.ssrm] == list(inventory_models.SsrmLayer.values)
    assert set(control_module.SSRM_LAYERS) == set(inventory_models.SsrmLayer.values)
    assert set(control_module.SSRM_ROLES) == set(inventory_models.SsrmRole.values)
    assert {row.name for row in control.ssrm} <= set(inventory_models.SsrmLayer.labels)
    assert [a.code for a in control.architectural_relevance] == list(inventory_models.ArchitecturalLayer.values)
    assert [p.phase for p in control.lifecycle] == list(inventory_models.LifecyclePhase.values)


def test_standards_mappings_carry_gap_levels_and_addenda(control):
    by_standard = {m.standard: m for m in control.standards_mappings}
    iso = by_standard["ISO 42001"]
    assert iso.gap is GapLevel.PARTIAL
    assert iso.gap.label == "Partial Gap"
    assert iso.mapping == "No Mapping for ISO 42001"
    assert [str(ref) for ref in iso.references] == ["ISO 27001: A.8.24", "ISO 27002: 8.24"]
    assert "addressing the gap in ISO 42001:2023\u2019s lack of specific key management requirements" in iso.addendum
    assert (by_standard["EU AI Act"].gap, by_standard["EU AI Act"].addendum) == (
        GapLevel.FULL,
        "Cover the AICM control.",
    )
    assert by_standard["NIST AI 600-1"].gap is GapLevel.FULL
    assert by_standard["NIST AI 600-1"].addendum.startswith(
        "No (implicit/explicit) reference to cryptography, encryption, or key management is made in the NIST AI "
        "600-1 standard"
    )
    bsi = by_standard["BSI AIC4"]
    assert (bsi.gap, bsi.mapping, bsi.addendum) == (GapLevel.NONE, "CRY-04", "N/A")
    assert bsi.gap.css_class == "gap-none"


def test_the_ccm_v4_lineage_keeps_the_caiq_v4_wording(control):
    (ccm,) = control.lineage
    assert (ccm.framework, ccm.version, ccm.id, ccm.relation) == ("CCM", "CCM v4", "CEK-11", "unchanged")
    (question,) = ccm.questions
    assert (question.id, question.version) == ("CEK-11.1", "CAIQ v4")
    assert question.text == "Are private keys provisioned for a unique purpose managed, and is cryptography secret?"


def test_it_attributes_the_text_to_csa_and_says_workbooks_are_not_bundled(control):
    assert "Cloud Security Alliance" in control.attribution.text
    assert "not bundled" in control.attribution.licence_note


# --- Helpers ----------------------------------------------------------------------------------------


def test_auditing_guidelines_list_aicm_then_ccm_in_order(control):
    ids = [g.id for g in control.auditing_guidelines]
    assert ids == [f"AG-{n}" for n in range(1, 11)] + ["CCM-1", "CCM-2", "CCM-3"]
    assert {g.kind for g in control.auditing_guidelines} == {GuidelineKind.AUDITING, GuidelineKind.CCM}
    assert control.guideline("AG-7").number == 7


def test_an_unknown_guideline_or_layer_names_what_exists(control):
    with pytest.raises(KeyError, match="no guideline 'AG-11'; expected one of: IG-1"):
        control.guideline("AG-11")
    with pytest.raises(KeyError, match="expected one of: pi, model, orchestrated, application"):
        control.ssrm_for("edge")
    assert control.has_guideline("CCM-3")
    assert not control.has_guideline("CCM-4")


def test_the_control_is_frozen_and_loaded_once(control):
    assert load_control() is control
    with pytest.raises(dataclasses.FrozenInstanceError):
        control.title = "Something else"  # type: ignore[misc]
    assert isinstance(control.guidelines, tuple)


def test_the_catalog_module_does_not_import_inventory_or_evidence():
    modules = sorted(Path(control_module.__file__).parent.glob("*.py"))  # the package: every module of it
    assert len(modules) > 1
    imported = set()
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert not {name for name in imported if name.split(".")[0] in {"inventory", "evidence"}}


# --- Validation -------------------------------------------------------------------------------------


def test_a_missing_key_is_named_with_its_place(tmp_path, catalog_data):
    del catalog_data["control"]["specification"]
    with pytest.raises(ControlCatalogError, match=r"catalog\.yaml: missing key 'specification' in control$"):
        load_control(write_catalog(tmp_path, catalog_data))


def test_a_missing_key_in_a_list_item_names_the_item(tmp_path, catalog_data):
    del catalog_data["control"]["ssrm"][2]["owners"]
    with pytest.raises(ControlCatalogError, match=r"missing key 'owners' in control\.ssrm\[2\]"):
        load_control(write_catalog(tmp_path, catalog_data))


def test_invalid_yaml_is_reported_as_a_catalog_error(tmp_path):
    with pytest.raises(ControlCatalogError, match=r"catalog\.yaml: not valid YAML"):
        load_control(write_catalog(tmp_path, "control: [unclosed\n"))


def test_a_document_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(ControlCatalogError, match="the document must be a mapping, got a list"):
        load_control(write_catalog(tmp_path, "- just\n- a list\n"))


def test_a_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(ControlCatalogError, match="cannot read the control catalog"):
        load_control(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: d["control"]["standards_mappings"][0].update(gap="some"), "gap is 'some'; expected one of: none"),
        (lambda d: d["control"]["ssrm"][0].update(layer="edge"), "layer is 'edge'; expected one of: pi, model"),
        (lambda d: d["control"]["ssrm"][1].update(owners=["MP", "ZZ"]), "owners names 'ZZ'; expected SSRM role"),
        (lambda d: d["control"]["ssrm"].pop(3), r"no entry for SSRM layer\(s\): application"),
        (
            lambda d: d["control"]["auditing_guidelines"]["items"].pop(2),
            r"auditing_guidelines\.items\[2\]\.id is 'AG-4'; expected 'AG-3'",
        ),
        (lambda d: d["control"]["lifecycle"][2].update(applicable="no"), "applicable must be true or false"),
        (
            lambda d: d["control"]["lifecycle"][2].update(applicability="Sometimes"),
            "applicability must be 'Not applicable' when applicable is false",
        ),
        (lambda d: d["control"]["threat_categories"].append(d["control"]["threat_categories"][0]), "twice"),
        (lambda d: d["control"].update(title="  "), "control.title must not be empty"),
        (lambda d: d["control"].update(unchanged_in="AICM 1.1.1"), "unchanged_in must be a list, got a text"),
        (lambda d: d.update(schema=2), "reads schema 1"),
    ],
)
def test_a_malformed_catalog_gives_a_clear_error(catalog_data, breakage, message):
    data = copy.deepcopy(catalog_data)
    breakage(data)
    with pytest.raises(ControlCatalogError, match=message):
        parse_control(data)


# --- The control page -------------------------------------------------------------------------------


def test_the_control_page_is_readable_by_every_role_and_no_one_else(role):
    name, _user, client = role
    response = client.get(reverse("control"))
    if name in {"grc", "owner", "other_owner", "auditor"}:
        assert response.status_code == 200
        assert response.templates[0].name == "cek/control.html"
    elif name == "outsider":
        assert response.status_code == 403
    else:  # anonymous, and an auditor whose access has expired
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("client_fixture", ["grc_client", "owner_client", "auditor_client"])
def test_the_control_page_shows_the_whole_control(db, request, client_fixture, control):
    client = request.getfixturevalue(client_fixture)
    response = client.get(reverse("control"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "CEK-11",
        "Key Purpose",
        "AICM 1.1.0",
        "Cryptography, Encryption &amp; Key Management",
        control.specification,
        "Model/Service Failure",
        "Physical infrastructure",
        "Orchestration, AI Services supply chain, AI applications",
        "Not applicable",
        "Shared CSP-MP",
        "MP-Owned",
        "Shared MP-OSP",
        "Shared OSP-AP",
        "GenAI OPS/Processing Infrastructure",
        "Anthropic(Claude)",
        "Applies to all Roles (Baseline) before application of role context.",
        "under the role\u2019s control.",
        "ISO 27001: A.8.24",
        "CRY-04",
        "Are cryptographic secrets and private keys that are provisioned for a unique purpose properly managed?",
        "Are private keys provisioned for a unique purpose managed, and is cryptography secret?",
        "not bundled",
    ):
        assert text in html, text
    for guideline in control.guidelines:
        assert guideline.text in html, guideline.id


def test_every_guideline_and_the_question_has_an_anchor(grc_client, control):
    html = grc_client.get(reverse("control")).content.decode()
    for guideline in control.guidelines:
        assert html.count(f'id="{guideline.id}"') == 1, guideline.id
        assert f'href="#{guideline.id}"' in html
    assert 'id="CEK-11.1"' in html
    for layer in ("pi", "model", "orchestrated", "application"):
        assert f'id="ssrm-{layer}"' in html


def test_gap_levels_are_styled(grc_client):
    html = grc_client.get(reverse("control")).content.decode()
    assert '<strong class="gap-partial">Partial Gap</strong>' in html
    assert html.count('<strong class="gap-full">Full Gap</strong>') == 2
    assert '<strong class="gap-none">No Gap</strong>' in html


def test_the_page_escapes_catalog_text(grc_client, catalog_data, monkeypatch):
    catalog_data["control"]["specification"] = "<script>alert(1)</script> & more"
    catalog_data["control"]["auditing_guidelines"]["items"][0]["text"] = '<img src=x onerror="x()">'
    hostile = parse_control(catalog_data)
    monkeypatch.setattr("cek.control_views.load_control", lambda: hostile)
    html = grc_client.get(reverse("control")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<img src=x" not in html


def test_the_template_never_marks_catalog_text_safe():
    source = (Path(__file__).resolve().parents[2] / "templates" / "cek" / "control.html").read_text(encoding="utf-8")
    assert "|safe" not in source
    assert "autoescape off" not in source


# --- Template tags ----------------------------------------------------------------------------------


def render(source: str, **context) -> str:
    return Template("{% load control %}" + source).render(Context(context))


def test_guideline_link_links_the_id_to_its_anchor_with_the_text_as_title(control):
    html = render('{{ "AG-3"|guideline_link }}')
    assert html == (
        f'<a class="guideline-link" href="{reverse("control")}#AG-3" title="{control.guideline("AG-3").text}">AG-3</a>'
    )
    assert reverse("control") == "/control/"


def test_guideline_link_accepts_a_guideline_and_escapes_the_title(control):
    html = render("{{ g|guideline_link }}", g=control.guideline("IG-4"))
    assert 'href="/control/#IG-4"' in html
    assert "role&#x27;s" not in html  # the typographic apostrophe needs no escaping
    assert "role\u2019s control." in html
    html = render("{{ g|guideline_link }}", g=control.guideline("AG-1"))
    assert 'title="Verify that the CSP assigns cryptographic keys and secrets (e.g., tenant keys' in html


def test_an_unknown_guideline_id_renders_as_escaped_text():
    assert render("{{ value|guideline_link }}", value="AG-99") == "AG-99"
    assert render("{{ value|guideline_link }}", value="<b>AG-1</b>") == "&lt;b&gt;AG-1&lt;/b&gt;"
    assert render('{% guideline_text "AG-99" %}') == ""
    assert render('{% guideline_url "AG-99" %}') == "/control/"


def test_guideline_text_and_url_tags(control):
    assert render('{% guideline_text "CCM-1" %}') == control.guideline("CCM-1").text
    assert render('{% guideline_url "AG-10" %}') == "/control/#AG-10"
    assert render('{% guideline_text "IG-2" as text %}{{ text|length }}') == str(len(control.guideline("IG-2").text))
