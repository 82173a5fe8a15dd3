"""The docs cover what the code can say: every error, config key, agent method and link.

Read from the source with ``ast`` (nothing is run), so a new error message, config key or
agent method fails here until docs/ explains it. A message is "documented" when the
longest literal piece of its template (the text between its placeholders) is quoted in
docs/troubleshooting.md; that piece survives rewording of the placeholders around it.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from remote_agent import protocol
from tfdash import config

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
SOURCES = ("tfdash", "remote_agent")
TROUBLESHOOTING = DOCS / "troubleshooting.md"

MIN_PIECE = 12
"""Shorter literal pieces (``"<host>: <exc>"``) say nothing a person could look up."""
INTERNAL_EXCEPTIONS = {"Moved", "_DeviceFailed", "SftpUnavailable"}
"""Project exceptions used for control flow; their text never reaches a person."""
CONFIG_CHECKERS = {
    "tfdash/config.py",
    "tfdash/config_values.py",
    "tfdash/config_ui.py",
    "tfdash/templates.py",
}
"""Files whose ValueErrors become ConfigErrors (``<file>, line <n>: <key>: <message>``)."""
FAIL_HELPERS = {"fail", "error_at"}
"""Config helpers that build a ConfigError from their last argument."""


def _normalize(text: str) -> str:
    return " ".join(text.replace("`", "").replace("\\", "").split()).lower()


@functools.cache
def _python_files() -> tuple[tuple[str, ast.Module], ...]:
    """Every source file of the project, parsed once per test session."""
    return tuple(
        (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text("utf-8")))
        for package in SOURCES
        for path in sorted((ROOT / package).rglob("*.py"))
    )


def _exception_classes(trees: list[tuple[str, ast.Module]]) -> dict[str, list[str]]:
    """Every class defined in the project with its base names (by simple name)."""
    classes: dict[str, list[str]] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = [ast.unparse(base).split(".")[-1] for base in node.bases]
    exceptions: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, bases in classes.items():
            if name not in exceptions and any(
                base.endswith(("Exception", "Error")) or base in exceptions for base in bases
            ):
                exceptions.add(name)
                changed = True
    return {name: classes[name] for name in exceptions}


def _template(node: ast.expr) -> list[str] | None:
    """The literal pieces of a message expression, or None when it has none to read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        pieces, current = [], ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                current += str(value.value)
            else:
                pieces.append(current)
                current = ""
        return [*pieces, current]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        if left is not None and right is not None:
            return [*left[:-1], left[-1] + right[0], *right[1:]]
        return left or right
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        return re.split(r"\{[^}]*\}", node.func.value.value)
    return None


def _keyword(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return None


def _is_alarm(call: ast.Call) -> bool:
    """A Textual ``notify(..., severity="error"|"warning")``: a problem shown to a person."""
    name = ast.unparse(call.func).split(".")[-1]
    return name == "notify" and _keyword(call, "severity") in ("error", "warning")


def _message_node(path: str, call: ast.Call, exceptions: set[str]) -> ast.expr | None:
    name = ast.unparse(call.func).split(".")[-1]
    if not call.args:
        return None
    if _is_alarm(call):
        return call.args[0]
    if name in exceptions and name not in INTERNAL_EXCEPTIONS:
        return call.args[0]
    if path in CONFIG_CHECKERS and (name == "ValueError" or name in FAIL_HELPERS):
        return call.args[-1]
    return None


def error_messages() -> list[tuple[str, int, str]]:
    """(file, line, longest literal piece) of every message an error built in the code has."""
    trees = list(_python_files())
    exceptions = set(_exception_classes(trees))
    found = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            message = _message_node(path, node, exceptions)
            pieces = _template(message) if message is not None else None
            if not pieces:
                continue
            piece = max((" ".join(p.split()) for p in pieces), key=len).strip(" :;,.(")
            if len(piece) >= MIN_PIECE:
                found.append((path, node.lineno, piece))
    return found


def error_titles() -> list[tuple[str, str]]:
    """(owner, title) of every TfdashError subclass, the agent's codes and the error or
    warning notifications."""
    titles = [
        (f"agent code {code}", name.capitalize()) for code, name in protocol.ERROR_NAMES.items()
    ]
    for path, tree in _python_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_alarm(node):
                title = _keyword(node, "title")
                if title is not None:
                    titles.append((path, title))
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [ast.unparse(t) for t in statement.targets] == ["title"]
                    and isinstance(statement.value, ast.Constant)
                ):
                    titles.append((node.name, str(statement.value.value)))
    return titles


