"""The compose target's file: pinned free tags, the embedded stack's ports, health checks.

CI has no Docker engine, so this checks the file; the compose target itself is exercised by a
learner with `docker compose up -d` (README, "Targets").
"""

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text())


def test_localstack_is_a_pinned_free_4x_tag():
    image = COMPOSE["services"]["localstack"]["image"]
    name, _, tag = image.partition(":")
    assert name == "localstack/localstack"
    assert tag and tag != "latest", "never `latest`: calendar versions exit without an auth token"
    assert tag.split(".")[0] == "4", f"{image}: the free edition is the 4.x line"


def test_kafka_is_apache_kafka_4x_kraft_single_node():
    svc = COMPOSE["services"]["kafka"]
    name, _, tag = svc["image"].partition(":")
    assert name == "apache/kafka" and tag.split(".")[0] == "4"
    env = svc["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "127.0.0.1:9092" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_same_ports_as_the_embedded_stack_on_loopback_only():
    assert COMPOSE["services"]["localstack"]["ports"] == ["127.0.0.1:4566:4566"]
    assert COMPOSE["services"]["kafka"]["ports"] == ["127.0.0.1:9092:9092"]


def test_lambda_needs_the_docker_socket_and_every_service_has_a_health_check():
    assert "/var/run/docker.sock:/var/run/docker.sock" in COMPOSE["services"]["localstack"]["volumes"]
    for name, svc in COMPOSE["services"].items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
