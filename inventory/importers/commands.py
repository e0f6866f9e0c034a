"""The shell commands that export each platform's key metadata into a file the import reads.

The import page shows them under each format (the README carries the same text for command-line users), so the
person importing does not have to leave the app to find them. None of them returns key material.
"""

from __future__ import annotations

AWS_KMS = """# One account and Region (needs jq). Tag errors are not swallowed: an empty fallback would clear tags.
REGION=eu-west-1
kms() { aws kms "$@" --region "$REGION" --output json; }
for id in $(aws kms list-keys --region "$REGION" --query 'Keys[].KeyId' --output text); do
  key=$(kms describe-key --key-id "$id")
  tags=$(kms list-resource-tags --key-id "$id")
  aliases=$(kms list-aliases --key-id "$id")
  rotation=$(kms get-key-rotation-status --key-id "$id" 2>/dev/null || echo '{}')  # none for asymmetric/HMAC keys
  jq -n --argjson k "$key" --argjson t "$tags" --argjson a "$aliases" --argjson r "$rotation" \\
    '$k + {Tags: $t.Tags, Aliases: $a.Aliases} + ($r | {KeyRotationEnabled, RotationPeriodInDays, NextRotationDate})'
done | jq -s . > aws-kms-keys.json"""

GCP_KMS = """# One key ring
gcloud kms keys list --location LOCATION --keyring KEY_RING --format=json > gcp-kms-keys.json
# or every key ring of a location
for r in $(gcloud kms keyrings list --location LOCATION --format="value(name)"); do
  gcloud kms keys list --keyring "$r" --format=json; done | jq -s add > gcp-kms-keys.json"""

AZURE_KV = """# For a Managed HSM use --hsm-name HSM instead of --vault-name
az keyvault key list --vault-name VAULT --include-managed true --query "[].name" -o tsv | while read -r k; do
  az keyvault key show --vault-name VAULT --name "$k"; done | jq -s . > azure-kv-keys.json"""

VAULT_TRANSIT = """# Each result with its path; the policy needs only list on transit/keys and read on transit/keys/*
MOUNT=transit
vault list -format=json "$MOUNT/keys" | jq -r '.[]' | while read -r k; do
  vault read -format=json "$MOUNT/keys/$k" | jq --arg p "$MOUNT/keys/$k" '. + {path: $p}'
done | jq -s . > vault-transit.json"""

VAULT_KV = """# KV v2 metadata only (never kv get), recursively, each with its metadata path
MOUNT=secret
kv_list() { vault list -format=json "$MOUNT/metadata/$1" | jq -r '.[]' | while read -r e; do
  case "$e" in */) kv_list "$1$e" ;; *) echo "$1$e" ;; esac; done; }
kv_list "" | while read -r p; do
  vault kv metadata get -format=json -mount="$MOUNT" "$p" | jq --arg p "$MOUNT/metadata/$p" '. + {path: $p}'
done | jq -s . > vault-kv.json"""

CBOM = """# This app's own CBOM (imports back unchanged), or a CycloneDX 1.6/1.7 CBOM from cbomkit or sonar-cryptography
manage.py export_keys --format cbom --output keys.cbom.json"""

EXPORT_COMMANDS: dict[str, str] = {
    "aws-kms": AWS_KMS,
    "gcp-kms": GCP_KMS,
    "azure-kv": AZURE_KV,
    "vault-transit": VAULT_TRANSIT,
    "vault-kv": VAULT_KV,
    "cbom": CBOM,
}
