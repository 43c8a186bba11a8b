"""HTTP(S) fetching of registry documents and icons, bounded in time, size and redirects."""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit

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


def fetch_bytes(url: str, *, max_bytes: int, same_origin_redirects: bool = False) -> tuple[bytes, str]:
    """GET `url`: (body, content type). Raises RegistryFetchError with a reason a user can act on.
    With `same_origin_redirects`, a redirect to another scheme, host or port is refused before it
    is followed (an icon must not make us fetch, and then publish, an internal URL)."""
    url_check_scheme(url)
    timeout = settings.REGISTRY_FETCH_TIMEOUT_SECONDS
    with requests.Session() as http:
        http.max_redirects = MAX_REDIRECTS
        try:
            with _get(http, url, timeout, same_origin_redirects) as response:
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


def _get(http: requests.Session, url: str, timeout: float, same_origin_redirects: bool) -> requests.Response:
    options = {"timeout": (timeout, timeout), "stream": True, "headers": {"Accept": "*/*"}}
    if not same_origin_redirects:
        return http.get(url, **options)
    response = http.get(url, allow_redirects=False, **options)
    for _ in range(MAX_REDIRECTS):
        if not response.is_redirect:
            return response
        target = urljoin(response.url, response.headers["Location"])
        response.close()
        if _origin(target) != _origin(url):
            raise RegistryFetchError(f"{url} redirects to another site ({urlsplit(target).netloc}); not followed.")
        response = http.get(target, allow_redirects=False, **options)
    raise requests.TooManyRedirects


def _origin(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


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
