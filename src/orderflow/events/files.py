"""Events appended to a JSON-lines file: for the demo, and for a plant without a broker."""

from __future__ import annotations

from pathlib import Path

from orderflow.events.relay import DeliveryError
from orderflow.service.outbox import OutboxEvent

__all__ = ["FileSink"]


class FileSink:
    """Appends one line per event (the relay's payload) and flushes it to disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise DeliveryError(f"folder {self.path.parent} does not exist")
        self._fh = self.path.open("ab")

    def publish(self, event: OutboxEvent, payload: bytes) -> None:
        """Append the event; a full disk is a :class:`DeliveryError` (retried later)."""
        try:
            self._fh.write(payload + b"\n")
            self._fh.flush()
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        """Close the file."""
        self._fh.close()
