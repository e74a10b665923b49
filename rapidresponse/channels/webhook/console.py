from rapidresponse.channels.console import ConsoleTransport


class ConsoleWebhookBackend(ConsoleTransport):
    """Records webhook messages in the message log instead of sending them."""

    kind = "webhook"
