"""IaC gate benchmark: a generated Terraform plan through ``manage.py check_iac``'s gate.

    .venv/bin/python benchmarks/iac.py [--resources 5000] [--keys 1000] [--scale 10] [--max-seconds 2]

Writes a plan in the ``terraform show -json`` shape (format 1.2) with ``--keys`` KMS keys created in the plan
(their ARNs unknown until apply, so consumers reach them only through ``configuration`` references, half of them
from child modules through module outputs) and ``--resources`` resources in all, the others consumers drawn from
the consumer table (S3, EBS, RDS, CloudWatch Logs, Lambda, SQS, SNS, Secrets Manager, SageMaker), a few per cent
of the keys shared across purposes or services. It then times (best of ``--repeat`` runs) reading the file, the gate and the JSON report
(the inventory lookup is an in-memory stub: in the command it is one query for the literal references), prints
the time and the violations, and does the same for a plan ``--scale`` times larger and prints the ratio of the
two times (linear: about ``--scale``; the gate's work per resource is constant, each function is called
exactly ``--scale`` times as often, and what the ratio shows beyond that is the larger heap's cache misses).

Exit status 1 when the first plan takes longer than ``--max-seconds`` (2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONSUMERS = [  # (type, attribute path)
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        "rule.apply_server_side_encryption_by_default.kms_master_key_id",
    ),
    ("aws_ebs_volume", "kms_key_id"),
    ("aws_db_instance", "kms_key_id"),
    ("aws_cloudwatch_log_group", "kms_key_id"),
    ("aws_lambda_function", "kms_key_arn"),
    ("aws_sqs_queue", "kms_master_key_id"),
    ("aws_sns_topic", "kms_master_key_id"),
    ("aws_secretsmanager_secret", "kms_key_id"),
    ("aws_sagemaker_notebook_instance", "kms_key_id"),
]
MODULES = 20


def _nest(path: list[str], leaf: dict) -> dict:
    """The expressions of one attribute path: nested blocks are lists of objects, as in the plan."""
    node = {path[-1]: leaf}
    for segment in reversed(path[:-1]):
        node = {segment: [node]}
    return node


def generate(resources: int, keys: int, seed: int = 14) -> dict:
    rng = random.Random(seed)
    root_values, root_config = [], []
    modules = {f"kms{m}": {"values": [], "config": [], "outputs": {}} for m in range(MODULES)}
    changes = []
    key_refs = []  # (reference from the root module)
    for k in range(keys):
        values = {
            "description": f"key {k}",
            "key_usage": "ENCRYPT_DECRYPT",
            "enable_key_rotation": True,
            "tags": {"purpose": "data-encryption"} if k % 50 else {},
        }
        if k % 2:  # in a child module, reached through its output
            module = f"kms{k % MODULES}"
            name = f"k{k}"
            address = f"module.{module}.aws_kms_key.{name}"
            modules[module]["values"].append(
                {
                    "address": address,
                    "mode": "managed",
                    "type": "aws_kms_key",
                    "name": name,
                    "values": values,
                    "sensitive_values": {},
                }
            )
            modules[module]["config"].append(
                {
                    "address": f"aws_kms_key.{name}",
                    "mode": "managed",
                    "type": "aws_kms_key",
                    "name": name,
                    "expressions": {},
                }
            )
            modules[module]["outputs"][f"{name}_arn"] = {
                "expression": {"references": [f"aws_kms_key.{name}.arn", f"aws_kms_key.{name}"]}
            }
            key_refs.append([f"module.{module}.{name}_arn", f"module.{module}"])
        else:
            address = f"aws_kms_key.k{k}"
            root_values.append(
                {
                    "address": address,
                    "mode": "managed",
                    "type": "aws_kms_key",
                    "name": f"k{k}",
                    "values": values,
                    "sensitive_values": {},
                }
            )
            root_config.append(
                {
                    "address": address,
                    "mode": "managed",
                    "type": "aws_kms_key",
                    "name": f"k{k}",
                    "expressions": {"description": {"constant_value": f"key {k}"}},
                }
            )
            key_refs.append([f"aws_kms_key.k{k}.arn", f"aws_kms_key.k{k}"])
        changes.append(address)
    for c in range(resources - keys):
        k = c % keys
        rtype, attribute = CONSUMERS[k % len(CONSUMERS)]
        if k % 40 == 0:  # a few keys shared across purposes
            rtype, attribute = CONSUMERS[(k + c) % len(CONSUMERS)]
        service = f"svc{k % 97}" if k % 30 else f"svc{rng.randrange(97)}"
        name = f"c{c}"
        address = f"{rtype}.{name}"
        root_values.append(
            {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": name,
                "values": {"name": name, "tags": {"service": service}},
                "sensitive_values": {},
            }
        )
        root_config.append(
            {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": name,
                "expressions": _nest(attribute.split("."), {"references": key_refs[k]}),
            }
        )
        changes.append(address)
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {
            "root_module": {
                "resources": root_values,
                "child_modules": [
                    {"address": f"module.{m}", "resources": body["values"]} for m, body in modules.items()
                ],
            }
        },
        "resource_changes": [{"address": a, "change": {"actions": ["create"]}} for a in changes],
        "configuration": {
            "root_module": {
                "resources": root_config,
                "module_calls": {
                    m: {
                        "source": f"./modules/{m}",
                        "expressions": {},
                        "module": {"resources": body["config"], "outputs": body["outputs"]},
                    }
                    for m, body in modules.items()
                },
            }
        },
    }


def run_gate(path: Path) -> tuple[float, object]:
    from evidence.iac.formats import render
    from evidence.iac.gate import scan
    from evidence.iac.plan import read_plan
    from evidence.iac.selectors import TagKeys

    started = time.perf_counter()
    result = scan(read_plan(path, max_bytes=1 << 31), lookup=lambda refs: {}, tag_keys=TagKeys())
    render(result, "json", artifact=str(path))
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3, help="Runs per plan; the best time counts.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    if not os.environ.get("CEK_SECRET_KEY") and not os.environ.get("CEK_SECRET_KEY_FILE"):
        os.environ["CEK_DEBUG"] = "1"
    import django

    django.setup()
    times = []
    with tempfile.TemporaryDirectory(prefix="cek-iac-bench-") as folder:
        for factor in (1, args.scale):
            path = Path(folder) / f"plan-{factor}.json"
            path.write_text(json.dumps(generate(args.resources * factor, args.keys * factor)))
            seconds, result = run_gate(path)
            for _ in range(args.repeat - 1):
                seconds = min(seconds, run_gate(path)[0])
            times.append(seconds)
            print(
                f"{result.resources:>7} resources, {result.keys:>6} keys, {result.consumers:>6} consumer attributes, "
                f"{path.stat().st_size / 1e6:6.1f} MB: {seconds:.3f} s, {len(result.violations)} violations "
                f"{result.counts}"
            )
    ratio = times[1] / times[0]
    print(f"ratio {args.scale}x plan / 1x plan: {ratio:.1f} (linear: about {args.scale})")
    if times[0] > args.max_seconds:
        print(f"MISSED: the {args.resources}-resource plan took {times[0]:.3f} s (> {args.max_seconds} s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
