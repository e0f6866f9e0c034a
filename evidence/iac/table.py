"""What the gate knows about Terraform resource types, as data.

``KEY_TYPES``: resource types that create a key, where their tags live and what they can do. ``CONSUMERS``: one row
per (resource type, attribute path) that points at a key, with the purpose class that use gives the key. Adding a
consumer is adding a row; an attribute path is dotted, nested blocks included
(``rule.apply_server_side_encryption_by_default.kms_master_key_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# What a purpose class needs from its key: "encrypt" (a symmetric key the service can wrap data keys with) or "sign".
CLASS_NEEDS: dict[str, str] = {
    "data-encryption": "encrypt",
    "log-encryption": "encrypt",
    "secrets-encryption": "encrypt",
    "message-encryption": "encrypt",
    "model-encryption": "encrypt",
    "signing": "sign",
}


@dataclass(frozen=True)
class Consumer:
    resource_type: str
    attribute: str
    purpose_class: str
    service: str  # the cloud service, for messages

    @property
    def needs(self) -> str:
        return CLASS_NEEDS[self.purpose_class]


def _rows(*rows: tuple[str, str, str, str]) -> tuple[Consumer, ...]:
    return tuple(Consumer(*row) for row in rows)


CONSUMERS: tuple[Consumer, ...] = _rows(
    # AWS
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        "rule.apply_server_side_encryption_by_default.kms_master_key_id",
        "data-encryption",
        "Amazon S3",
    ),
    ("aws_ebs_volume", "kms_key_id", "data-encryption", "Amazon EBS"),
    ("aws_ebs_default_kms_key", "key_arn", "data-encryption", "Amazon EBS"),
    ("aws_db_instance", "kms_key_id", "data-encryption", "Amazon RDS"),
    ("aws_db_instance", "performance_insights_kms_key_id", "data-encryption", "Amazon RDS"),
    ("aws_rds_cluster", "kms_key_id", "data-encryption", "Amazon Aurora"),
    ("aws_dynamodb_table", "server_side_encryption.kms_key_arn", "data-encryption", "Amazon DynamoDB"),
    ("aws_cloudwatch_log_group", "kms_key_id", "log-encryption", "Amazon CloudWatch Logs"),
    ("aws_cloudtrail", "kms_key_id", "log-encryption", "AWS CloudTrail"),
    ("aws_lambda_function", "kms_key_arn", "secrets-encryption", "AWS Lambda (environment)"),
    ("aws_sqs_queue", "kms_master_key_id", "message-encryption", "Amazon SQS"),
    ("aws_sns_topic", "kms_master_key_id", "message-encryption", "Amazon SNS"),
    ("aws_secretsmanager_secret", "kms_key_id", "secrets-encryption", "AWS Secrets Manager"),
    ("aws_ssm_parameter", "key_id", "secrets-encryption", "AWS Systems Manager Parameter Store"),
    ("aws_eks_cluster", "encryption_config.provider.key_arn", "secrets-encryption", "Amazon EKS (secrets)"),
    ("aws_sagemaker_notebook_instance", "kms_key_id", "model-encryption", "Amazon SageMaker"),
    ("aws_sagemaker_endpoint_configuration", "kms_key_arn", "model-encryption", "Amazon SageMaker"),
    ("aws_sagemaker_domain", "kms_key_id", "model-encryption", "Amazon SageMaker"),
    (
        "aws_sagemaker_feature_group",
        "offline_store_config.s3_storage_config.kms_key_id",
        "model-encryption",
        "Amazon SageMaker",
    ),
    ("aws_bedrock_custom_model", "custom_model_kms_key_id", "model-encryption", "Amazon Bedrock"),
    ("aws_bedrockagent_agent", "customer_encryption_key_arn", "model-encryption", "Amazon Bedrock"),
    (
        "aws_bedrockagent_knowledge_base",
        "storage_configuration.opensearch_serverless_configuration.kms_key_arn",
        "model-encryption",
        "Amazon Bedrock",
    ),
    (
        "aws_bedrockagent_data_source",
        "server_side_encryption_configuration.kms_key_arn",
        "model-encryption",
        "Amazon Bedrock",
    ),
    ("aws_route53_key_signing_key", "key_management_service_arn", "signing", "Amazon Route 53 DNSSEC"),
    # Google Cloud
    ("google_storage_bucket", "encryption.default_kms_key_name", "data-encryption", "Cloud Storage"),
    ("google_bigquery_dataset", "default_encryption_configuration.kms_key_name", "data-encryption", "BigQuery"),
    ("google_bigquery_table", "encryption_configuration.kms_key_name", "data-encryption", "BigQuery"),
    ("google_vertex_ai_dataset", "encryption_spec.kms_key_name", "model-encryption", "Vertex AI"),
    ("google_vertex_ai_endpoint", "encryption_spec.kms_key_name", "model-encryption", "Vertex AI"),
    ("google_vertex_ai_featurestore", "encryption_spec.kms_key_name", "model-encryption", "Vertex AI"),
    ("google_vertex_ai_index", "encryption_spec.kms_key_name", "model-encryption", "Vertex AI"),
    ("google_vertex_ai_metadata_store", "encryption_spec.kms_key_name", "model-encryption", "Vertex AI"),
    ("google_vertex_ai_tensorboard", "encryption_spec.kms_key_name", "model-encryption", "Vertex AI"),
    ("google_container_cluster", "database_encryption.key_name", "secrets-encryption", "GKE (secrets)"),
    ("google_sql_database_instance", "encryption_key_name", "data-encryption", "Cloud SQL"),
    ("google_pubsub_topic", "kms_key_name", "message-encryption", "Pub/Sub"),
    (
        "google_secret_manager_secret",
        "replication.auto.customer_managed_encryption.kms_key_name",
        "secrets-encryption",
        "Secret Manager",
    ),
    ("google_logging_project_bucket_config", "cmek_settings.kms_key_name", "log-encryption", "Cloud Logging"),
    # Azure
    ("azurerm_storage_account_customer_managed_key", "key_vault_key_id", "data-encryption", "Azure Storage"),
    ("azurerm_mssql_server_transparent_data_encryption", "key_vault_key_id", "data-encryption", "Azure SQL (TDE)"),
    (
        "azurerm_cognitive_account",
        "customer_managed_key.key_vault_key_id",
        "model-encryption",
        "Azure AI services / OpenAI",
    ),
    (
        "azurerm_cognitive_account_customer_managed_key",
        "key_vault_key_id",
        "model-encryption",
        "Azure AI services / OpenAI",
    ),
    ("azurerm_machine_learning_workspace", "encryption.key_id", "model-encryption", "Azure Machine Learning"),
    ("azurerm_disk_encryption_set", "key_vault_key_id", "data-encryption", "Azure managed disks"),
    ("azurerm_log_analytics_cluster_customer_managed_key", "key_vault_key_id", "log-encryption", "Azure Monitor Logs"),
)


def consumers_by_type(rows: tuple[Consumer, ...] = CONSUMERS) -> dict[str, tuple[Consumer, ...]]:
    by_type: dict[str, list[Consumer]] = {}
    for row in rows:
        by_type.setdefault(row.resource_type, []).append(row)
    return {name: tuple(found) for name, found in by_type.items()}


# --- key resource types ------------------------------------------------------------------------------------------

Capability = tuple[frozenset[str] | None, str]  # (what the key can do, or None when unknown; how the plan says it)


def _aws_capability(values: Mapping[str, Any]) -> Capability:
    usage = values.get("key_usage") or "ENCRYPT_DECRYPT"
    spec = values.get("customer_master_key_spec") or values.get("key_spec") or "SYMMETRIC_DEFAULT"
    said = f"key_usage={usage}, customer_master_key_spec={spec}"
    if usage == "ENCRYPT_DECRYPT" and spec == "SYMMETRIC_DEFAULT":
        return frozenset({"encrypt"}), said
    if usage == "SIGN_VERIFY":
        return frozenset({"sign"}), said
    return frozenset({usage.lower()}), said  # asymmetric ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT


def _google_capability(values: Mapping[str, Any]) -> Capability:
    purpose = values.get("purpose") or "ENCRYPT_DECRYPT"
    said = f"purpose={purpose}"
    if purpose == "ENCRYPT_DECRYPT":
        return frozenset({"encrypt"}), said
    if purpose == "ASYMMETRIC_SIGN":
        return frozenset({"sign"}), said
    return frozenset({purpose.lower()}), said  # ASYMMETRIC_DECRYPT, MAC, RAW_ENCRYPT_DECRYPT: no CMEK


def _azure_capability(values: Mapping[str, Any]) -> Capability:
    key_type = values.get("key_type") or ""
    opts = values.get("key_opts")
    if not key_type or not isinstance(opts, list):
        return None, ""
    said = f"key_type={key_type}, key_opts={','.join(map(str, opts))}"
    can: set[str] = set()
    if key_type.startswith("RSA") and {"wrapKey", "unwrapKey"} <= set(opts):
        can.add("encrypt")  # Azure services take RSA keys that can wrap and unwrap
    if "sign" in opts:
        can.add("sign")
    return frozenset(can), said


_VAULT_SIGNING = ("ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521")


def _vault_capability(values: Mapping[str, Any]) -> Capability:
    key_type = values.get("type") or "aes256-gcm96"
    said = f"type={key_type}"
    if key_type in ("aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"):
        return frozenset({"encrypt"}), said
    if key_type in _VAULT_SIGNING:
        return frozenset({"sign"}), said
    if key_type.startswith("rsa-"):
        return frozenset({"encrypt", "sign"}), said
    return frozenset({key_type}), said


@dataclass(frozen=True)
class KeyType:
    resource_type: str
    provider: str  # "aws", "gcp", "azure", "vault": matches the inventory store kinds
    tags: str | None  # the attribute holding its tags/labels; None: the type cannot carry tags
    capability: Callable[[Mapping[str, Any]], Capability]


KEY_TYPES: dict[str, KeyType] = {
    kt.resource_type: kt
    for kt in (
        KeyType("aws_kms_key", "aws", "tags", _aws_capability),
        KeyType("aws_kms_replica_key", "aws", "tags", lambda values: (None, "")),  # its primary's
        KeyType("google_kms_crypto_key", "gcp", "labels", _google_capability),
        KeyType("azurerm_key_vault_key", "azure", "tags", _azure_capability),
        KeyType("vault_transit_secret_backend_key", "vault", None, _vault_capability),
    )
}
ALIAS_TYPE = "aws_kms_alias"  # name -> target_key_id

# Where a resource keeps its tags, by provider prefix of its type.
TAG_ATTRIBUTES = {"aws_": ("tags", "tags_all"), "google_": ("labels",), "azurerm_": ("tags",)}


def tags_of(resource_type: str, values: Mapping[str, Any]) -> dict[str, str]:
    for prefix, attributes in TAG_ATTRIBUTES.items():
        if resource_type.startswith(prefix):
            merged: dict[str, str] = {}
            for attribute in reversed(attributes):  # the first one wins
                found = values.get(attribute)
                if isinstance(found, dict):
                    merged.update({str(k): str(v) for k, v in found.items() if isinstance(v, (str, int, float))})
            return merged
    return {}
