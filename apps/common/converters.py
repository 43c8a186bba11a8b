import uuid


class HexUuidConverter:
    """URLs show ids as 32 hex digits (the platform's public id format), accepting the dashed form too."""

    regex = "[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value) -> str:
        return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex
