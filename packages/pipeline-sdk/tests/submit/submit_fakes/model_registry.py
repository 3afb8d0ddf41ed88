"""Vertex AI ModelService, EndpointService and their long-running operations (v1 REST), as a mixin.

One home for the Google fakes: this lives beside ``google.py`` (token endpoint, auth check) so that
pipeline-sdk's tests and the model-registry package's tests drive the same emulation.

:class:`ModelRegistryRoutes` adds the routes to any :class:`~submit_fakes.server.FakeServer` that has an
``authorized(rec)`` method; :class:`FakeVertexModels` is :class:`~submit_fakes.google.FakeGoogle` with them.

What it emulates (each with its public source in docs/vertex-behaviour.md, "Model Registry and endpoints"):

- ``POST .../models:upload`` (an operation): ``modelId`` creates the model (409 when it exists), ``parentModel``
  adds a version (404 when it does not exist); version IDs count up from 1; the first version always holds
  ``default``; an alias in ``model.versionAliases`` moves to the new version from whichever version held it.
- ``GET .../models/ID``, ``models/ID@VERSION``, ``models/ID@ALIAS``: no suffix = the ``default`` version.
- ``POST .../models/ID@VERSION:mergeVersionAliases``: ``x`` moves alias x to this version, ``-x`` removes it;
  ``-default`` is refused (exactly one version holds ``default``); the name must carry a version ID.
- Alias format ``[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]``; label rules (at most 64; keys 1-63 characters starting
  with a lowercase letter, values up to 63; lowercase letters, digits, ``_`` and ``-``); an upload's
  ``artifactUri`` is ``gs://`` (anything else is 400 INVALID_ARGUMENT: Vertex AI reads model files from
  Cloud Storage only, row M12) and comes with a container image.
- ``POST .../endpoints`` (an operation), ``GET .../endpoints?filter=display_name="X"``, ``GET`` one endpoint,
  ``POST .../endpoints/E:deployModel`` (an operation): ``trafficSplit`` key ``"0"`` is the model being
  deployed; the values must add up to 100; an empty split leaves the endpoint's split as it was; the deployed
  model needs dedicated resources (a machine type, at least one replica, accelerator type and count together).
- ``GET /v1/.../operations/N`` and ``/ui/...`` (where aiplatform's REST client polls): an operation is done
  after ``lro_polls`` reads (0: done when created).
- Resource names come back with the project **number** (``project_numbers``), as Vertex AI returns them.

The API tests use: ``.models`` (model name -> :class:`FakeModel`), ``.endpoints`` (endpoint name -> the
Endpoint JSON), ``.model(ID)`` / ``.endpoint_named(display_name)``; ``add_version(...)`` and
``add_endpoint(...)`` to start from an existing model or endpoint; the requests as recorded, through
``.uploads()``, ``.merges()``, ``.deploys()`` and ``.endpoint_creates()``; failures to inject:
``model_upload_reply`` / ``merge_reply`` / ``deploy_reply`` / ``create_endpoint_reply`` (a :class:`Reply` sent
instead of the normal answer, e.g. ``FakeServer.error(500, "INTERNAL", "...")``; ``model_upload_reply``, since
FakeGoogle's ``upload_reply`` is Artifact Registry's) and ``model_upload_error`` /
``deploy_error`` (a ``google.rpc.Status`` dict the operation ends with, e.g. ``{"code": 3, "message": "..."}``);
``lro_polls`` to make operations pending for that many reads.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from submit_fakes.google import FakeGoogle
from submit_fakes.server import Recorded, Reply, google_error
from submit_fakes.storage_objects import StorageObjectRoutes

V1 = "type.googleapis.com/google.cloud.aiplatform.v1."
ALIAS = re.compile(r"[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]")
MODEL_ID = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
MAX_LABELS, MAX_LABEL_CHARS = 64, 63
_LOCATION = r"projects/([^/]+)/locations/([^/]+)"
_STAMP = "2026-12-06T10:00:00Z"


@dataclass
class FakeModel:
    """One model: its versions (version ID -> the Model JSON of that version), in upload order."""

    name: str
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def holder(self, alias: str) -> str | None:
        """The version ID that holds ``alias``, or None."""
        return next((v for v, m in self.versions.items() if alias in m["versionAliases"]), None)

    def aliases(self) -> dict[str, str]:
        """alias -> version ID."""
        return {a: v for v, m in self.versions.items() for a in m["versionAliases"]}


def _label_problem(labels: Any) -> str | None:
    if not isinstance(labels, dict):
        return "labels must be a map"
    if len(labels) > MAX_LABELS:
        return f"at most {MAX_LABELS} labels, got {len(labels)}"

    def allowed(ch: str) -> bool:
        return ch in "_-" or ch.isdigit() or unicodedata.category(ch) in ("Ll", "Lo")

    for key, value in labels.items():
        if not (0 < len(key) <= MAX_LABEL_CHARS) or unicodedata.category(key[0]) not in ("Ll", "Lo"):
            return f"invalid label key {key!r}"
        if not all(allowed(ch) for ch in key):
            return f"invalid label key {key!r}"
        if not isinstance(value, str) or len(value) > MAX_LABEL_CHARS or not all(allowed(c) for c in value):
            return f"invalid label value {value!r} for key {key!r}"
    return None


def _alias_problem(alias: Any) -> str | None:
    if not isinstance(alias, str) or not ALIAS.fullmatch(alias):
        return f"Invalid version alias {alias!r}: must match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9]"
    return None


class ModelRegistryRoutes:
    """Routes for a FakeServer subclass; call :meth:`install_model_registry` from its ``__init__``."""

    def install_model_registry(self) -> None:
        self.models: dict[str, FakeModel] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.project_numbers: dict[str, str] = {"demo-project": "123456789012"}
        self.lro_polls = 0
        self.model_upload_reply: Reply | None = None
        self.merge_reply: Reply | None = None
        self.deploy_reply: Reply | None = None
        self.create_endpoint_reply: Reply | None = None
        self.model_upload_error: dict[str, Any] | None = None
        self.deploy_error: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        model = _LOCATION + r"/models/([^/:@%]+)"  # the REST client sends "@" as %40
        endpoint = _LOCATION + r"/endpoints/([^/:]+)"
        self.route("POST", rf"/v1/{_LOCATION}/models:upload", self._upload)
        self.route("GET", rf"/v1/{model}(?:(?:@|%40)([^/:]+))?", self._get_model)
        self.route("POST", rf"/v1/{model}(?:(?:@|%40)([^/:]*))?:mergeVersionAliases", self._merge)
        self.route("POST", rf"/v1/{_LOCATION}/endpoints", self._create_endpoint)
        self.route("GET", rf"/v1/{_LOCATION}/endpoints", self._list_endpoints)
        self.route("GET", rf"/v1/{endpoint}", self._get_endpoint)
        self.route("POST", rf"/v1/{endpoint}:deployModel", self._deploy)
        # aiplatform's REST client polls /ui/{name} (the first of the operation's HTTP rules), others /v1/
        operation = rf"/(?:v1|ui)/{_LOCATION}/((?:[^/]+/[^/]+/)*operations/[^/:]+)"
        self.route("GET", operation, self._get_operation)

    # ---- helpers the tests use -------------------------------------------------------------------------
    def location_name(self, project: str, location: str) -> str:
        return f"projects/{self.project_numbers.get(project, project)}/locations/{location}"

    def model(self, model_id: str) -> FakeModel | None:
        return next((m for n, m in self.models.items() if n.rsplit("/", 1)[1] == model_id), None)

    def endpoint_named(self, display_name: str) -> dict[str, Any] | None:
        return next((e for e in self.endpoints.values() if e["displayName"] == display_name), None)

    def uploads(self) -> list[Recorded]:
        return self.sent("POST", r"/v1/.*/models:upload")

    def merges(self) -> list[Recorded]:
        return self.sent("POST", r"/v1/.*:mergeVersionAliases")

    def deploys(self) -> list[Recorded]:
        return self.sent("POST", r"/v1/.*:deployModel")

    def endpoint_creates(self) -> list[Recorded]:
        return self.sent("POST", r"/v1/projects/[^/]+/locations/[^/]+/endpoints")

    def add_version(
        self, project: str, location: str, model_id: str, *, aliases: tuple[str, ...] = (), **fields: Any
    ) -> dict[str, Any]:
        """Register a version directly (another tool's, say): the Model JSON fields as given."""
        name = f"{self.location_name(project, location)}/models/{model_id}"
        model = self.models.setdefault(name, FakeModel(name))
        return self._new_version(model, {"displayName": model_id, **fields, "versionAliases": list(aliases)})

    def add_endpoint(
        self,
        project: str,
        location: str,
        display_name: str,
        deployed: tuple[dict[str, Any], ...] = (),
        traffic: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """An existing endpoint with ``deployed`` DeployedModel JSONs (each with its ``id``) and ``traffic``."""
        name = f"{self.location_name(project, location)}/endpoints/{4000 + next(self._ids)}"
        self.endpoints[name] = {
            "name": name,
            "displayName": display_name,
            "deployedModels": [dict(d) for d in deployed],
            "trafficSplit": dict(traffic or {}),
            "createTime": _STAMP,
        }
        return self.endpoints[name]

    # ---- ModelService ----------------------------------------------------------------------------------
    def _unauthorized(self, rec: Recorded) -> Reply | None:
        if not self.authorized(rec):  # type: ignore[attr-defined]
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return None

    def _model_name(self, match: re.Match[str]) -> str:
        return f"{self.location_name(match[1], match[2])}/models/{match[3]}"

    def _new_version(self, model: FakeModel, body: dict[str, Any]) -> dict[str, Any]:
        version = str(len(model.versions) + 1)
        aliases = list(dict.fromkeys(body.get("versionAliases") or []))
        if not model.versions and "default" not in aliases:
            aliases.append("default")  # the first version of a model holds "default"
        for alias in aliases:
            held_by = model.holder(alias)
            if held_by is not None:
                model.versions[held_by]["versionAliases"].remove(alias)
        model.versions[version] = {
            **body,
            "name": model.name,
            "versionId": version,
            "versionAliases": aliases,
            "createTime": _STAMP,
            "versionCreateTime": _STAMP,
            "supportedDeploymentResourcesTypes": ["DEDICATED_RESOURCES"],
        }
        return model.versions[version]

    def _upload_problem(self, body: Any) -> Reply | None:
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, dict) or not model.get("displayName"):
            return google_error(400, "INVALID_ARGUMENT", "model.display_name is required.")
        if body.get("modelId") and body.get("parentModel"):
            return google_error(400, "INVALID_ARGUMENT", "Give either model_id or parent_model.")
        if body.get("modelId") and not MODEL_ID.fullmatch(body["modelId"]):
            return google_error(400, "INVALID_ARGUMENT", f"Invalid model_id {body['modelId']!r}.")
        problem = _label_problem(model.get("labels", {})) or next(
            filter(None, map(_alias_problem, model.get("versionAliases", []))), None
        )
        if problem:
            return google_error(400, "INVALID_ARGUMENT", problem)
        if model.get("artifactUri") is not None and not str(model["artifactUri"]).startswith("gs://"):
            return google_error(400, "INVALID_ARGUMENT", "artifact_uri must be a Cloud Storage URI (gs://).")
        if model.get("artifactUri") and not (model.get("containerSpec") or {}).get("imageUri"):
            return google_error(400, "INVALID_ARGUMENT", "container_spec.image_uri is required.")
        return None

    def _upload(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec) or self.model_upload_reply or self._upload_problem(rec.body)
        if refused is not None:
            return refused
        body = rec.body
        location = self.location_name(match[1], match[2])
        if body.get("parentModel"):
            parent = re.fullmatch(rf"{_LOCATION}/models/([^/@]+)", body["parentModel"])
            name = f"{self.location_name(parent[1], parent[2])}/models/{parent[3]}" if parent else ""
            if name not in self.models:
                return google_error(404, "NOT_FOUND", f"Parent model {body['parentModel']} not found.")
        else:
            name = f"{location}/models/{body.get('modelId') or next(self._ids)}"
            if name in self.models:
                return google_error(409, "ALREADY_EXISTS", f"Model {name} already exists.")
        operation = self._operation(name, "UploadModelOperationMetadata", self.model_upload_error)
        if self.model_upload_error is None:
            model = self.models.setdefault(name, FakeModel(name))
            created = self._new_version(model, dict(body["model"]))
            operation["result"] = {
                "@type": V1 + "UploadModelResponse",
                "model": name,
                "modelVersionId": created["versionId"],
            }
        return self._reply_operation(operation)

    def _version(self, model: FakeModel, which: str | None) -> dict[str, Any] | None:
        which = unquote(which) if which else "default"
        if which in model.versions:
            return model.versions[which]
        holder = model.holder(which)
        return model.versions[holder] if holder else None

    def _get_model(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec)
        if refused is not None:
            return refused
        model = self.models.get(self._model_name(match))
        version = self._version(model, match[4]) if model else None
        if version is None:
            suffix = f"@{unquote(match[4])}" if match[4] else ""
            return google_error(404, "NOT_FOUND", f"Model {self._model_name(match)}{suffix} not found.")
        return Reply(200, version)

    def _merge(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec) or self.merge_reply
        if refused is not None:
            return refused
        model = self.models.get(self._model_name(match))
        which = unquote(match[4] or "")
        if not which.isdigit():
            return google_error(400, "INVALID_ARGUMENT", "The name must include a version ID (models/M@1).")
        if model is None or which not in model.versions:
            return google_error(404, "NOT_FOUND", f"Model {self._model_name(match)}@{which} not found.")
        changes = rec.body.get("versionAliases") if isinstance(rec.body, dict) else None
        if not isinstance(changes, list) or not changes:
            return google_error(400, "INVALID_ARGUMENT", "version_aliases is required.")
        problem = next(filter(None, (_alias_problem(c.removeprefix("-")) for c in changes)), None)
        if problem:
            return google_error(400, "INVALID_ARGUMENT", problem)
        if "-default" in changes:
            return google_error(
                400, "FAILED_PRECONDITION", "The default alias cannot be removed: one version must hold it."
            )
        added = {c for c in changes if not c.startswith("-")}
        removed = {c[1:] for c in changes if c.startswith("-")}
        version = model.versions[which]
        for alias in sorted(added - removed):  # adding and removing the same alias cancel out
            held_by = model.holder(alias)
            if held_by is not None and held_by != which:
                model.versions[held_by]["versionAliases"].remove(alias)
            if alias not in version["versionAliases"]:
                version["versionAliases"].append(alias)
        for alias in removed - added:
            if alias in version["versionAliases"]:
                version["versionAliases"].remove(alias)
        return Reply(200, version)

    # ---- EndpointService -------------------------------------------------------------------------------
    def _create_endpoint(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec) or self.create_endpoint_reply
        if refused is not None:
            return refused
        if not isinstance(rec.body, dict) or not rec.body.get("displayName"):
            return google_error(400, "INVALID_ARGUMENT", "endpoint.display_name is required.")
        problem = _label_problem(rec.body.get("labels", {}))
        if problem:
            return google_error(400, "INVALID_ARGUMENT", problem)
        endpoint_id = (rec.query.get("endpointId") or [str(4000 + next(self._ids))])[0]
        name = f"{self.location_name(match[1], match[2])}/endpoints/{endpoint_id}"
        endpoint = {**rec.body, "name": name, "deployedModels": [], "trafficSplit": {}, "createTime": _STAMP}
        self.endpoints[name] = endpoint
        operation = self._operation(name, "CreateEndpointOperationMetadata", None)
        operation["result"] = {"@type": V1 + "Endpoint", **endpoint}
        return self._reply_operation(operation)

    def _list_endpoints(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec)
        if refused is not None:
            return refused
        location = self.location_name(match[1], match[2])
        found = [e for n, e in self.endpoints.items() if n.startswith(location + "/")]
        wanted = (rec.query.get("filter") or [""])[0]
        if wanted:
            display = re.fullmatch(r'display_name\s*=\s*"((?:[^"\\]|\\.)*)"', wanted.strip())
            if display is None:
                return google_error(400, "INVALID_ARGUMENT", f"Unsupported filter (fake): {wanted}")
            found = [e for e in found if e["displayName"] == re.sub(r"\\(.)", r"\1", display[1])]
        return Reply(200, {"endpoints": found} if found else {})

    def _get_endpoint(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec)
        if refused is not None:
            return refused
        name = f"{self.location_name(match[1], match[2])}/endpoints/{match[3]}"
        if name not in self.endpoints:
            return google_error(404, "NOT_FOUND", f"Endpoint {name} not found.")
        return Reply(200, self.endpoints[name])

    def _deployed_model_problem(self, deployed: Any) -> tuple[str | None, dict[str, Any] | None]:
        """A reason to refuse, or the model version it deploys."""
        if not isinstance(deployed, dict):
            return "deployed_model is required.", None
        named = re.fullmatch(rf"{_LOCATION}/models/([^/@]+)(?:@(.+))?", str(deployed.get("model", "")))
        model = (
            self.models.get(f"{self.location_name(named[1], named[2])}/models/{named[3]}") if named else None
        )
        version = self._version(model, named[4]) if model and named else None
        if version is None:
            return f"Model {deployed.get('model')} not found.", None
        resources = deployed.get("dedicatedResources")
        if not isinstance(resources, dict) or not (resources.get("machineSpec") or {}).get("machineType"):
            return "dedicated_resources.machine_spec.machine_type is required for this model.", None
        spec, low = resources["machineSpec"], int(resources.get("minReplicaCount", 0))
        if low < 1 or int(resources.get("maxReplicaCount", low)) < low:
            return "min_replica_count must be >= 1 and max_replica_count >= min_replica_count.", None
        if bool(spec.get("acceleratorType")) != bool(int(spec.get("acceleratorCount", 0))):
            return "accelerator_type and accelerator_count go together.", None
        return None, version

    def _deploy(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec) or self.deploy_reply
        if refused is not None:
            return refused
        name = f"{self.location_name(match[1], match[2])}/endpoints/{match[3]}"
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            return google_error(404, "NOT_FOUND", f"Endpoint {name} not found.")
        body = rec.body if isinstance(rec.body, dict) else {}
        problem, version = self._deployed_model_problem(body.get("deployedModel"))
        split = {k: int(v) for k, v in (body.get("trafficSplit") or {}).items()}
        known = {d["id"] for d in endpoint["deployedModels"]} | {"0"}
        if problem is None and split and (sum(split.values()) != 100 or not set(split) <= known):
            problem = f"traffic_split must add up to 100 over deployed models and '0', got {split}."
        if problem is not None:
            return google_error(400, "INVALID_ARGUMENT", problem)
        operation = self._operation(name, "DeployModelOperationMetadata", self.deploy_error)
        if self.deploy_error is None:
            deployed_id = str(7000 + next(self._ids))
            deployed = {
                **body["deployedModel"],
                "id": deployed_id,
                "model": version["name"],
                "modelVersionId": version["versionId"],
                "createTime": _STAMP,
            }
            endpoint["deployedModels"].append(deployed)
            if split:
                endpoint["trafficSplit"] = {(deployed_id if k == "0" else k): v for k, v in split.items()}
            operation["result"] = {"@type": V1 + "DeployModelResponse", "deployedModel": deployed}
        return self._reply_operation(operation)

    # ---- operations ------------------------------------------------------------------------------------
    def _operation(self, resource: str, metadata: str, error: dict[str, Any] | None) -> dict[str, Any]:
        name = f"{resource}/operations/{next(self._ids)}"
        operation = {
            "name": name,
            "metadata": {"@type": V1 + metadata, "genericMetadata": {"createTime": _STAMP}},
            "polls_left": self.lro_polls,
            "error": error,
            "result": None,
        }
        self.operations[name] = operation
        return operation

    @staticmethod
    def _operation_json(operation: dict[str, Any]) -> dict[str, Any]:
        shown = {"name": operation["name"], "metadata": operation["metadata"]}
        if operation["polls_left"] > 0:
            return shown
        if operation["error"] is not None:
            return {**shown, "done": True, "error": operation["error"]}
        return {**shown, "done": True, "response": operation["result"]}

    def _reply_operation(self, operation: dict[str, Any]) -> Reply:
        return Reply(200, self._operation_json(operation))

    def _get_operation(self, match: re.Match[str], rec: Recorded) -> Reply:
        refused = self._unauthorized(rec)
        if refused is not None:
            return refused
        name = f"{self.location_name(match[1], match[2])}/{match[3]}"
        operation = self.operations.get(name)
        if operation is None:
            return google_error(404, "NOT_FOUND", f"Operation {name} not found.")
        operation["polls_left"] = max(0, operation["polls_left"] - 1)
        return self._reply_operation(operation)


class FakeVertexModels(ModelRegistryRoutes, StorageObjectRoutes, FakeGoogle):
    """FakeGoogle (token endpoint, PipelineService, ...) with the Model Registry and endpoint routes and Cloud
    Storage objects (:mod:`submit_fakes.storage_objects`: register-model stages a local model there)."""

    def __init__(self, public_key_pem: bytes) -> None:
        super().__init__(public_key_pem)
        self.install_model_registry()
        self.install_storage_objects()


__all__ = ["FakeModel", "FakeVertexModels", "ModelRegistryRoutes"]
