"""The Google APIs: OAuth2 token endpoint, Vertex AI (v1 REST), Cloud Storage bucket metadata, a registry."""

from __future__ import annotations

import re
from typing import Any

from submit_fakes.server import FakeServer, Recorded, Reply, google_error

#: the IDs Vertex ML Metadata accepts for a context (experiments and runs are contexts)
_METADATA_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")


class FakeGoogle(FakeServer):
    """OAuth2 token endpoint + Vertex AI PipelineService (v1 REST) + Cloud Storage bucket metadata
    + a container registry's manifest endpoint, all on one port."""

    def __init__(self, public_key_pem: bytes) -> None:
        super().__init__()
        self.public_key_pem = public_key_pem
        self.issued_tokens: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.states: list[str] = [
            "PIPELINE_STATE_PENDING",
            "PIPELINE_STATE_RUNNING",
            "PIPELINE_STATE_SUCCEEDED",
        ]
        self.job_error: dict[str, Any] | None = None
        self.create_reply: Reply | None = None
        self.token_reply: Reply | None = None
        self.buckets: dict[str, Reply] = {}
        self.manifests: set[str] = set()
        self.contexts: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.poll_failures: list[Reply] = []  # answered, in order, before polls see the job again
        self.upload_reply: Reply | None = None
        self.context_children: dict[str, list[str]] = {}
        self.metadata_reply: Reply | None = None  # answered to every metadata context call when set
        self.route("POST", r"/token", self._token)
        self.route("POST", r"/kfp/([^/]+)/([^/]+)", self._upload_template)
        self.route(
            "GET",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default/contexts/[^/:]+)",
            self._get_context,
        )
        self.route(
            "PATCH",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default/contexts/[^/:]+)",
            self._update_context,
        )
        self.route(
            "POST",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default)/contexts",
            self._create_context,
        )
        self.route(
            "POST",
            r"/v1/(projects/[^/]+/locations/[^/]+/metadataStores/default/contexts/[^/:]+)"
            r":addContextChildren",
            self._add_children,
        )
        self.route("POST", r"/v1/projects/([^/]+)/locations/([^/]+)/pipelineJobs", self._create)
        self.route("GET", r"/v1/(projects/[^/]+/locations/[^/]+/pipelineJobs/[^/:]+)", self._get)
        self.route("GET", r"/v1/(projects/[^/]+/locations/[^/]+)/pipelineJobs", self._list)
        self.route("POST", r"/v1/(projects/[^/]+/locations/[^/]+/pipelineJobs/[^/:]+):cancel", self._cancel)
        self.route("GET", r"/storage/v1/b/([^/]+)", self._bucket)
        self.route("HEAD", r"/v2/(.+)/manifests/([^/]+)", self._manifest)
        self.route("GET", r"/v2/(.+)/manifests/([^/]+)", self._manifest)

    def _token(self, match: re.Match[str], rec: Recorded) -> Reply:
        from google.auth import jwt

        if self.token_reply is not None:
            return self.token_reply
        try:
            claims = jwt.decode(
                rec.body["assertion"],
                certs=self.public_key_pem,
                audience="https://oauth2.googleapis.com/token",
            )
        except Exception as e:
            return Reply(400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {e}"})
        token = f"ya29.fake-{len(self.issued_tokens)}-{claims['iss'].split('@')[0]}"
        self.issued_tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def authorized(self, rec: Recorded) -> bool:
        """A token this server issued, or a self-signed JWT made with the test key."""
        from google.auth import jwt

        token = rec.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.issued_tokens:
            return True
        try:
            jwt.decode(token, certs=self.public_key_pem, verify=True, audience=None)
        except Exception:
            return False
        return True

    def _create(self, match: re.Match[str], rec: Recorded) -> Reply:
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.create_reply is not None:
            return self.create_reply
        job_id = rec.query["pipelineJobId"][0]
        name = f"projects/{match[1]}/locations/{match[2]}/pipelineJobs/{job_id}"
        job = {
            **rec.body,
            "name": name,
            "state": "PIPELINE_STATE_PENDING",
            "createTime": "2026-11-26T05:00:00Z",
        }
        self.jobs[name] = {"job": job, "polls": 0}
        return Reply(200, job)

    def _get(self, match: re.Match[str], rec: Recorded) -> Reply:
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        entry = self.jobs.get(match[1])
        if entry is None:
            return google_error(404, "NOT_FOUND", f"PipelineJob {match[1]} not found.")
        if self.poll_failures:
            return self.poll_failures.pop(0)
        job = self._job_now(match[1], entry)
        entry["polls"] += 1
        return Reply(200, job)

    def _job_now(self, name: str, entry: dict[str, Any]) -> dict[str, Any]:
        """The job as a read sees it now: its state is the next of its states (the job's own, else
        ``self.states``), one per read."""
        states = entry.get("states") or self.states
        state = states[min(entry["polls"], len(states) - 1)]
        job = {**entry["job"], "state": state}
        if state != "PIPELINE_STATE_PENDING":  # Vertex creates the run's metadata context once it starts
            store = name.split("/pipelineJobs/")[0] + "/metadataStores/default"
            job["jobDetail"] = {
                **entry["job"].get("jobDetail", {}),
                "pipelineRunContext": {
                    "name": f"{store}/contexts/{name.rsplit('/', 1)[1]}",
                    "schemaTitle": "system.PipelineRun",
                },
            }
        error = entry.get("error") or self.job_error
        if state in ("PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED") and error:
            job["error"] = error
        return job

    def add_job(
        self,
        project: str,
        location: str,
        job_id: str,
        *,
        states: tuple[str, ...] = ("PIPELINE_STATE_RUNNING",),
        pipeline_name: str = "hydra-fashion-mnist-training",
        create_time: str = "2026-11-26T05:00:00Z",
        **fields: Any,
    ) -> str:
        """A job made elsewhere (another submit, the console): its states, one per read; returns its name."""
        name = f"projects/{project}/locations/{location}/pipelineJobs/{job_id}"
        job = {
            "name": name,
            "displayName": pipeline_name,
            "createTime": create_time,
            "pipelineSpec": {"pipelineInfo": {"name": pipeline_name}},
            **fields,
        }
        self.jobs[name] = {"job": job, "polls": 0, "states": list(states)}
        return name

    def _list(self, match: re.Match[str], rec: Recorded) -> Reply:
        """ListPipelineJobs: ``filter`` of ``FIELD="VALUE"`` terms joined by AND (pipeline_name,
        display_name, state: the documented fields this toolkit uses), ``orderBy`` create_time desc,
        ``pageSize`` (default 100 here) and ``pageToken``; no ``pipelineSpec`` in the listed jobs."""
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        text = rec.query.get("filter", [""])[0]
        wanted: dict[str, str] = {}
        for term in filter(None, (t.strip() for t in re.split(r"\bAND\b", text))):
            found = re.fullmatch(r'(pipeline_name|display_name|state)\s*=\s*"([^"]*)"', term)
            if found is None:
                return google_error(400, "INVALID_ARGUMENT", f"Unsupported filter: {term}")
            wanted[found[1]] = found[2]
        order = rec.query.get("orderBy", [""])[0]
        if order not in ("", "create_time desc"):
            return google_error(400, "INVALID_ARGUMENT", f"Unsupported order_by: {order}")
        prefix = f"{match[1]}/pipelineJobs/"
        jobs = []
        for name, entry in self.jobs.items():
            if not name.startswith(prefix):
                continue
            states = entry.get("states") or self.states
            job = {**entry["job"], "state": states[min(entry["polls"], len(states) - 1)]}
            fields = {
                "pipeline_name": job.get("pipelineSpec", {}).get("pipelineInfo", {}).get("name"),
                "display_name": job.get("displayName"),
                "state": job["state"],
            }
            if all(fields[key] == value for key, value in wanted.items()):
                jobs.append({k: v for k, v in job.items() if k != "pipelineSpec"})
        jobs.sort(key=lambda job: job.get("createTime", ""), reverse=True)
        size = int(rec.query.get("pageSize", ["100"])[0] or 100)
        start = int(rec.query.get("pageToken", ["0"])[0] or 0)
        page = jobs[start : start + size]
        reply: dict[str, Any] = {"pipelineJobs": page} if page else {}
        if start + size < len(jobs):
            reply["nextPageToken"] = str(start + size)
        return Reply(200, reply)

    def _cancel(self, match: re.Match[str], rec: Recorded) -> Reply:
        """CancelPipelineJob: an empty answer, then CANCELLING and CANCELLED with error code 1; a job that
        has ended is 400 FAILED_PRECONDITION (docs/vertex-behaviour.md, runs)."""
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        entry = self.jobs.get(match[1])
        if entry is None:
            return google_error(404, "NOT_FOUND", f"PipelineJob {match[1]} not found.")
        states = entry.get("states") or self.states
        state = states[min(entry["polls"], len(states) - 1)]  # where the job has got to by now
        if state in ("PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"):
            return google_error(
                400,
                "FAILED_PRECONDITION",
                f'The PipelineJob "{match[1]}" is in state {state} and cannot be canceled.',
            )
        entry.update(states=["PIPELINE_STATE_CANCELLING", "PIPELINE_STATE_CANCELLED"], polls=0)
        entry["error"] = {"code": 1, "message": "CANCELED"}
        return Reply(200, {})

    def _upload_template(self, match: re.Match[str], rec: Recorded) -> Reply:
        """Artifact Registry's KFP upload: multipart ``content`` (+ ``tags``), answers ``NAME/sha256:...``."""
        import hashlib
        from email.parser import BytesParser

        import yaml

        if not self.authorized(rec):
            return Reply(401, "Request is missing required authentication credential.")
        if self.upload_reply is not None:
            return self.upload_reply
        message = BytesParser().parsebytes(
            f"Content-Type: {rec.headers['content-type']}\r\n\r\n".encode() + rec.body
        )
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.get_payload()
        }
        name = yaml.safe_load(fields["content"])["pipelineInfo"]["name"]
        version = "sha256:" + hashlib.sha256(fields["content"]).hexdigest()
        self.templates[f"{name}/{version}"] = {
            "tags": fields.get("tags", b"").decode().split(","),
            "content": fields["content"],
        }
        return Reply(200, f"{name}/{version}")

    def _metadata_refusal(self, rec: Recorded) -> Reply | None:
        """The answer that comes before any metadata work: unauthenticated, or the test's ``metadata_reply``."""
        if not self.authorized(rec):
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return self.metadata_reply

    def _get_context(self, match: re.Match[str], rec: Recorded) -> Reply:
        if (refused := self._metadata_refusal(rec)) is not None:
            return refused
        if match[1] in self.contexts:
            return Reply(200, self.contexts[match[1]])
        return google_error(404, "NOT_FOUND", f"Context {match[1]} not found.")

    def _create_context(self, match: re.Match[str], rec: Recorded) -> Reply:
        """CreateContext: ``contextId`` must be a metadata ID (else 400 INVALID_ARGUMENT); one in use is
        409 ALREADY_EXISTS, as the service answers."""
        if (refused := self._metadata_refusal(rec)) is not None:
            return refused
        context_id = rec.query.get("contextId", [f"generated-{len(self.contexts)}"])[0]
        if not _METADATA_ID.fullmatch(context_id):
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"Invalid context id {context_id!r}: must match {_METADATA_ID.pattern}",
            )
        name = f"{match[1]}/contexts/{context_id}"
        if name in self.contexts:
            return google_error(409, "ALREADY_EXISTS", f"Context {name} already exists.")
        self.contexts[name] = {**rec.body, "name": name}
        return Reply(200, self.contexts[name])

    def _update_context(self, match: re.Match[str], rec: Recorded) -> Reply:
        """UpdateContext (PATCH): the body's fields (those in ``updateMask`` when given) replace the stored
        context's; 404 when it does not exist."""
        if (refused := self._metadata_refusal(rec)) is not None:
            return refused
        stored = self.contexts.get(match[1])
        if stored is None:
            return google_error(404, "NOT_FOUND", f"Context {match[1]} not found.")
        mask = [f for m in rec.query.get("updateMask", []) for f in m.split(",") if f]
        fields = {k: v for k, v in rec.body.items() if k != "name" and (not mask or k in mask)}
        self.contexts[match[1]] = {**stored, **fields}
        return Reply(200, self.contexts[match[1]])

    def _add_children(self, match: re.Match[str], rec: Recorded) -> Reply:
        """AddContextChildren: a child that is already one is skipped, as the service does."""
        if (refused := self._metadata_refusal(rec)) is not None:
            return refused
        if match[1] not in self.contexts:
            return google_error(404, "NOT_FOUND", f"Context {match[1]} not found.")
        children = self.context_children.setdefault(match[1], [])
        children.extend(c for c in rec.body["childContexts"] if c not in children)
        return Reply(200, {})

    def _bucket(self, match: re.Match[str], rec: Recorded) -> Reply:
        reply = self.buckets.get(match[1])
        if reply is not None:
            return reply
        return google_error(404, "NOT_FOUND", "The specified bucket does not exist.")

    def _manifest(self, match: re.Match[str], rec: Recorded) -> Reply:
        if f"{match[1]}:{match[2]}" in self.manifests:
            return Reply(200, {"schemaVersion": 2})
        return Reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
