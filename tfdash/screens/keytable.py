"""The keyboard reference, made from the bindings themselves: docs/keys.md (`tfdash keys`)
and the help screen (`?`) both come from here, so neither can drift from the real keys.

A keymap (config.toml's ``[keys]``: binding id → keys) is applied the way Textual applies
it, so remapped keys show as remapped.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding, BindingType
from textual.keys import format_key

from tfdash.screens.alerts import AlertDetailScreen, AlertsScreen
from tfdash.screens.confirm import ConfirmScreen
from tfdash.screens.doctor import DoctorScreen
from tfdash.screens.export import ExportScreen
from tfdash.screens.export_progress import ExportProgressScreen
from tfdash.screens.host_key import HostKeyScreen
from tfdash.screens.job_detail import JobDetailScreen
from tfdash.screens.launch import LaunchScreen
from tfdash.screens.log_follow import LogFollowScreen
from tfdash.screens.log_line import LogLineScreen
from tfdash.screens.log_save import LogSaveScreen
from tfdash.screens.main import MainScreen
from tfdash.screens.passphrase import PassphraseScreen
from tfdash.screens.relaunch import RelaunchScreen
from tfdash.screens.templates import TemplatesScreen
from tfdash.widgets.host_list import HostList
from tfdash.widgets.log_pattern import LogPatternPrompt
from tfdash.widgets.log_view import LogView
from tfdash.widgets.scalar_chart import ScalarChart
from tfdash.widgets.scalars_panel import ScalarsPanel

Section = tuple[str, str, list[type]]
"""(title, where the keys work, the classes whose bindings apply there)"""

EVERYWHERE = "Everywhere"

# Every section but the App's own ("Everywhere"), which the caller adds: the App sits
# above this layer.
SCREEN_SECTIONS: list[Section] = [
    ("The dashboard", "hosts, jobs and the tabs under them", [MainScreen]),
    ("Hosts pane", "with the hosts pane focused", [HostList]),
    ("Log", "with a log focused (dashboard or job detail)", [LogView]),
    ("Log filter and find", "while typing a pattern", [LogPatternPrompt]),
    ("Scalars tab", "with the Scalars tab focused", [ScalarsPanel]),
    ("A chart", "with one chart of the Scalars tab focused", [ScalarChart]),
    ("Job detail", "Enter on a job", [JobDetailScreen]),
    ("Following a log", "a on a nohup or ended job", [LogFollowScreen]),
    ("Alerts", "! on the dashboard", [AlertsScreen]),
    ("An alert", "Enter on an alert", [AlertDetailScreen]),
    ("Templates", "T on the dashboard", [TemplatesScreen]),
    ("Relaunching a template", "Enter on a template whose job still runs", [RelaunchScreen]),
    ("Doctor", "D on the dashboard", [DoctorScreen]),
    ("Launch form", "n", [LaunchScreen]),
    ("Export dialog", "e on a job", [ExportScreen]),
    (
        "Export progress and result",
        "after an export starts, or Enter on one",
        [ExportProgressScreen],
    ),
    ("Saving a log", "ctrl+s in a log", [LogSaveScreen]),
    ("A whole line", "Enter on a cut line", [LogLineScreen]),
    ("Confirmations", "stop, remove", [ConfirmScreen]),
    ("Host keys", "t on a host with an unknown key", [HostKeyScreen]),
    ("Key passphrases", "when an SSH key needs one", [PassphraseScreen]),
]

SPELLED = {"⏎": "Enter", "esc": "Esc", "del": "Delete"}


def sections(app_class: type) -> list[Section]:
    """Every section, the App's global keys first."""
    return [(EVERYWHERE, "", [app_class]), *SCREEN_SECTIONS]


def key_names(keys: str) -> list[str]:
    """``x,delete`` → ``["x", "Delete"]``, as the keys are pressed."""
    return [SPELLED.get(format_key(key), format_key(key)) for key in keys.split(",")]


def key_text(keys: str) -> str:
    """``x,delete`` → ``x`` / ``Delete`` in Markdown code spans."""
    return " / ".join(f"`{key}`" for key in key_names(keys))


def own_bindings(cls: type) -> list[Binding]:
    """Every binding of a class, its bases' included (a subclass's win), described or not."""
    found: dict[str, Binding] = {}
    for klass in reversed(cls.__mro__):
        module = klass.__module__
        if not module.startswith(("tfdash", "textual_plot")) or "BINDINGS" not in vars(klass):
            continue
        entries: list[BindingType] = vars(klass)["BINDINGS"]
        for entry in entries:
            binding = entry if isinstance(entry, Binding) else Binding(*entry)
            found[binding.key] = binding
    return list(found.values())


def bindings_of(cls: type, keymap: Mapping[str, str] | None = None) -> list[Binding]:
    """The described bindings of a class, with the keymap's keys for remapped ids."""
    keymap = keymap or {}
    shown = []
    for binding in own_bindings(cls):
        if not binding.description:
            continue
        remapped = keymap.get(binding.id) if binding.id is not None else None
        shown.append(binding.with_key(remapped, key_display=None) if remapped else binding)
    return shown


def reference(app_class: type, keymap: Mapping[str, str] | None = None) -> str:
    """docs/keys.md: every section's keys and what they do."""
    lines = [
        "# Keys",
        "",
        "Made by `tfdash keys` from the dashboard's own bindings (a test checks this file",
        "against it). `?` shows the keys of the screen you are on; ctrl+p opens the command",
        "palette, which lists every action you can run there. config.toml's `[keys]` remaps",
        "a key by its binding id, shown in the last column.",
    ]
    for title, where, classes in sections(app_class):
        lines += ["", f"## {title}", ""]
        if where:
            lines += [f"{where[0].upper()}{where[1:]}.", ""]
        lines += ["| key | does | id |", "|---|---|---|"]
        for cls in classes:
            for binding in bindings_of(cls, keymap):
                lines.append(f"| {key_text(binding.key)} | {binding.description} | {binding.id} |")
    return "\n".join(lines) + "\n"
