from rapidresponse.channels.console import ConsoleTransport


class ConsoleEmailBackend(ConsoleTransport):
    """Records email in the message log instead of sending it."""

    kind = "email"
