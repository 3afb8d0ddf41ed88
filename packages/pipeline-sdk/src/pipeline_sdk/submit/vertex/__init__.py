"""The Vertex AI Pipelines backend (``backend=vertex``): request, client, experiments, submission."""

from pipeline_sdk.submit.vertex.request import VertexRequest, VertexSettings, build_request, console_url
from pipeline_sdk.submit.vertex.submit import submit_to_vertex

__all__ = ["VertexRequest", "VertexSettings", "build_request", "console_url", "submit_to_vertex"]
