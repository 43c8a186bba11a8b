"""WebSocket close codes the platform's sockets end with (4000-4999 are the application's own)."""

CLOSE_UNAUTHENTICATED = 4401  # not logged in
CLOSE_FORBIDDEN = 4403  # not yours, never was, or no longer (a kick, the share's end, a revocation)
CLOSE_UPSTREAM_FAILED = 4502  # the workspace could not be reached, or never started
CLOSE_IDLE = 4408  # no input from the owner for the idle time their groups allow; Reconnect opens it again
