"""Clerk-like session tokens minted with locally generated RSA keys, and forgeries of them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://clerk.biosync.test"
PARTY = "http://localhost:3001"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid=kid, private=rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def mint(self, sub: str | None = "user_valid", *, exp_in: int = 60, nbf_in: int = -5, **claims) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "azp": PARTY,
            "iat": now + min(nbf_in, 0),
            "nbf": now + nbf_in,
            "exp": now + exp_in,
            "sid": "sess_test",
            **claims,
        }
        payload["sub"] = sub
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": self.kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(sub: str) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "azp": PARTY, "sub": sub, "iat": now, "nbf": now - 5, "exp": now + 60}


def forge_alg_none(sub: str, kid: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(_claims(sub)).encode())}."


def forge_hs256_with_public_key(sub: str, kid: str, public_pem: str) -> str:
    """The classic confusion attack: HMAC-sign with the server's public key as the secret.

    Built by hand because PyJWT refuses to use a PEM key as an HMAC secret.
    """
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    signing_input = f"{header}.{_b64(json.dumps(_claims(sub)).encode())}"
    signature = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"
