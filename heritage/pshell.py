"""``pshell development.ini``: the root and the transaction manager at hand."""

from typing import Any


def setup(env: dict[str, Any]) -> None:
    request = env["request"]
    env["tm"] = request.tm
    env["root"] = request.root
