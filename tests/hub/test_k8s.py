"""The Kubernetes path, checked without a cluster: the Helm values against the chart's
published values schema, the manifests against the Kubernetes API schema, and the image
definition against the project (what it copies exists, what it must not ship it does not).
Nothing here builds the image or installs the chart; docs/classroom.md says so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "classroom" / "k8s"
KUBERNETES = "1.32"  # the chart's kubeVersion floor


def merged_values() -> dict:
    """The chart's defaults with values.yaml on top, as Helm merges them (maps merge key by
    key, anything else is replaced, null removes a default)."""

    def merge(base, over):
        if isinstance(base, dict) and isinstance(over, dict):
            out = dict(base)
            for key, value in over.items():
                if value is None:
                    out.pop(key, None)
                else:
                    out[key] = merge(base.get(key), value)
            return out
        return over

    defaults = yaml.safe_load((K8S / "chart-values.yaml").read_text())
    return merge(defaults, yaml.safe_load((K8S / "values.yaml").read_text()))


def test_values_match_the_charts_schema():
    schema = json.loads((K8S / "values.schema.json").read_text())
    values = merged_values()
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(values), key=str)
    assert not errors, "\n".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_catches_a_wrong_value():
    """The check above can fail: a misspelt key or a wrong type is rejected."""
    schema = json.loads((K8S / "values.schema.json").read_text())
    values = merged_values()
    values["singleuser"]["storage"]["capasity"] = "2Gi"
    values["cull"]["timeout"] = "an hour"
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(values))) >= 2


@pytest.mark.parametrize("name", ["exchange-pvc.yaml", "grading-job.yaml"])
def test_manifests_match_the_kubernetes_api(name):
    docs = [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_api_check_can_fail():
    job = yaml.safe_load((K8S / "grading-job.yaml").read_text())
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolise"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, KUBERNETES, strict=True)


def test_images_ship_the_runtime_and_only_the_grader_has_solutions():
    text = (K8S / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    copies = {stage.split()[2]: re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", stage, flags=re.M)
              for stage in stages}
    for sources in copies.values():
        for line in sources:
            for src in line.split():
                assert (REPO / src).exists(), f"Dockerfile copies {src}, which is not in the project"
    assert not any("graders/source" in s for s in copies["singleuser"])
    assert any("graders/source" in s for s in copies["grader"])
    values = yaml.safe_load((K8S / "values.yaml").read_text())
    assert values["singleuser"]["cmd"][:3] == ["python", "-m", "edalab.hub.singleuser"]
    assert values["singleuser"]["extraEnv"]["JUPYTER_CONFIG_PATH"].endswith("edalab/hub/learner")
    assert (REPO / "edalab" / "hub" / "learner" / "nbgrader_config.py").exists()
