from rapidresponse.channels.console import ConsoleTransport


class ConsolePushBackend(ConsoleTransport):
    """Records push messages in the message log instead of sending them."""

    kind = "push"