def test_every_error_message_is_in_troubleshooting() -> None:
    doc = _normalize(TROUBLESHOOTING.read_text("utf-8"))
    missing = [
        f"{path}:{line}: {piece!r}"
        for path, line, piece in error_messages()
        if _normalize(piece) not in doc
    ]
    assert not missing, "docs/troubleshooting.md does not quote:\n" + "\n".join(missing)


def test_every_error_title_is_in_troubleshooting() -> None:
    doc = TROUBLESHOOTING.read_text("utf-8")
    missing = [f"{owner}: {title!r}" for owner, title in error_titles() if title not in doc]
    assert not missing, "docs/troubleshooting.md lacks the titles:\n" + "\n".join(missing)


def test_the_message_finder_sees_known_messages() -> None:
    """Guards the finder itself: it must keep seeing messages of each kind of source."""
    pieces = {piece for _, _, piece in error_messages()}
    assert "tmux is not installed on this host" in " ".join(pieces)  # agent Unavailable
    assert any("is not a port number (1-65535)" in piece for piece in pieces)  # config
    assert any("gave up waiting for it after" in piece for piece in pieces)  # f-string
    assert any(piece.startswith("stop it first") for piece in pieces)  # str.format
    assert any("did not stop, so it was not launched again" in p for p in pieces)  # notify
    assert len(pieces) > 150


def _sections(markdown: str) -> dict[str, str]:
    """Heading line → the text under it, up to the next heading of any level."""
    sections: dict[str, str] = {}
    heading = ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = line
            sections[heading] = ""
        else:
            sections[heading] = sections.get(heading, "") + line + "\n"
    return sections


@pytest.mark.parametrize("table", sorted(config.accepted_keys()))
def test_every_config_key_is_in_configuration_md(table: str) -> None:
    sections = _sections((DOCS / "configuration.md").read_text("utf-8"))
    under = [text for heading, text in sections.items() if f"`[{table}]`" in heading]
    assert under, f"docs/configuration.md has no heading naming `[{table}]`"
    missing = [key for key in config.accepted_keys()[table] if f"`{key}`" not in under[0]]
    assert not missing, f"docs/configuration.md [{table}] does not describe: {missing}"


def _agent_methods() -> list[str]:
    tree = ast.parse((ROOT / "remote_agent" / "handlers.py").read_text("utf-8"))
    return [
        str(decorator.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
        and ast.unparse(decorator.func).endswith(".method")
        and isinstance(decorator.args[0], ast.Constant)
    ]


def test_every_agent_method_is_in_protocol_md() -> None:
    methods = _agent_methods()
    assert "jobs.launch" in methods and "hello" in methods
    headings = [
        line for line in (DOCS / "protocol.md").read_text("utf-8").splitlines() if line[:1] == "#"
    ]
    missing = [
        method
        for method in methods
        if not any(re.search(rf"`{re.escape(method)}[ `]", heading) for heading in headings)
    ]
    assert not missing, f"docs/protocol.md has no heading for: {missing}"


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    in_code = False
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        anchor = _anchor(line)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def _links() -> Iterator[tuple[Path, str]]:
    for doc in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = re.sub(r"```.*?```", "", doc.read_text("utf-8"), flags=re.S)
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in LINK.findall(text):
            if not re.match(r"[a-z]+:", target):
                yield doc, target


def test_every_doc_link_reaches_a_file_and_anchor() -> None:
    broken = []
    for doc, target in _links():
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.exists():
            broken.append(f"{doc.name}: {target} (no file {file_part})")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{doc.name}: {target} (no heading #{anchor})")
    assert not broken, "broken links:\n" + "\n".join(broken)
