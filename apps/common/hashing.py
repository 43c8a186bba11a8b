"""Secrets the platform hands out (API key secrets, session tokens) are stored only as hashes.

They are random strings of 256 bits, so plain SHA-256 cannot be brute-forced and keeps lookups
cheap; passwords chosen by people go through Django's password hashers instead.
"""

import hashlib
import hmac
import secrets


def generate_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
