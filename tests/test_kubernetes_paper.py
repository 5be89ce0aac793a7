"""workshop/kubernetes/: the Zero to JupyterHub recipe, checked without a cluster.

Nothing in this file starts Kubernetes, docker or helm. It checks what can be checked on paper:
every YAML file parses; values.yaml (with the site example and the progress overlay) merged over
the chart's default values the way helm merges them validates against the chart's values schema
at the pinned chart version (both vendored in tests/z2jh/, see its README.md); the Dockerfile pins
what requirements/constraints.txt pins; and the files agree with each other (paths, names, the
memory rule, the GPU image).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from traitlets.config import Config

import dli_seq

ROOT = Path(__file__).resolve().parent.parent
KUBE = ROOT / "workshop" / "kubernetes"
Z2JH = Path(__file__).resolve().parent / "z2jh"
CHART_VERSION = "4.4.0"  # the chart version tests/z2jh/ was taken from
CHART_JUPYTERHUB = "5.5.0"  # that chart's appVersion: the JupyterHub of its hub image
BYTE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}  # JupyterHub's ByteSpecification


def load(name: str) -> dict:
    return yaml.safe_load((KUBE / name).read_text(encoding="utf-8"))


def helm_merge(base: dict, override: dict) -> dict:
    """Helm's coalescing of a values file over the values below it: maps merge key by key, any
    other value (a list too) replaces, and null deletes the key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def chart_values(*files: str) -> dict:
    values = yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))
    for name in files:
        values = helm_merge(values, load(name))
    return values


def schema_errors(values: dict) -> list[str]:
    schema = json.loads((Z2JH / "values.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(values)]


def profile(values: dict, slug: str) -> dict:
    return next(p for p in values["singleuser"]["profileList"] if p.get("slug") == slug)


def dockerfile() -> str:
    return (KUBE / "Dockerfile").read_text(encoding="utf-8")


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)", line):
            pins[re.sub(r"[-_.]+", "-", m[1]).lower()] = m[2]
    return pins


def to_bytes(quantity) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", str(quantity))
    assert m, f"not a JupyterHub byte quantity: {quantity!r}"
    return int(float(m[1]) * BYTE_UNITS[m[2]])


def test_every_file_parses_as_yaml():
    for name in ("values.yaml", "site.example.yaml", "values-progress.yaml"):
        assert isinstance(load(name), dict) and load(name), name
    documents = list(yaml.safe_load_all((KUBE / "models-job.yaml").read_text(encoding="utf-8")))
    assert [d["kind"] for d in documents] == ["PersistentVolumeClaim", "Job"]


def test_helm_merge_merges_maps_replaces_lists_and_deletes_on_null():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": 3}
    assert helm_merge(base, {"a": {"y": [3]}, "c": None}) == {"a": {"x": 1, "y": [3]}, "b": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2, "c": 3}


def test_chart_defaults_alone_validate():
    assert schema_errors(chart_values()) == []


@pytest.mark.parametrize("files", [
    ("values.yaml",),
    ("values.yaml", "site.example.yaml"),
    ("values.yaml", "site.example.yaml", "values-progress.yaml"),
])
def test_values_validate_against_the_pinned_chart_schema(files):
    assert schema_errors(chart_values(*files)) == []


@pytest.mark.parametrize("path, value", [
    (("singleuser", "memory", "limt"), "1G"),  # a misspelt key
    (("cull", "timeout"), "1h"),  # seconds, an integer
    (("singleuser", "storage", "type"), "nfs"),
    (("singleuser", "cpu", "limit"), "1"),  # a number, not a string
    (("hub", "extraFiles", "x"), {"stringData": "no mountPath"}),
])
def test_the_schema_check_refuses_mistakes(path, value):
    values = chart_values("values.yaml", "site.example.yaml")
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    assert schema_errors(values), f"{'.'.join(path)}={value!r} was accepted"


def test_the_chart_version_is_the_same_everywhere():
    assert f"chart version {CHART_VERSION}" in (Z2JH / "README.md").read_text(encoding="utf-8")
    assert f"JupyterHub {CHART_JUPYTERHUB}" in (Z2JH / "README.md").read_text(encoding="utf-8")
    for name in ("values.yaml", "README.md"):
        text = (KUBE / name).read_text(encoding="utf-8")
        assert f"--version={CHART_VERSION}" in text, name
        assert not set(re.findall(r"--version[= ](\S+)", text)) - {CHART_VERSION}, name


def test_dockerfile_pins_what_constraints_pin():
    text, pins = dockerfile(), constraints()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.MULTILINE))
    assert args["TORCH_VERSION"] == pins["torch"]
    for name, version in re.findall(r"\b([A-Za-z][A-Za-z0-9._-]*)==([0-9][^\s\"']*)", text):
        canonical = re.sub(r"[-_.]+", "-", name).lower()
        if canonical in pins and canonical != "jupyterhub":
            assert version == pins[canonical], f"{name}=={version} in the Dockerfile, {pins[canonical]} in constraints.txt"
    # The kit is installed with the constraints file, less only a jupyterhub pin (the hub's wins).
    assert re.search(r"pip install [^\n]*-c /tmp/constraints-image\.txt", text)
    dropped = re.search(r"grep -viE '([^']+)' /tmp/dli-seq/requirements/constraints\.txt", text)
    assert dropped, "the Dockerfile should filter constraints.txt with one grep -viE"
    pattern = re.compile(dropped[1].replace("[[:space:]]", r"\s"), re.IGNORECASE)
    assert [name for name in pins if pattern.search(f"{name}=={pins[name]}")] in ([], ["jupyterhub"])
    assert not pattern.search("jupyterhub-idle-culler==2.0.0") and pattern.search("jupyterhub==6.1.1")


