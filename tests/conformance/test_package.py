"""Package rules of the checker: black-box imports, documented codes, and the CLI contract."""

from __future__ import annotations

import argparse
import ast
import json
import pathlib
import re
import socket

import pytest

from conformance import cli
from conformance.rules import RULES
from tests.conformance.codes import documented

PACKAGE = pathlib.Path(__file__).parents[2] / "conformance"
SERVER_PACKAGES = {"registry", "replica", "redaction", "rdap", "whois43", "access", "rdds"}
CODE_LITERAL = re.compile(
    r"""["']((?:schema|json|http|jcard|redacted|gtld|whois|probe|net)\.[a-z0-9.-]*[a-z0-9])["']"""
)


def imports(path: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_checker_imports_no_server_package() -> None:
    for path in PACKAGE.glob("*.py"):
        assert not imports(path) & SERVER_PACKAGES, path.name


def test_only_the_client_does_network_io() -> None:
    for path in PACKAGE.glob("*.py"):
        if path.name != "client.py":
            assert not imports(path) & {"aiohttp", "socket", "ssl"}, path.name


def test_every_module_opens_with_a_docstring() -> None:
    for path in PACKAGE.glob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), path.name


def test_every_emitted_code_is_a_rule_and_every_rule_is_emitted() -> None:
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py") if p.name != "rules.py"
    )
    emitted = set(CODE_LITERAL.findall(source))
    assert emitted == set(RULES)


def test_the_documented_table_is_the_rule_table() -> None:
    # GIVEN docs/conformance.md WHEN its table is read THEN every rule appears once, with the
    # severity, citation and reason of conformance/rules.py.
    assert documented() == {
        code: (str(rule.severity), rule.cite, rule.strength) for code, rule in RULES.items()
    }


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rdds check")
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_defaults() -> None:
    args = parse("https://rdap.example.org/help")
    assert (args.urls, args.json, args.whois, args.gtld, args.probes, args.timeout) == (
        ["https://rdap.example.org/help"],
        False,
        None,
        None,
        True,
        10.0,
    )
    args = parse("--gtld", "--no-probes", "--timeout", "3", "--whois", "[::1]:43", "example.org")
    assert (args.gtld, args.probes, args.timeout, args.whois) == (
        True,
        False,
        3.0,
        ["[::1]:43", "example.org"],
    )


@pytest.mark.parametrize(
    "argv", [(), ("--whois", "whois.example.org", "example.org"), ("--timeout", "0", "u")]
)
def test_cli_usage_errors_exit_2(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(parse(*argv)) == 2
    assert capsys.readouterr().err.startswith("rdds check:")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_cli_json_output_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/domain/example.org"
    assert cli.run(parse("--json", "--timeout", "2", url)) == 1
    out = capsys.readouterr()
    findings = json.loads(out.out)
    assert [(f["code"], f["severity"], f["url"]) for f in findings] == [("net.error", "error", url)]
    assert out.err.strip() == "1 error, 0 warnings, 0 info for 1 URL"


def test_cli_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}/help"
    assert cli.run(parse("--timeout", "2", url, "--whois", f"127.0.0.1:{port}", "example.org")) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"ERROR net.error {url} request: ")
    assert lines[1].startswith(f"ERROR net.error whois://127.0.0.1:{port}/example.org $: ")
    assert lines[-1] == "2 errors, 0 warnings, 0 info for 1 URL and 1 WHOIS query"
