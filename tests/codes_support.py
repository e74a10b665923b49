"""Reading one-time codes the way a person trying the demo does: from what the console
backends print to standard output (the terminal of `make run`). The database and the message
log hold only the masked text, so tests cannot find a code there.

A test module that needs codes says ``pytestmark = pytest.mark.usefixtures("inbox")`` (or
takes the ``inbox`` fixture); its helpers then call ``current()``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from rapidresponse.delivery import outbox

# channels/console.py: "[sms to ***0123, member 12] the whole text"
_LINE = re.compile(r"^\[(?P<channel>\w+) to (?P<to>.*), member (?P<member>\d+)\] (?P<text>.*)$")


@dataclass(frozen=True)
class Printed:
    channel: str
    to_masked: str
    member_id: int
    text: str

    @property
    def code(self) -> str:
        found = re.findall(r"\b\d{6}\b", self.text)
        assert len(found) == 1, self.text
        return found[0]


class Inbox:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.printed: list[Printed] = []

    def read(self) -> list[Printed]:
        """Everything printed so far (the outbox is not drained here)."""
        for line in self._capsys.readouterr().out.splitlines():
            match = _LINE.match(line)
            if match:
                self.printed.append(Printed(
                    channel=match["channel"], to_masked=match["to"],
                    member_id=int(match["member"]), text=match["text"]))
        return self.printed

    def last(self, member: Any = None, *, channel: str | None = None) -> Printed:
        """Drain the outbox; the last message with a code that reached this member (any
        member when None) on this channel (any when None)."""
        outbox.drain()
        found = [p for p in self.read()
                 if (member is None or p.member_id == member.pk)
                 and (channel is None or p.channel == channel)]
        assert found, "no message with a code reached the member"
        return found[-1]

    def code(self, member: Any = None, *, channel: str | None = None) -> str:
        return self.last(member, channel=channel).code


_current: Inbox | None = None


@pytest.fixture
def inbox(capsys: pytest.CaptureFixture[str]) -> Iterator[Inbox]:
    global _current
    _current = Inbox(capsys)
    try:
        yield _current
    finally:
        _current = None


def current() -> Inbox:
    assert _current is not None, "this test needs the `inbox` fixture to read codes"
    return _current
