from rapidresponse.channels.console import ConsoleTransport


class ConsoleSmsBackend(ConsoleTransport):
    """Records SMS in the message log instead of paying a provider."""

    kind = "sms"
