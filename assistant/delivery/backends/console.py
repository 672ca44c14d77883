import sys
import threading
import uuid

from assistant.delivery.backends.base import BaseSmsBackend, SentMessage
from assistant.delivery.segments import count_segments


class ConsoleBackend(BaseSmsBackend):
    """Print messages to standard output instead of sending them (development only).

    It prints only the last four digits of the recipient: even a development console should
    not collect residents' numbers.
    """

    _lock = threading.Lock()

    def __init__(self, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SentMessage:
        """Print the message and return a made-up sid."""
        sid = "SMconsole" + uuid.uuid4().hex[:23]
        count = count_segments(body)
        with self._lock:
            self.stream.write(
                f"--- SMS to …{to[-4:]} ({count.encoding}, {count.segments} segment(s)) ---\n"
                f"{body}\n---\n"
            )
            self.stream.flush()
        return SentMessage(sid=sid)
