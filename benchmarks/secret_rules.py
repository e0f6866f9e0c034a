"""Detection rules compared: this app's validator (``cek.keymaterial``) and detect-secrets' default plugins.

    .venv/bin/python benchmarks/secret_rules.py [--details]

Runs the key-material corpus of ``tests/corpus/`` (synthetic secrets in the public formats and legitimate
look-alikes) through

- ``cek``: ``cek.keymaterial.find_key_material`` on each value;
- ``detect-secrets``: detect-secrets 1.5.0 with its default plugin set and default filters
  (``default_settings()``), through ``scan_line`` on each line of the value (it scans lines; no network:
  verification is not enabled), with the entropy plugins' limits applied (see :func:`detect_secrets_types`);
- ``combined``: a value is refused when either refuses it;

and prints, per rule set, secrets refused / total and false positives / total look-alikes, and which
detect-secrets plugins fired on look-alikes. ``--details`` lists each miss and false positive by its corpus
source. Exits 1 when the app's validator misses a secret or refuses a look-alike.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cek.keymaterial import find_key_material  # noqa: E402
from tests.corpus.loader import Entry, load  # noqa: E402


def detect_secrets_types(value: str) -> set[str]:
    """The detect-secrets plugin names that fire on any line of ``value``.

    ``scan_line`` is detect-secrets' ad-hoc scan: when a line has no quoted string it searches unquoted words
    too and reports them *without* applying the entropy limit (so that its CLI can show why a string fell
    short). A field value is unquoted text, so the limit is applied here, as a file scan would apply it."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.scan import get_plugins, scan_line

    plugins = {type(plugin): plugin for plugin in get_plugins()}
    by_type = get_mapping_from_secret_type_to_class()
    found: set[str] = set()
    for line in value.splitlines() or [value]:
        if not line.strip():
            continue
        for secret in scan_line(line):
            plugin = plugins.get(by_type.get(secret.type))
            limit = getattr(plugin, "entropy_limit", None)
            if limit is not None and plugin.calculate_shannon_entropy(secret.secret_value) <= limit:
                continue
            found.add(secret.type)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--details", action="store_true", help="list every miss and false positive")
    args = parser.parse_args()

    from detect_secrets.settings import default_settings

    secrets, lookalikes = load("secrets"), load("lookalikes")
    results: dict[str, dict[str, list[Entry]]] = {
        name: {"missed": [], "false": []} for name in ("cek", "detect-secrets", "combined")
    }
    plugins_on_lookalikes: collections.Counter[str] = collections.Counter()
    plugins_on_secrets: collections.Counter[str] = collections.Counter()
    with default_settings():
        for corpus, is_secret in ((secrets, True), (lookalikes, False)):
            for entry in corpus:
                ours = bool(find_key_material(entry["value"]))
                types = detect_secrets_types(entry["value"])
                (plugins_on_secrets if is_secret else plugins_on_lookalikes).update(types)
                for name, refused in (
                    ("cek", ours),
                    ("detect-secrets", bool(types)),
                    ("combined", ours or bool(types)),
                ):
                    if is_secret and not refused:
                        results[name]["missed"].append(entry)
                    elif not is_secret and refused:
                        results[name]["false"].append(entry)

    print(f"Corpus: {len(secrets)} secrets, {len(lookalikes)} look-alikes (tests/corpus/)\n")
    print(f"{'rule set':<16} {'secrets refused':>18} {'false positives':>18}")
    for name, outcome in results.items():
        refused = f"{len(secrets) - len(outcome['missed'])}/{len(secrets)}"
        false = f"{len(outcome['false'])}/{len(lookalikes)}"
        print(f"{name:<16} {refused:>18} {false:>18}")
    print("\ndetect-secrets plugins that fired on look-alikes:")
    for plugin, count in plugins_on_lookalikes.most_common():
        print(f"  {count:>4}  {plugin}")
    print("detect-secrets plugins that fired on secrets:")
    for plugin, count in plugins_on_secrets.most_common():
        print(f"  {count:>4}  {plugin}")
    only_theirs = [e for e in results["cek"]["missed"] if e not in results["detect-secrets"]["missed"]]
    print(f"\nSecrets only detect-secrets refuses: {len(only_theirs)}")
    if args.details:
        for name, outcome in results.items():
            for label, entries in (("missed", outcome["missed"]), ("false positive", outcome["false"])):
                for source, count in collections.Counter(e["source"] for e in entries).most_common():
                    print(f"  {name:<16} {label:<15} {count:>3} x {source}")
    failed = bool(results["cek"]["missed"] or results["cek"]["false"])
    if failed:
        print("\nFAIL: the app's validator misses a secret or refuses a look-alike.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
