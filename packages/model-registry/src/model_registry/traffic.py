"""The endpoint's traffic split once the new model is deployed.

DeployModelRequest.traffic_split replaces the endpoint's split; its key ``"0"`` stands for the model being
deployed and the values must add up to 100 (docs/vertex-behaviour.md). The new model gets ``percentage``;
the rest is shared among the models that have traffic now, in proportion to their current shares, as
aiplatform's ``Endpoint._allocate_traffic`` does (``int(share / 100 * rest)`` each, then the points lost to
rounding). One difference: those points go to the largest remainders first and never to a model that had no
traffic (aiplatform hands them out in dictionary order, so a model at 0 % could get 1 %). On an endpoint where
no model has traffic, the new one gets all of it whatever ``percentage`` says: there is nothing to split with.
"""

from __future__ import annotations

from collections.abc import Mapping

NEW_MODEL = "0"


def split_traffic(current: Mapping[str, int], percentage: int) -> dict[str, int]:
    """The split to send with DeployModel: deployed model ID (or ``"0"`` for the new model) -> percent."""
    if not 0 <= percentage <= 100:
        raise ValueError(f"traffic percentage {percentage} is not within 0..100")
    serving = {key: int(share) for key, share in current.items() if int(share) > 0}
    if not serving:
        return {NEW_MODEL: 100}
    rest = 100 - percentage
    total = sum(serving.values())
    exact = {key: share * rest / total for key, share in serving.items()}
    split = {key: int(value) for key, value in exact.items()}
    left = rest - sum(split.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - split[k]), list(serving).index(k)))[:left]:
        split[key] += 1
    if rest == 0:
        split = {}  # as aiplatform sends it: the others drop out of the split (0 %)
    split[NEW_MODEL] = percentage
    return split


__all__ = ["NEW_MODEL", "split_traffic"]
