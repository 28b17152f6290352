"""A real SMTP server for the tests (aiosmtpd), which keeps what it receives and can be told to
answer the next messages with an error, or to take its time answering them.

Like a real mail server, it takes a message only when it answers 250 to its data: a client that
goes away before (a worker killed mid-send) has sent nothing.
"""

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return self.recipients[0]

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    def __init__(self, port: int | None = None, idle_timeout: float = 300):
        """`idle_timeout`: the server closes a connection idle for that long (421), as real
        servers do."""
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._replies: list[str] = []
        self._delays: list[float] = []
        self.transactions = 0
        # When each transaction reached its end of data (time.monotonic()).
        self.transaction_times: list[float] = []
        # Transactions per connection (keyed by the connection's session).
        self._per_connection: dict[int, int] = {}
        self.quits = 0
        # Set while a delayed transaction waits to be answered; how many have waited.
        self.holding = threading.Event()
        self.holds = 0
        self._controller = Controller(
            self, hostname=self.host, port=self.port, timeout=idle_timeout
        )

    # aiosmtpd calls these.
    async def handle_QUIT(self, server, session, envelope):
        with self._lock:
            self.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.transactions += 1
            self.transaction_times.append(time.monotonic())
            key = id(session)
            self._per_connection[key] = self._per_connection.get(key, 0) + 1
            delay = self._delays.pop(0) if self._delays else 0.0
            if delay:
                self.holds += 1
        if delay:
            self.holding.set()
            try:
                # aiosmtpd cancels this if the client goes away meanwhile: nothing is taken.
                await asyncio.sleep(delay)
            finally:
                self.holding.clear()
        with self._lock:
            reply = self._replies.pop(0) if self._replies else None
            if reply is not None:
                return reply
            message = message_from_bytes(envelope.content, policy=policy.default)
            self._received.append(Received(list(envelope.rcpt_tos), message))
        return "250 2.0.0 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self._replies.clear()
            self._delays.clear()
            self.transactions = 0
            self.transaction_times.clear()
            self._per_connection.clear()
            self.quits = 0
            self.holds = 0

    @property
    def connections(self) -> list[int]:
        """How many transactions each connection carried, since the last reset."""
        with self._lock:
            return list(self._per_connection.values())

    def delay_next(self, *seconds: float) -> None:
        """Wait before answering the end of data of the next messages, so many seconds each."""
        with self._lock:
            self._delays.extend(seconds)

    def answer_next(self, *replies: str | None) -> None:
        """Answer the next messages with these replies (e.g. "451 4.3.0 Try later"); None takes
        that message as usual."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} e-mail(s), received {len(self.messages)}: "
                    f"{[m.subject for m in self.messages]}"
                )
            time.sleep(0.05)
        return self.messages
