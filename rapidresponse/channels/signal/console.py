from rapidresponse.channels.console import ConsoleTransport


class ConsoleSignalBackend(ConsoleTransport):
    """Records signal messages in the message log instead of sending them."""

    kind = "signal"
