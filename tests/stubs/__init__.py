"""Local stand-ins for third-party HTTP APIs: real HTTP servers on 127.0.0.1, never mocks.

- ``twilio_stub.TwilioStub``: Twilio's Messages API (see its module docstring).
"""
