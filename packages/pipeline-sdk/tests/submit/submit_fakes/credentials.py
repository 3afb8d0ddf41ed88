"""Credentials that reach the fakes: a service account's key pair, and its JSON key file with the token
endpoint at a fake (Application Default Credentials for a test's subprocess or process)."""

from __future__ import annotations

import json
from pathlib import Path

PROJECT = "demo-project"
SA_EMAIL = "submitter@demo-project.iam.gserviceaccount.com"


def new_key_pair() -> tuple[bytes, bytes]:
    """A fresh RSA key pair (private PKCS8 PEM, public PEM): the service account's key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def write_key_file(
    path: Path, private_pem: bytes, token_uri: str, *, email: str = SA_EMAIL, project: str = PROJECT
) -> Path:
    """A service-account JSON key as the IAM console issues it, with its token endpoint at ``token_uri``."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project,
                "private_key_id": "test-key-1",
                "private_key": private_pem.decode(),
                "client_email": email,
                "client_id": "1234567890",
                "token_uri": token_uri,
            }
        )
    )
    return path
