"""``quanta design``: the working-backwards workshop from the command line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from quanta.cli.common import MESH_OPTION, console

if TYPE_CHECKING:
    from quanta.design.refs import References
    from quanta.design.restructure import Restructure
    from quanta.design.workshop import Workshop
    from quanta.spec.loader import MeshSource

app = typer.Typer(
    help="Design by working backwards: use cases, products, systems, map, overlay, checks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Access(StrEnum):
    report = "report"
    rest = "rest"
    sql = "sql"
    files = "files"
    model = "model"


class MapFormat(StrEnum):
    mermaid = "mermaid"
    svg = "svg"
    png = "png"
    json = "json"


DRY_RUN = typer.Option(False, "--dry-run", help="Show the YAML diff of the edit; change nothing.")


def _workshop(mesh: Path) -> Workshop:
    from quanta.design.workshop import Workshop

    return Workshop(mesh)


def _references(source: MeshSource) -> References:
    from quanta.design.refs import References

    return References(source)


def _finish(workshop: Workshop, message: str, dry_run: bool) -> None:
    """Write the staged edit and say what it did, or (``--dry-run``) show its diff and write nothing."""
    if dry_run:
        typer.echo(workshop.edits.diff(), nl=False)
        typer.echo(f"dry run, nothing written: {message}")
        return
    workshop.apply()
    typer.echo(message)


@app.command("use-case")
def use_case(
    use_case_id: str = typer.Argument(..., help="Use case id (kebab-case)."),
    persona: str = typer.Option(..., "--persona", help="Who needs it."),
    domain: str = typer.Option(..., "--domain", help="The domain the persona works in."),
    statement: str = typer.Option(..., "--statement", help="As a …, I need … so that …"),
    product: str | None = typer.Option(None, "--product", help="The consumer product that serves it."),
    port: str | None = typer.Option(None, "--port", help="The product's port it uses."),
    access: Access | None = typer.Option(None, "--access", help="How it is accessed."),
    title: str | None = typer.Option(None, "--title", help="Short title."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Add a use case to mesh.yaml."""
    workshop = _workshop(mesh)
    _finish(
        workshop,
        workshop.add_use_case(
            use_case_id,
            persona,
            domain,
            statement,
            product=product,
            port=port,
            access=access.value if access else None,
            title=title,
        ),
        dry_run,
    )