def test_image_jupyterhub_is_the_charts():
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", dockerfile(), re.MULTILINE))
    assert args["JUPYTERHUB_VERSION"].split(".")[0] == CHART_JUPYTERHUB.split(".")[0]
    assert args["JUPYTERHUB_VERSION"] == CHART_JUPYTERHUB


def test_base_image_is_a_dated_docker_stacks_tag_with_the_notebook_user_last():
    text = dockerfile()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)", text, re.MULTILINE)[1]
    assert re.fullmatch(r"quay\.io/jupyter/(base|minimal)-notebook:\d{4}-\d{2}-\d{2}", base), base
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.MULTILINE)
    assert re.findall(r"^USER (\S+)", text, re.MULTILINE)[-1] == "${NB_UID}"
    assert not re.search(r"^(ENV|ARG) \S*(TOKEN|SECRET|PASSWORD)", text, re.MULTILINE | re.IGNORECASE)


def test_build_context_lets_in_everything_the_dockerfile_copies():
    ignore = (KUBE / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    sources = []
    for line in dockerfile().splitlines():
        if line.startswith("COPY "):
            sources += [w for w in line.split()[1:-1] if not w.startswith("--")]
    assert sources and set(sources) <= allowed, set(sources) - allowed
    for source in sources:
        assert (ROOT / source).exists(), source


def test_course_in_the_image_is_what_the_post_start_hook_copies():
    text, values = dockerfile(), chart_values("values.yaml")
    assert re.search(r"^COPY notebooks /srv/dli-seq/course/notebooks$", text, re.MULTILINE)
    assert re.search(r"^COPY imgs /srv/dli-seq/course/imgs$", text, re.MULTILINE)
    hook = " ".join(values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert 'python -m dli_seq.workshop.course_copy /srv/dli-seq/course "$HOME/dli-seq"' in hook
    url = values["singleuser"]["defaultUrl"]
    assert url.startswith("/lab/tree/dli-seq/")
    assert (ROOT / url.removeprefix("/lab/tree/dli-seq/")).is_file(), url
    overrides = re.search(r"^COPY tools/jupyterlab-overrides\.json (\S+)$", text, re.MULTILINE)
    assert overrides and overrides[1] == "${CONDA_DIR}/share/jupyter/lab/settings/overrides.json"


def test_models_volume_job_image_and_profile_agree():
    values = chart_values("values.yaml", "site.example.yaml")
    gpu = profile(values, "gpu-real-models")["kubespawner_override"]
    claim, job = yaml.safe_load_all((KUBE / "models-job.yaml").read_text(encoding="utf-8"))
    model_dir = re.search(r"^ENV DLI_SEQ_MODEL_DIR=(\S+)$", dockerfile(), re.MULTILINE)[1]
    (volume,), (mount,) = gpu["volumes"].values(), gpu["volume_mounts"].values()
    assert volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"], "readOnly": True}
    assert mount == {"name": volume["name"], "mountPath": model_dir, "readOnly": True}
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "dli_seq", "fetch", "--dir", model_dir]
    assert container["volumeMounts"] == [{"name": "models", "mountPath": model_dir}]
    assert pod["volumes"] == [{"name": "models", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}]
    assert container["image"].rsplit(":", 1) == [values["singleuser"]["image"]["name"], dli_seq.__version__]
    assert values["singleuser"]["image"]["tag"] == dli_seq.__version__
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert gpu["environment"]["DLI_SEQ_MODELS"] == "auto"
    assert values["singleuser"]["extraEnv"]["DLI_SEQ_MODELS"] == "offline"  # the default profile: stand-ins


def test_memory_limit_is_the_peak_plus_a_quarter_in_every_profile():
    values = chart_values("values.yaml")
    pairs = [(values["singleuser"]["memory"]["guarantee"], values["singleuser"]["memory"]["limit"])]
    for p in values["singleuser"]["profileList"]:
        override = p.get("kubespawner_override", {})
        if "mem_guarantee" in override or "mem_limit" in override:
            pairs.append((override["mem_guarantee"], override["mem_limit"]))
        assert re.search(r"[\u4e00-\u9fff]", p["display_name"] + p["description"]), p["slug"]
    assert len(pairs) == 2  # the default (CPU, stand-ins) and the GPU profile
    for guarantee, limit in pairs:
        assert to_bytes(limit) * 4 == to_bytes(guarantee) * 5, (guarantee, limit)


def test_gpu_profile_gets_the_cuda_build_of_the_image():
    values = chart_values("values.yaml", "site.example.yaml")

    def get_config(key, default=None):
        node = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    c = Config()
    c.KubeSpawner.profile_list = copy.deepcopy(values["singleuser"]["profileList"])
    for name, source in sorted(values["hub"]["extraConfig"].items()):
        exec(compile(source, name, "exec"), {"c": c, "get_config": get_config})
    by_slug = {p["slug"]: p for p in c.KubeSpawner.profile_list}
    image = values["singleuser"]["image"]
    assert by_slug["gpu-real-models"]["kubespawner_override"]["image"] == f"{image['name']}:{image['tag']}-cuda"
    assert "image" not in by_slug["cpu-standins"].get("kubespawner_override", {})
    pulled = values["prePuller"]["extraImages"]["dli-seq-singleuser-cuda"]
    assert f"{pulled['name']}:{pulled['tag']}" == f"{image['name']}:{image['tag']}-cuda"


SECRET_KEYS = re.compile(r"(secret|token|password|cookie)", re.IGNORECASE)


def secret_values(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if SECRET_KEYS.search(str(key)) and not isinstance(value, (dict, list)) and value is not None:
                yield ".".join(path + (str(key),)), value
            yield from secret_values(value, path + (str(key),))
    elif isinstance(node, list):
        for item in node:
            yield from secret_values(item, path)


def test_no_secret_is_written_down():
    for name in ("values.yaml", "values-progress.yaml"):
        assert list(secret_values(load(name))) == [], name
    found = dict(secret_values(load("site.example.yaml")))
    assert found == {"hub.config.GitHubOAuthenticator.client_secret": "REPLACE-client-secret"}


def test_readme_says_what_was_and_was_not_checked():
    text = (KUBE / "README.md").read_text(encoding="utf-8")
    assert "not verified on a cluster" in text.lower()
    assert "tests/test_kubernetes_paper.py" in text
    for name in ("Dockerfile", "values.yaml", "site.example.yaml", "models-job.yaml", "values-progress.yaml"):
        assert f"`{name}`" in text, name
