"""Register a trained model as a new Vertex AI Model Registry version (guarded promotion) and deploy it."""

from model_registry.__about__ import __version__
from model_registry.endpoints import Deployment, deploy
from model_registry.errors import RegistryError
from model_registry.labels import decode_float, encode_float, recorded_figure, version_labels
from model_registry.promotion import Champion, Decision, Rule, decide, rule
from model_registry.records import read_registration
from model_registry.registry import Registration, register
from model_registry.settings import DeploySettings, RegisterSettings, deploy_settings, register_settings
from model_registry.traffic import split_traffic
from model_registry.trained_model import TrainedModel, load_trained_model

__all__ = [
    "Champion",
    "Decision",
    "DeploySettings",
    "Deployment",
    "RegisterSettings",
    "Registration",
    "RegistryError",
    "Rule",
    "TrainedModel",
    "__version__",
    "decide",
    "decode_float",
    "deploy",
    "deploy_settings",
    "encode_float",
    "load_trained_model",
    "read_registration",
    "recorded_figure",
    "register",
    "register_settings",
    "rule",
    "split_traffic",
    "version_labels",
]
