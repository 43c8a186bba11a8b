"""TLS towards a workspace container: KasmVNC-style images serve HTTPS with a certificate they
made themselves, so it cannot be verified; the session's secret (basic auth, VNC auth) is what
proves the other end. Used by the agent's readiness probe and by both halves of the proxy."""

import functools
import ssl


@functools.cache
def workspace_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context
