#!/usr/bin/env python3
"""Checks of deploy/ that no general linter makes: what issue 19 asked of the compose file and the
Kubernetes base. Run by .ci/run (`python3 deploy/check.py`); fails with the reason on stderr."""

import re
import sys
import unittest
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
SERVICES = ["intake", "case-management", "reporting"]


def settings_seconds(env, key, default):
    return int(env.get(key, default))


class Compose(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
        cls.services = cls.compose["services"]

    def test_postgres_is_healthy_only_once_it_answers_a_query_over_tcp(self):
        check = self.services["postgres"]["healthcheck"]["test"]
        command = " ".join(check) if isinstance(check, list) else check
        # docker-library/postgres#880: the socket answers during first-time init, TCP does not.
        self.assertRegex(command, r"pg_isready\s[^&|]*-h\s+127\.0\.0\.1")
        self.assertRegex(command, r"psql\s[^&|]*-h\s+127\.0\.0\.1[^&|]*-\w*c\s+'SELECT 1'")

    def test_migrate_waits_for_the_database_and_is_restarted(self):
        migrate = self.services["migrate"]
        self.assertEqual(migrate["depends_on"]["postgres"]["condition"], "service_healthy")
        command = migrate["command"]
        self.assertIn("migrate", command)
        wait = int(command[command.index("--wait-seconds") + 1])
        self.assertGreaterEqual(wait, 60)
        self.assertRegex(migrate["restart"], r"^on-failure")

    def test_each_service_has_its_healthcheck_restart_policy_and_a_long_enough_stop(self):
        for name in SERVICES:
            service = self.services[name]
            with self.subTest(service=name):
                self.assertEqual(service["healthcheck"]["test"], ["CMD", "docket", "health", name])
                self.assertIn(service["restart"], ("unless-stopped", "always"))
                self.assertEqual(
                    service["depends_on"]["migrate"]["condition"], "service_completed_successfully"
                )
                env = service["environment"]
                drain = settings_seconds(env, "DOCKET__SHUTDOWN_DELAY_MS", 0) / 1000 + settings_seconds(
                    env, "DOCKET__SHUTDOWN_GRACE_SECONDS", 20
                )
                grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
                self.assertIsNotNone(grace)
                self.assertGreater(int(grace.group(1)), drain)

    def test_images_are_named_by_explicit_tags(self):
        for name, service in self.services.items():
            with self.subTest(service=name):
                image = service["image"]
                self.assertRegex(image, r":[^:]+$|@sha256:")
                self.assertFalse(image.endswith(":latest"))


class Kubernetes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        base = DEPLOY / "kubernetes" / "base"
        cls.documents = [
            doc
            for path in sorted(base.glob("*.yaml"))
            if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text())
            if doc
        ]
        cls.deployments = {
            d["metadata"]["name"]: d for d in cls.documents if d["kind"] == "Deployment"
        }
        cls.configmap = next(d for d in cls.documents if d["kind"] == "ConfigMap")

    def pods(self):
        for name, deployment in self.deployments.items():
            yield name, deployment["spec"]["template"]["spec"]

    def test_each_service_reads_only_its_own_secrets_and_never_all_of_one(self):
        self.assertEqual(set(self.deployments), set(SERVICES))
        for name, pod in self.pods():
            with self.subTest(service=name):
                used = set()
                for container in pod.get("initContainers", []) + pod["containers"]:
                    self.assertNotIn("envFrom", container)
                    for var in container.get("env", []):
                        ref = var.get("valueFrom", {}).get("secretKeyRef")
                        if ref:
                            used.add(ref["name"])
                for volume in pod["volumes"]:
                    if "secret" in volume:
                        used.add(volume["secret"]["secretName"])
                    for source in volume.get("projected", {}).get("sources", []):
                        if "secret" in source:
                            used.add(source["secret"]["name"])
                self.assertEqual(used, {f"docket-{name}", "docket-trust"})

    def test_pods_meet_pod_security_restricted(self):
        for name, pod in self.pods():
            with self.subTest(service=name):
                self.assertIs(pod["automountServiceAccountToken"], False)
                self.assertIs(pod["securityContext"]["runAsNonRoot"], True)
                self.assertEqual(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
                for container in pod.get("initContainers", []) + pod["containers"]:
                    context = container["securityContext"]
                    self.assertIs(context["allowPrivilegeEscalation"], False)
                    self.assertIs(context["readOnlyRootFilesystem"], True)
                    self.assertEqual(context["capabilities"]["drop"], ["ALL"])
                    self.assertNotIn("add", context["capabilities"])
                    for kind in ("requests", "limits"):
                        self.assertEqual(set(container["resources"][kind]), {"cpu", "memory"})

    def test_each_pod_migrates_its_own_database_first(self):
        for name, pod in self.pods():
            with self.subTest(service=name):
                (init,) = pod["initContainers"]
                self.assertIn("migrate", init["args"])
                self.assertEqual(init["args"][init["args"].index("migrate") + 1], name)
                self.assertEqual(init["image"], pod["containers"][0]["image"])
        self.assertFalse([d for d in self.documents if d["kind"] == "Job"])

    def test_probes_separate_liveness_from_readiness_and_the_pod_outlives_the_drain(self):
        text = self.configmap["data"]["docket.toml"]
        delay = int(re.search(r"^shutdown_delay_ms = (\d+)", text, re.M).group(1))
        grace = int(re.search(r"^shutdown_grace_seconds = (\d+)", text, re.M).group(1))
        self.assertGreater(delay, 0)
        for name, pod in self.pods():
            with self.subTest(service=name):
                container = pod["containers"][0]
                self.assertEqual(container["livenessProbe"]["grpc"]["service"], "liveness")
                self.assertEqual(container["startupProbe"]["grpc"]["service"], "liveness")
                self.assertNotIn("service", container["readinessProbe"]["grpc"])
                self.assertGreater(pod["terminationGracePeriodSeconds"], delay / 1000 + grace)

    def test_network_policies_deny_by_default_and_open_metrics_to_monitoring_only(self):
        policies = {d["metadata"]["name"]: d for d in self.documents if d["kind"] == "NetworkPolicy"}
        deny = policies["default-deny"]["spec"]
        self.assertEqual(deny["podSelector"], {})
        self.assertEqual(set(deny["policyTypes"]), {"Ingress", "Egress"})
        self.assertNotIn("ingress", deny)
        self.assertNotIn("egress", deny)
        for policy in policies.values():
            for rule in policy["spec"].get("ingress", []):
                ports = {p["port"] for p in rule.get("ports", [])}
                with self.subTest(policy=policy["metadata"]["name"]):
                    self.assertTrue(rule.get("from"), "every ingress rule names its sources")
                    if "metrics" in ports or 9100 in ports:
                        self.assertEqual(
                            rule["from"],
                            [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                        )
        for name in SERVICES + ["postgres"]:
            self.assertIn(name, policies)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print(f"deploy checks: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
