"""Every error line the port-43 responder can send is one whole sentence (no truncation)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from registry import errors
from registry.errors import RddsError
from whois43 import protocol, render

ROOT = Path(__file__).resolve().parents[2]
#: The longest error line we send, "Error: " included: one line of a wide terminal.
MAX_LINE = 100


def assert_sentence(message: str) -> None:
    """A whole sentence: capital first, full stop last, no line break, fits one line."""
    assert message, "empty message"
    assert message[0].isupper(), message
    assert message.endswith("."), f"not a whole sentence: {message!r}"
    assert not message.endswith(("..", " .")), message
    assert "\n" not in message and "\r" not in message, message
    line = render.error(message)
    assert line == f"Error: {message}\r\n"
    assert len(line) - 2 <= MAX_LINE, f"{len(line) - 2} > {MAX_LINE}: {message!r}"


def _classes() -> list[type[RddsError]]:
    own = [
        obj
        for _, obj in inspect.getmembers(protocol, inspect.isclass)
        if issubclass(obj, RddsError) and obj.__module__ == protocol.__name__
    ]
    # The shared errors a WHOIS answer can carry: a bad query, a bad name, the root.
    return [*own, errors.RddsError, errors.BadQuery, errors.InvalidName]


CLASSES = _classes()


def test_every_error_class_is_listed() -> None:
    names_ = {c.__name__ for c in CLASSES}
    assert {"EmptyQuery", "UnknownQuery", "ReplicaUnavailable", "InternalError"} <= names_
    assert len(CLASSES) >= 15


@pytest.mark.parametrize("cls", CLASSES, ids=[c.__name__ for c in CLASSES])
def test_error_class_message_is_its_whole_one_line_docstring(cls: type[RddsError]) -> None:
    doc = inspect.cleandoc(cls.__doc__ or "")
    # The whole docstring is the message: nothing cut off after the first line.
    assert "\n" not in doc, f"{cls.__name__}: the message spans lines of its docstring"
    assert cls().message == doc
    assert_sentence(cls().message)


def test_the_empty_query_error_is_the_whole_sentence() -> None:
    with pytest.raises(protocol.EmptyQuery) as info:
        protocol.parse_query(b"")
    assert info.value.message == (
        "The query is empty: send a domain or server name, an IP address or `registrar NAME|ID`."
    )


def _raised_literals(path: Path) -> list[str]:
    """Every message literal passed to an error raised in a module (f-strings: the text)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            arg = node.exc.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                found.append(
                    "".join(v.value if isinstance(v, ast.Constant) else "X" for v in arg.values)
                )
    return found


LITERALS = sorted(
    {m for p in ("whois43/protocol.py", "registry/names.py") for m in _raised_literals(ROOT / p)}
)


def test_literals_were_found() -> None:
    assert any(m.startswith("The query is longer than") for m in LITERALS)
    assert any(m.startswith("The name has") for m in LITERALS)


@pytest.mark.parametrize("message", LITERALS)
def test_every_raised_message_literal_is_a_sentence(message: str) -> None:
    assert_sentence(message)


# Inputs reaching each formatted or name message through the parser, as a client sends them.
INPUTS = [
    b"",
    b"domain",
    b"nameserver",
    b"registrar",
    b"domain a.coop b.coop",
    b"nameserver a.coop b.coop",
    b"example.coop extra",
    b"-x example.coop",
    b"exa*",
    b"exa\x00mple",
    b"\xff",
    b".",
    b"example..coop",
    b"ab--cd.coop",
    b"xn--zz.coop",
    b"a" * 64 + b".coop",
    b"a." * 130 + b"coop",
    b"exa_mple.coop",
    "ab\u200ccd.org".encode(),
    "ex\u2488.coop".encode(),
]


@pytest.mark.parametrize("wire", INPUTS)
def test_parser_errors_are_sentences(wire: bytes) -> None:
    with pytest.raises(RddsError) as info:
        protocol.parse_query(wire)
    assert_sentence(info.value.message)


def test_too_long_is_a_sentence() -> None:
    with pytest.raises(protocol.QueryTooLong) as info:
        protocol.LineReader(16).feed(b"a" * 40)
    assert_sentence(info.value.message)


def test_server_module_sends_no_literal_error_text() -> None:
    # Every error the server sends comes from a class above, not from an inline string.
    tree = ast.parse((ROOT / "whois43" / "server.py").read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "error"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "render"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert not calls
    assert any(
        isinstance(n, ast.Attribute) and n.attr == "ReplicaUnavailable" for n in ast.walk(tree)
    )
