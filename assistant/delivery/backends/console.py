import sys
import threading
import uuid

from assistant.delivery.backends.base import BaseSmsBackend, SentMessage
from assistant.delivery.segments import count_segments
from assistant.privacy import is_whatsapp


class ConsoleBackend(BaseSmsBackend):
    """Print messages to standard output instead of sending them (development only).

    It prints only the last four digits of the recipient: even a development console should
    not collect residents' numbers.
    """

    _lock = threading.Lock()

    def __init__(self, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None = None,
        content_sid: str = "",
    ) -> SentMessage:
        """Print the message and return a made-up sid."""
        sid = "SMconsole" + uuid.uuid4().hex[:23]
        count = count_segments(body)
        with self._lock:
            self.stream.write(
                f"--- {'WhatsApp' if is_whatsapp(to) else 'SMS'} to …{to[-4:]} "
                f"({count.encoding}, {count.segments} segment(s)) ---\n"
                f"{'template ' + content_sid + ' ' if content_sid else ''}{body}\n---\n"
            )
            self.stream.flush()
        return SentMessage(sid=sid)
