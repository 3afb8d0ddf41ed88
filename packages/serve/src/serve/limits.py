"""How much one prediction request may hold, and where the figures come from.

Vertex AI's "Choose an endpoint type" page (https://cloud.google.com/vertex-ai/docs/predictions/choose-endpoint-type)
gives each endpoint's payload size limit: **1.5 MB** for a shared public endpoint, **10 MB** for a dedicated
public, Private Service Connect or private endpoint (and a 60 s inference timeout on a shared public one).
gcloud's reference says the same of shared endpoints ("the service itself will accept instances up to the
payload limit size (currently, 1.5MB)", https://cloud.google.com/sdk/gcloud/reference/ai/endpoints/predict).
The default byte limit is the shared endpoint's, read as binary megabytes (1.5 x 2**20), so the container
never refuses a body Vertex let through; ``limits.max_request_bytes=10485760`` suits the other endpoints.

The instance cap (1,024) is the container's own: a 28 x 28 image as nested JSON lists takes at least
~1.6 kB (``0,`` per pixel), so 1.5 MB carries at most ~950 of them and the cap never bites there; it bounds
compact ``{"b64": ...}`` PNGs (~100 bytes each, so >10,000 per request), whose decoding is the per-instance
cost, and so bounds how long one request holds the model (one forward pass of 1,024 images) while other
clients wait. ``gcloud ai endpoints predict`` itself sends at most 100 instances.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Vertex AI shared public endpoint request payload limit, 1.5 MB (binary reading: never refuse what passed).
PUBLIC_ENDPOINT_REQUEST_BYTES = 1_572_864
#: Dedicated public endpoint payload limit, 10 MB.
DEDICATED_ENDPOINT_REQUEST_BYTES = 10_485_760
#: Instances per request (the container's own cap, argued above).
MAX_INSTANCES = 1024
#: A body up to this size is read and dropped after refusing it, so the connection stays usable; a larger
#: one is refused and the connection closed unread.
DRAIN_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-request limits: body bytes and instances."""

    max_request_bytes: int = PUBLIC_ENDPOINT_REQUEST_BYTES
    max_instances: int = MAX_INSTANCES
