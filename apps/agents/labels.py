"""Labels the platform puts on Docker images and containers, so an agent can tell what is ours."""

MANAGED_LABEL = "org.kasm-local.managed"  # an image or container this platform created
SESSION_LABEL = "org.kasm-local.session"  # hex id of the session a container belongs to
USER_LABEL = "org.kasm-local.user"
IMAGE_LABEL = "org.kasm-local.image"
AGENT_LABEL = "org.kasm-local.agent"
INSTALLATION_LABEL = "org.kasm-local.installation"  # id of the installation that created it
