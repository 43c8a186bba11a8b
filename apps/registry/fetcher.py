"""HTTP(S) fetching of registry documents and icons, bounded in time, size and redirects."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from django.conf import settings

from apps.common.errors import ApplicationError

MAX_REDIRECTS = 5


class RegistryFetchError(ApplicationError):
    """A registry URL could not be read; the message says why and what to check."""


class NotFound(RegistryFetchError):
    pass


def url_check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RegistryFetchError(f"'{url[:200]}' is not an http(s) URL; registries are added by their web address.")


def fetch_bytes(url: str, *, max_bytes: int) -> tuple[bytes, str]:
    """GET `url`: (body, content type). Raises RegistryFetchError with a reason a user can act on."""
    url_check_scheme(url)
    timeout = settings.REGISTRY_FETCH_TIMEOUT_SECONDS
    with requests.Session() as http:
        http.max_redirects = MAX_REDIRECTS
        try:
            with http.get(url, timeout=(timeout, timeout), stream=True, headers={"Accept": "*/*"}) as response:
                url_check_scheme(response.url)
                if response.status_code == 404:
                    raise NotFound(f"{url} answered 404 Not Found.")
                if response.status_code >= 400:
                    raise RegistryFetchError(f"{url} answered HTTP {response.status_code}.")
                return _read_bounded(response, url, max_bytes), response.headers.get("Content-Type", "")
        except requests.TooManyRedirects:
            raise RegistryFetchError(f"{url} redirects more than {MAX_REDIRECTS} times (a redirect loop?).") from None
        except requests.Timeout:
            raise RegistryFetchError(f"{url} did not answer within {timeout} s.") from None
        except requests.ConnectionError:
            raise RegistryFetchError(f"Cannot connect to {url}: check the address and that the site is up.") from None
        except requests.RequestException as error:
            raise RegistryFetchError(f"Cannot fetch {url}: {error.__class__.__name__}.") from None


def _read_bounded(response: requests.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise RegistryFetchError(f"{url} is {int(declared):,} bytes; the limit is {max_bytes:,}.")
    deadline = time.monotonic() + 3 * settings.REGISTRY_FETCH_TIMEOUT_SECONDS
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if time.monotonic() > deadline:
            raise RegistryFetchError(f"{url} is sending too slowly; gave up after {len(body):,} bytes.")
        if len(body) > max_bytes:
            raise RegistryFetchError(f"{url} is larger than the {max_bytes:,}-byte limit.")
    return bytes(body)
