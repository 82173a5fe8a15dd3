"""`tfdash run TEMPLATE` and `tfdash templates`: the jobs a project's tfdash.toml declares.

`tfdash run` reads one word without `--` as a template name; options before the name
override the template's values (docs/templates.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from tfdash.cli.jobs import (
    export_options,
    format_table,
    job_cwd,
    launch_job,
    launch_spec,
    parse_env,
)
from tfdash.errors import UsageError
from tfdash.models import JobSpec
from tfdash.templates import (
    JobTemplate,
    TemplateOverrides,
    find_templates_file,
    load_templates,
    no_templates_message,
)


async def run_command_or_template(args: argparse.Namespace) -> int:
    """`tfdash run`: a template when the first word (no `--` before it) names one."""
    words = list(args.command)
    if not words or words[0] == "--":
        return await launch_job(args)
    template = template_named(words[0], required=len(words) == 1)
    if template is None:  # several words and no template of the first: a command
        return await launch_job(args)
    if len(words) > 1:
        extra = " ".join(words[1:])
        raise UsageError(
            f"{words[0]!r} is a template: give options before its name, not after "
            f"({extra!r}), e.g. tfdash run --gpus 0 {words[0]}"
        )
    return await launch_template(args, template)


def template_named(name: str, *, required: bool) -> JobTemplate | None:
    """The template ``name`` from the nearest tfdash.toml; if ``required``, an error
    explaining how to run ``name`` as a command instead of None."""
    hint = f"to run a command, put it after --: tfdash run -- {name}"
    path = find_templates_file()
    if path is None:
        if required:
            raise UsageError(f"{no_templates_message()}; {hint}")
        return None
    templates = load_templates(path)
    if name in templates.templates or required:
        try:
            return templates.get(name)
        except UsageError as exc:
            raise UsageError(f"{exc.message}; {hint}") from None
    return None


async def launch_template(args: argparse.Namespace, template: JobTemplate) -> int:
    """Launch ``template`` on its host; an explicit, different --host is refused."""
    if getattr(args, "host_given", False) and args.host != template.host:
        raise UsageError(
            f"template {template.name!r} runs on host {template.host!r}, not {args.host!r}: "
            f"leave out --host, or change host in the template"
        )
    on_host = argparse.Namespace(**{**vars(args), "host": template.host})
    job = await launch_spec(on_host, template_spec(template, on_host))
    print(json.dumps(job.to_json(), indent=2) if args.json else job.id)
    return 0


def template_spec(template: JobTemplate, args: argparse.Namespace) -> JobSpec:
    """The template's spec with the `tfdash run` options given on the command line."""
    overrides = TemplateOverrides(
        name=args.name,
        mode=args.mode,
        gpus=args.gpus,
        logdir=args.logdir,
        cwd=job_cwd(args) if args.cwd else None,
        env=parse_env(args.env),
        export=export_options(args),
    )
    return template.to_spec(overrides)


def list_templates(args: argparse.Namespace) -> int:
    """`tfdash templates [--json]`: the templates of the nearest tfdash.toml."""
    path = find_templates_file()
    if path is None:
        raise UsageError(no_templates_message())
    templates = list(load_templates(path).templates.values())
    if args.json:
        listing = {"file": str(path), "templates": [template_json(t) for t in templates]}
        print(json.dumps(listing, indent=2))
        return 0
    rows = [("NAME", "HOST", "MODE", "COMMAND")]
    rows += [(t.name, t.host, t.mode.value, t.command) for t in templates]
    print(path)
    print(format_table(rows))
    if not templates:
        print(f"(no templates: add [jobs.NAME] tables to {path})", file=sys.stderr)
    return 0


def template_json(template: JobTemplate) -> dict[str, Any]:
    """One template as `tfdash templates --json` prints it."""
    out = dataclasses.asdict(template)
    out["mode"] = template.mode.value
    return out