@app.command("domain")
def domain_command(
    name: str = typer.Argument(...),
    team: str | None = typer.Option(None, "--team", help="Team accountable for the domain."),
    description: str | None = typer.Option(None, "--description"),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Add a domain to mesh.yaml."""
    workshop = _workshop(mesh)
    _finish(workshop, workshop.add_domain(name, team, description), dry_run)


@app.command("system")
def system(
    name: str = typer.Argument(...),
    domain: str = typer.Option(..., "--domain", help="Domain owning the system."),
    description: str | None = typer.Option(None, "--description"),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Add a system of record to mesh.yaml."""
    workshop = _workshop(mesh)
    _finish(workshop, workshop.add_system(name, domain, description), dry_run)


@app.command("product")
def product(
    name: str = typer.Argument(..., help="Product name (kebab-case)."),
    description: str = typer.Option(..., "--description", "-d", help="The job description (1-2 sentences)."),
    use_case: str = typer.Option(..., "--use-case", "-u", help="The use case that introduces it."),
    inputs: list[str] = typer.Option([], "--input", "-i", help="product:<domain.name> or system:<name>[:entity]"),
    properties: list[str] = typer.Option([], "--property", "-p", help="name:type[:description]"),
    domain: str | None = typer.Option(None, "--domain", help="Owning domain (may stay open while proposed)."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Add a proposed product stub."""
    workshop = _workshop(mesh)
    _finish(
        workshop,
        workshop.add_product(name, description, use_case, inputs=inputs, properties=properties, domain=domain),
        dry_run,
    )


@app.command("generalise")
def generalise(
    name: str = typer.Argument(..., help="Product to generalise."),
    use_case: str = typer.Option(..., "--use-case", "-u", help="The use case that needs the change."),
    inputs: list[str] = typer.Option([], "--input", "-i", help="product:<domain.name> or system:<name>[:entity]"),
    properties: list[str] = typer.Option([], "--property", "-p", help="name:type[:description]"),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Add properties or inputs to an existing product for a new use case."""
    workshop = _workshop(mesh)
    _finish(workshop, workshop.generalise(name, use_case, inputs=inputs, properties=properties), dry_run)


@app.command("describe")
def describe(
    name: str = typer.Argument(..., help="The product."),
    description: str = typer.Argument(..., help="The job description (1-2 sentences)."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Rewrite a product's job description (what `design check` flags as vague or long)."""
    workshop = _workshop(mesh)
    _finish(workshop, workshop.describe(name, description), dry_run)


@app.command("assign")
def assign(
    name: str = typer.Argument(...),
    domain: str = typer.Argument(...),
    transfer: bool = typer.Option(False, "--transfer", help="Move ownership from another domain."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Assign the product's single owning domain."""
    workshop = _workshop(mesh)
    _finish(workshop, workshop.assign(name, domain, transfer=transfer), dry_run)


@app.command("promote")
def promote(name: str = typer.Argument(...), mesh: Path = MESH_OPTION, dry_run: bool = DRY_RUN) -> None:
    """Promote a proposed product to draft (it must have a domain)."""
    workshop = _workshop(mesh)
    _finish(workshop, workshop.promote(name), dry_run)


@app.command("scaffold")
def scaffold(
    names: list[str] = typer.Argument(None, help="Products to scaffold (default: every draft without code)."),
    python: bool = typer.Option(False, "--python", help="A Python transform instead of SQL."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Turn draft products into product folders with a transformation skeleton and a test."""
    workshop = _workshop(mesh)
    done = workshop.scaffold(names or [], python=python)
    _finish(workshop, "\n".join(done) or "nothing to scaffold: promote products to draft first", dry_run)


class Kind(StrEnum):
    use_case = "use-case"
    domain = "domain"
    system = "system"
    product = "product"


def _restructure(mesh: Path) -> Restructure:
    """The renames and removals of the mesh, knowing which products have published snapshots."""
    from quanta.design.restructure import Restructure
    from quanta.errors import SpecError
    from quanta.project import Mesh
    from quanta.spec.loader import load_mesh
    from quanta.spec.plugins import PluginRegistry

    result = load_mesh(mesh)  # mid-workshop a mesh may not validate yet (a product named before it is added)
    if result.mesh is None:
        raise SpecError(result.diagnostics)
    loaded = Mesh(result.mesh, PluginRegistry.default())
    try:
        keys = {record.product_key for record in loaded.catalog.snapshots.list() if record.published_at}
    finally:
        loaded.close()
    return Restructure(_workshop(mesh), frozenset(key.rsplit("@", 1)[0] for key in keys))


@app.command("rename")
def rename(
    kind: Kind = typer.Argument(..., help="What to rename: use-case, domain, system or product."),
    old: str = typer.Argument(..., help="Its name now."),
    new: str = typer.Argument(..., help="The new name (kebab-case)."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Rename a use case, domain, system or product, and every reference to it.

    A product folder named after it moves along. A published product keeps its name (consumers
    address it by it): deprecate it and design a successor instead."""
    restructure = _restructure(mesh)
    _finish(restructure.workshop, restructure.rename(kind.value, old, new), dry_run)


@app.command("remove")
def remove(
    kind: Kind = typer.Argument(..., help="What to remove: use-case, domain, system or product."),
    name: str = typer.Argument(...),
    yes: bool = typer.Option(False, "--yes", "-y", help="Remove it and the references to it without asking."),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Remove a use case, domain, system or product, after showing what depends on it.

    References to it go too (a use case's `consumes`, a consumer's input, `introducedBy`); a domain
    that still owns something is refused. A product with published snapshots is deprecated
    instead (`quanta design deprecate`)."""
    from rich.prompt import Confirm

    restructure = _restructure(mesh)
    removal = restructure.remove(kind.value, name)
    out = console()
    if removal.dependents:
        out.print(f"{name} is referenced by:", markup=False)
        for dependent in removal.dependents:
            out.print(f"  - {dependent}", markup=False)
    if removal.dependents and not (yes or dry_run):
        try:
            agreed = Confirm.ask(f"remove {name} and these references?", default=False, console=out)
        except (EOFError, KeyboardInterrupt):
            agreed = False
        if not agreed:
            out.print("nothing removed (--yes removes without asking; --dry-run shows the diff)", markup=False)
            raise typer.Exit(1)
    _finish(restructure.workshop, removal.message, dry_run)


@app.command("deprecate")
def deprecate(name: str = typer.Argument(...), mesh: Path = MESH_OPTION, dry_run: bool = DRY_RUN) -> None:
    """Mark a product deprecated: still built and served while its consumers move on."""
    restructure = _restructure(mesh)
    _finish(restructure.workshop, restructure.deprecate(name), dry_run)


@app.command("key")
def key(
    name: str = typer.Argument(..., help="Business key name (snake_case), e.g. customer_id."),
    owner: str | None = typer.Option(None, "--owner", help="The product holding the key's reference list."),
    logical_type: str | None = typer.Option(None, "--type", help="Logical type (default: the owner property's)."),
    description: str | None = typer.Option(None, "--description", help="What the key means and who issues it."),
    carriers: list[str] = typer.Option(
        [], "--on", help="A product carrying the key: <product> (property named like the key) or <product>:<property>."
    ),
    mesh: Path = MESH_OPTION,
    dry_run: bool = DRY_RUN,
) -> None:
    """Declare a business key in the glossary and mark the properties that carry it, so products
    that are joined share it (the `missing-shared-key` warnings)."""
    workshop = _workshop(mesh)
    from quanta.design.restructure import Restructure

    message = Restructure(workshop).business_key(
        name, owner=owner, logical_type=logical_type, description=description, carriers=carriers
    )
    _finish(workshop, message, dry_run)


@app.command("slo")
def slo(
    name: str = typer.Argument(..., help="The product."),
    answers: Path | None = typer.Option(None, "--answers", help="YAML file with the answers (else: asked)."),
    infer: bool = typer.Option(
        False,
        "--infer",
        help="Source product: infer freshness from its consumers (never asks; other answers: --answers).",
    ),
    resume: bool | None = typer.Option(
        None, "--resume/--restart", help="Continue the saved session, or start afresh (default: offered)."
    ),
    build_time: str = typer.Option("5m", "--build-time", help="Expected build time the schedule leaves room for."),
    mesh: Path = MESH_OPTION,
) -> None:
    """Ask the SLO questions and write slos, a schedule and a batch/streaming recommendation.

    Interactive answers are saved after each one to .quanta/design/slo-<product>.yaml; an interrupted
    session resumes with --resume."""
    from quanta.design.slo import infer_from_consumers, propose, read_answers, session_path, validate_answers
    from quanta.project import Mesh
    from quanta.spec.base import parse_duration

    try:
        build = parse_duration(build_time)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--build-time") from None
    loaded = Mesh.load(mesh)
    product = _references(loaded.source).product(name, "NAME")
    out = console()
    inferred = None
    if infer:
        inference = infer_from_consumers(loaded.source, product, build)
        for note in inference.notes:
            out.print(note)
        if inference.freshness is None:
            out.print("nothing written")
            raise typer.Exit(1)
        inferred = inference.freshness
    session = session_path(loaded.source.root, product.spec.ref)
    document = None
    data: dict[str, object]
    if answers is not None:
        document = read_answers(answers)
        data = dict(document.data)
    elif infer:
        data = {}
    else:
        data = _questionnaire(session, product.spec.ref, resume)
    if inferred:
        data["freshness"] = inferred
    parsed = validate_answers(data, document, session)
    proposal = propose(parsed, product, build)
    workshop = _workshop(mesh)
    _finish(workshop, workshop.write_slos(product.spec.key, proposal.slos, proposal.schedule), False)
    if answers is None and not infer:
        session.unlink(missing_ok=True)
    out.print(f"recommended delivery: {proposal.mode}")
    for note in proposal.notes:
        out.print(f"- {note}")


def _questionnaire(session: Path, ref: str, resume: bool | None) -> dict[str, object]:
    """Ask every question not answered yet, validating each reply as it is typed and saving the
    answers after each one; an end of input or Ctrl-C keeps the saved session."""
    from rich.prompt import Confirm, Prompt

    from quanta.design.slo import FORMS, QUESTIONS, answer_error, field_default, save_session
    from quanta.spec.yamlsource import parse_yaml

    out = console()
    data: dict[str, object] = {}
    try:
        if session.is_file():
            document, _ = parse_yaml(session.read_text(encoding="utf-8"), str(session))
            saved = dict(document.data or {}) if document is not None and isinstance(document.data, dict) else {}
            saved = {k: v for k, v in saved.items() if k in QUESTIONS and answer_error(k, v) is None}
            if resume is None:
                resume = Confirm.ask(
                    f"resume the saved session ({len(saved)} of {len(QUESTIONS)} answered)?", default=True, console=out
                )
            if resume:
                data = saved
                out.print(f"resuming {session}: {len(saved)} of {len(QUESTIONS)} answered")
        for key, question in QUESTIONS.items():
            if key in data:
                continue
            while True:
                reply = Prompt.ask(question, default="", show_default=False, console=out).strip()
                value = _answer(key, reply) if reply else field_default(key)
                problem = "an answer is required" if value is None and key == "freshness" else answer_error(key, value)
                if problem is None:
                    break
                out.print(f"not accepted: {problem}", markup=False)
                out.print(f"accepted: {FORMS[key]}", markup=False)
            data[key] = value
            save_session(session, data)
    except (EOFError, KeyboardInterrupt):
        out.print(
            f"\ninterrupted: {len(data)} answer(s) saved to {session}; "
            f"continue with `quanta design slo {ref} --resume`",
            markup=False,
        )
        raise typer.Exit(1) from None
    return data


def _answer(key: str, reply: str) -> object:
    """An interactive reply in the shape the answers file uses (validated by the caller)."""
    words = reply.replace(",", " ").split()
    if key in ("consumers", "ports", "regulation"):
        return words
    if key == "completeness":
        return {"properties": words[:-1], "minRatio": words[-1]}
    if key == "availability":
        return {"ports": words[:-1], "target": words[-1]}
    if key == "response_time":
        return {"ports": words[:-1], "p95": words[-1]}
    if key == "volume":
        return {"rows": words[0], "growth": words[1] if len(words) > 1 else 0} if len(words) <= 2 else reply
    return reply


@app.command("report")
def report(
    mesh: Path = MESH_OPTION,
    output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="Default: <mesh>/design"),
) -> None:
    """Write the workshop report as Markdown and self-contained HTML."""
    from quanta.design.report import write_report
    from quanta.project import Mesh

    validation = Mesh.validate(mesh)
    if validation.source is None:
        from quanta.errors import SpecError

        raise SpecError(validation.diagnostics)
    target = output_dir or validation.source.root / "design"
    for path in write_report(validation.source, validation.diagnostics, target):
        typer.echo(f"wrote {path}")


@app.command("owners")
def owners(name: str = typer.Argument(...), mesh: Path = MESH_OPTION) -> None:
    """Rank candidate owning domains for a product, with reasons."""
    from rich.table import Table

    from quanta.design.ownership import rank_owners
    from quanta.project import Mesh

    loaded = Mesh.load(mesh)
    product = _references(loaded.source).product(name, "NAME")
    table = Table(title=f"candidate owners of {product.spec.ref}")
    for column in ("domain", "score", "why"):
        table.add_column(column, overflow="fold")
    for candidate in rank_owners(loaded.source, product):
        table.add_row(candidate.domain, f"{candidate.score:g}", "; ".join(candidate.reasons))
    console().print(table)


@app.command("map")
def interaction_map(
    mesh: Path = MESH_OPTION,
    output_format: MapFormat = typer.Option(MapFormat.mermaid, "--format", "-f"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file (required for png)."),
    use_case_id: str | None = typer.Option(None, "--use-case", help="Highlight one use case's path."),
    domain: str | None = typer.Option(None, "--domain", help="One domain with its neighbours."),
) -> None:
    """The interaction map as Mermaid, SVG, PNG or JSON."""
    import json

    from quanta.design.interaction import build_map
    from quanta.project import Mesh

    source = Mesh.load(mesh).source
    refs = _references(source)
    if use_case_id:
        refs.require("use case", use_case_id, "--use-case")
    if domain:
        refs.require("domain", domain, "--domain")
    if output_format is MapFormat.png and output is None:
        raise typer.BadParameter("--output is required for png")
    graph = build_map(source)
    if use_case_id:
        graph = graph.path_of(use_case_id)
    if domain:
        graph = graph.around_domain(domain)
    if output_format is MapFormat.png:
        from quanta.design.png import to_png

        assert output is not None
        output.write_bytes(to_png(graph))
        return
    if output_format is MapFormat.svg:
        from quanta.design.svg import to_svg

        text = to_svg(graph)
    elif output_format is MapFormat.json:
        text = json.dumps(graph.to_dict(), indent=2) + "\n"
    else:
        from quanta.design.mermaid import to_mermaid

        text = to_mermaid(graph)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


class OverlayFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("overlay")
def overlay_command(
    mesh: Path = MESH_OPTION,
    maps: Path | None = typer.Option(None, "--maps", help="Also write the map after each step (SVG and Mermaid) here."),
    output_format: OverlayFormat = typer.Option(OverlayFormat.table, "--format", help="table or json."),
) -> None:
    """For each use case in order: products and systems reused, generalised and added, and its edges."""
    import json

    from rich.table import Table
    from rich.text import Text

    from quanta.design.mermaid import to_mermaid
    from quanta.design.overlay import compute_overlay
    from quanta.design.svg import to_svg
    from quanta.project import Mesh

    result = compute_overlay(Mesh.load(mesh).source)
    if maps is not None:
        maps.mkdir(parents=True, exist_ok=True)
        for number, step in enumerate(result.steps, 1):
            step_map = result.map_at(number - 1)
            (maps / f"step-{number}-{step.use_case}.svg").write_text(to_svg(step_map), encoding="utf-8")
            (maps / f"step-{number}-{step.use_case}.mmd").write_text(to_mermaid(step_map), encoding="utf-8")
    if output_format is OverlayFormat.json:
        typer.echo(json.dumps([step.to_dict() for step in result.steps], indent=2))
        return
    headings = ("use case", "added", "generalised", "reused", "systems")
    rows = []
    for number, step in enumerate(result.steps, 1):
        generalised = [
            line for ref, changes in step.generalised.items() for line in [ref, *(f"  + {c}" for c in changes)]
        ]
        systems = [f"+ {s}" for s in step.systems_added] + step.systems_reused
        rows.append([[f"{number}. {step.use_case}"], step.added, generalised, step.reused, systems])
    out = console()
    widths = [max([len(h), *(len(line) for row in rows for line in row[i])]) for i, h in enumerate(headings)]
    if sum(widths) + 3 * len(widths) + 1 > out.width:  # a table this narrow would cut names: a list instead
        for row in rows:
            out.print(row[0][0], markup=False, highlight=False)
            for heading, cell in zip(headings[1:], row[1:], strict=True):
                for line in cell:
                    out.print(f"  {heading}: {line}", markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title="overlay")
    for heading in headings:
        table.add_column(heading, no_wrap=True)
    for row in rows:
        table.add_row(*(Text("\n".join(cell)) for cell in row))
    out.print(table)


@app.command("check")
def check(mesh: Path = MESH_OPTION, strict: bool = typer.Option(False, "--strict", help="Warnings fail too.")) -> None:
    """Run the validation and design rules; exit 1 on errors."""
    from quanta.cli.render import error_console, render_diagnostics
    from quanta.design.rules import design_rules
    from quanta.errors import Diagnostic
    from quanta.project import Mesh

    report = Mesh.validate(mesh)
    findings = list(report.diagnostics)
    if report.source is not None:
        findings += list(design_rules().run(report.source))
    findings.sort(key=Diagnostic.sort_key)
    render_diagnostics(findings)
    errors = [d for d in findings if d.is_error]
    warnings = len(findings) - len(errors)
    error_console().print(f"design check: {len(errors)} error(s), {warnings} warning(s)")
    raise typer.Exit(1 if errors or (strict and warnings) else 0)
