"""The ``titlereview`` command line (click): database, demo, serving, pipelines, audit and timers."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from workflow import migrate
from workflow.db import Database, database_url
from workflow.pipeline.catalog import PIPELINES_DIR
from workflow.pipeline.schema import load_pipeline_dir
from workflow.pipeline.yamlsource import DefinitionError


def _db(ctx: click.Context) -> Database:
    return Database(ctx.obj["database_url"])


def _init(db: Database) -> list[tuple[str, int]]:
    """Migrate, then store new pipeline versions and seed standards; return the pipelines added."""
    from workflow.bootstrap import init_database

    return init_database(db)


@click.group()
@click.option("--database-url", envvar="TITLEREVIEW_DATABASE_URL", default=None,
              help="SQLAlchemy URL (default: SQLite at instance/titlereview.db).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """titlereview: professional title review (职称评审) workflow engine."""
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


@main.command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Migrate the database to the newest schema and store new pipeline versions."""
    db = _db(ctx)
    try:
        added = _init(db)
    except DefinitionError as err:
        raise click.ClickException(f"pipeline definitions are invalid:\n{err}") from None
    click.echo(f"database ready at revision {migrate.current_revision(db)} ({database_url(ctx.obj['database_url'])})")
    for pid, version in added:
        click.echo(f"  stored pipeline {pid} v{version}")


def _print_logins(shares_dir: Path | None = None) -> None:
    """The demo's login table (every committee member included) and where the ballot-key shares are."""
    from seed.demo import demo_login_table, format_login_table

    for line in format_login_table(demo_login_table()):
        click.echo(line)
    if shares_dir is not None and shares_dir.is_dir():
        click.echo("演示评委会的计票密钥分片（A 主任委员、B 经办人；结束投票时两份都要填写或上传；仅限演示——"
                   "正式环境由两人各自保管，不存放在服务器上）/ the demo committees' ballot-key shares (demo only): "
                   f"{shares_dir}")


def _demo_uploads_dir() -> Path:
    """The upload folder the served app will use (``instance/uploads``): the demo's material files go there."""
    from web import _instance_path

    return _instance_path({}) / "uploads"


def _demo_shares_dir(db) -> Path:
    """Where the demo writes its committees' key shares: beside the SQLite demo database (else ./instance)."""
    if db.is_sqlite and db.engine.url.database:
        return Path(db.engine.url.database).resolve().parent / "demo-ballot-shares"
    return Path("instance") / "demo-ballot-shares"


@main.command()
@click.pass_context
def seed(ctx: click.Context) -> None:
    """Load the Hunan demo data set (organisations, people, sessions, ~30 cases)."""
    from seed.demo import load_demo

    db = _db(ctx)
    _init(db)
    shares = _demo_shares_dir(db)
    load_demo(db, shares_dir=shares, uploads_dir=_demo_uploads_dir())
    _print_logins(shares)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--fresh", is_flag=True, help="Delete the SQLite demo database first.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, fresh: bool) -> None:
    """Create the demo database (if needed), seed it, print the logins and serve on HOST:PORT."""
    from seed.demo import demo_is_loaded, load_demo

    db = _db(ctx)
    if fresh and db.is_sqlite:
        path = Path(db.engine.url.database)
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = _db(ctx)
    _init(db)
    shares = _demo_shares_dir(db)
    if not demo_is_loaded(db):
        load_demo(db, shares_dir=shares, uploads_dir=_demo_uploads_dir())
    click.echo(f"titlereview demo: http://{host}:{port}/")
    _print_logins(shares)
    # The demo is served over plain HTTP: a Secure session cookie would never come back (production: HTTPS).
    os.environ.setdefault("TITLEREVIEW_COOKIE_SECURE", "0")
    _serve(ctx.obj["database_url"], f"{host}:{port}", workers=1, threads=4, demo=True)


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True, type=int, help="Processes (2 suits a 2-core host).")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per process.")
@click.pass_context
def serve(ctx: click.Context, bind: str, workers: int, threads: int) -> None:
    """Serve the web application under gunicorn."""
    _serve(ctx.obj["database_url"], bind, workers=workers, threads=threads)


def hide_server_banner() -> None:
    """Make gunicorn's ``Server`` response header empty instead of ``gunicorn``.

    gunicorn writes that header itself and drops one the application sets; it has no setting for it. The value
    comes from ``gunicorn.SERVER``, which ``gunicorn.http.wsgi`` copied when it was imported, so both are set
    (before the workers are forked, which inherit them). Naming the server software only helps whoever scans
    for hosts running a version with a known flaw.
    """
    import gunicorn
    from gunicorn.http import wsgi as gunicorn_wsgi

    gunicorn.SERVER = ""
    gunicorn_wsgi.SERVER = ""


def _serve(url: str | None, bind: str, *, workers: int, threads: int, demo: bool = False) -> None:
    """Run the app under gunicorn; ``demo`` (only ``titlereview demo`` passes it) turns on the demo mode, whose
    login page lists the demo's accounts to switch between."""
    from gunicorn.app.base import BaseApplication

    from web import create_app

    hide_server_banner()

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": bind, "workers": workers, "threads": threads,
                               "worker_class": "gthread", "accesslog": "-", "timeout": 60}.items():
                self.cfg.set(key, value)

        def load(self):
            config: dict[str, object] = {"DEMO_MODE": True} if demo else {}
            if url:
                config["DATABASE_URL"] = url
            return create_app(config)

    _App().run()


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=PIPELINES_DIR, show_default=True)
@click.pass_context
def pipelines(ctx: click.Context, as_json: bool, directory: Path) -> None:
    """List the pipeline definitions (checked as they load)."""
    try:
        found = load_pipeline_dir(directory)
    except DefinitionError as err:
        raise click.ClickException(f"pipeline definitions are invalid:\n{err}") from None
    ctx.obj["pipelines"] = {pid: p for pid, (p, _) in found.items()}
    if ctx.invoked_subcommand is not None:
        return
    summaries = [p.summary() for _, p in sorted(ctx.obj["pipelines"].items())]
    if as_json:
        click.echo(json.dumps(summaries, ensure_ascii=False, indent=2))
        return
    for s in summaries:
        click.echo(f"{s['id']:<20} v{s['version']}  {s['label']['zh']}  "
                   f"{len(s['states'])} states, {len(s['transitions'])} transitions")


@pipelines.command("show")
@click.argument("pipeline_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def pipelines_show(ctx: click.Context, pipeline_id: str, as_json: bool) -> None:
    """Show one pipeline: states, transitions with roles and guards, and parameters with their sources."""
    p = ctx.obj["pipelines"].get(pipeline_id)
    if p is None:
        raise click.ClickException(f"no pipeline {pipeline_id!r} (known: {', '.join(sorted(ctx.obj['pipelines']))})")
    if as_json:
        click.echo(json.dumps(p.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    click.echo(f"{p.id} v{p.version}: {p.label.zh} / {p.label.en}\n{p.description.zh}\n")
    click.echo("parameters:")
    for name, param in p.parameters.items():
        click.echo(f"  {name} = {param.value!r}  [{param.tag}] {param.source}")
    click.echo("\nstates:")
    for s in p.states:
        click.echo(f"  {s.name:<26} {s.label.zh}{'  (final)' if s.final else ''}")
    click.echo("\ntransitions:")
    for t in p.transitions:
        extra = []
        if t.guards:
            extra.append("guards=" + ",".join(t.guards))
        if t.requires:
            extra.append("requires=" + ",".join(t.requires))
        if t.deadline:
            extra.append(f"deadline={t.deadline.name}({t.deadline.days} {t.deadline.calendar} days)")
        click.echo(f"  {t.trigger:<24} {','.join(t.source)} -> {t.dest}  [{','.join(t.roles)}] {' '.join(extra)}")


@main.command()
@click.option("--quick", is_flag=True, help="Small N, under a minute; PostgreSQL only if reachable.")
def bench(quick: bool) -> None:
    """Benchmarks: each scenario against its floor; the last line of output is one JSON object.

    ``bench/`` is not installed with the package (a server has no use for it): it runs from a source checkout,
    which an editable install (``python3 dev.py``) is.
    """
    import sys
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "bench" / "run.py").is_file():
        raise click.ClickException("the benchmarks run from a source checkout of titlereview (bench/ is not "
                                   "installed with the package)")
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from bench.run import main as run_bench

    run_bench(quick=quick)


@main.group()
def audit() -> None:
    """Audit-trail tools."""


def _public_keys(extra: tuple[str, ...] = ()):
    """The checkpoint verify set (environment, ``--public-key`` options, the signing key's own half)."""
    from workflow.records.checkpoints import CheckpointError, configured_public_keys

    try:
        return configured_public_keys(extra=extra)
    except CheckpointError as err:
        raise click.ClickException(str(err)) from None


_PUBLIC_KEY_OPTION = click.option(
    "--public-key", "public_keys", multiple=True,
    help="A public key to verify checkpoints with (base64 or a PEM file), besides "
         "TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS; repeat for several.")


@audit.command("verify")
@click.option("--against", "against", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A checkpoint file kept outside (export-checkpoints / the public download) to check against.")
@_PUBLIC_KEY_OPTION
@click.pass_context
def audit_verify(ctx: click.Context, against: Path | None, public_keys: tuple[str, ...]) -> None:
    """Walk every case's hash chain and check the database against the newest signed checkpoint.

    Exit 1 naming the case and row of everything that changed: broken chains, re-chained edits (a head that
    differs from the signed one), deleted cases, changed tallies of closed ballot boxes, and checkpoints that
    are missing, replaced or forged.
    """
    from workflow.records.checkpoints import CheckpointError, load_checkpoint_file, verify

    keys = _public_keys(public_keys)
    try:
        kept = load_checkpoint_file(against) if against is not None else None
    except CheckpointError as err:
        raise click.ClickException(str(err)) from None
    # Once keys are configured checkpoints are in use: an empty table then means they were deleted.
    report = verify(_db(ctx), keys, kept=kept, require_checkpoint=bool(keys))
    if not report.ok:
        for finding in report.findings:
            click.echo(f"BROKEN {finding}", err=True)
        chains = len({f.case_id for f in report.findings if f.kind == "chain"})
        count = len(report.findings)
        click.echo(f"{count} problem{'' if count == 1 else 's'} found; {chains} of {report.cases} case chains "
                   "are broken", err=True)
        sys.exit(1)
    click.echo(f"all {report.cases} case chains verify")
    if report.reference is None:
        click.echo("no signed checkpoint to check against (titlereview audit checkpoint signs one)")
    else:
        click.echo(f"{report.checkpoints} checkpoints verify; the database matches checkpoint {report.reference}")


@audit.command("keygen")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the private key (mode 0600; an existing file is never overwritten).")
def audit_keygen(out: Path) -> None:
    """Create an Ed25519 checkpoint signing key; print its public key for TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS."""
    from workflow.records.checkpoints import CheckpointError, fingerprint, generate_key, key_id, public_key_text

    try:
        key = generate_key(out)
    except CheckpointError as err:
        raise click.ClickException(str(err)) from None
    public = key.public_key()
    click.echo(f"private key written to {out} (mode 0600); keep it off the database host's backups")
    click.echo(f"public key:  {public_key_text(public)}")
    click.echo(f"key id:      {key_id(public)}")
    click.echo(f"fingerprint: SHA256:{fingerprint(public)}")


@audit.command("checkpoint")
@click.option("--key", "key_path", envvar="TITLEREVIEW_CHECKPOINT_KEY", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The private key file (default: TITLEREVIEW_CHECKPOINT_KEY).")
@click.option("--force", is_flag=True, help="Sign even though the database does not verify (after investigating).")
@_PUBLIC_KEY_OPTION
@click.pass_context
def audit_checkpoint(ctx: click.Context, key_path: Path, force: bool, public_keys: tuple[str, ...]) -> None:
    """Verify, then sign a checkpoint of every chain head, the case count and every closed tally (run by a timer).

    Refuses (exit 1, naming what changed) when the database does not verify against the newest checkpoint.
    """
    from workflow.records.checkpoints import CheckpointError, CheckpointRefused, load_private_key, sign_checkpoint

    try:
        key = load_private_key(key_path)
    except CheckpointError as err:
        raise click.ClickException(str(err)) from None
    try:
        cp = sign_checkpoint(_db(ctx), key, public_keys=_public_keys(public_keys), force=force)
    except CheckpointRefused as err:
        for finding in err.report.findings:
            click.echo(f"BROKEN {finding}", err=True)
        raise click.ClickException(f"{err} (see docs/deployment.md before using --force)") from None
    body = cp.body
    click.echo(f"checkpoint {cp.seq} signed by key {cp.key_id}: {body['cases']['count']} cases, "
               f"{body['closed_tallies']['count']} closed ballot boxes, digest {cp.digest}")


@audit.command("export-checkpoints")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--with-lists", is_flag=True,
              help="Include every case head and closed tally (for a private archive; not for publishing).")
@_PUBLIC_KEY_OPTION
@click.pass_context
def audit_export_checkpoints(ctx: click.Context, out: Path | None, with_lists: bool,
                             public_keys: tuple[str, ...]) -> None:
    """Write every signed checkpoint as JSON lines (the file outsiders keep; see the public page)."""
    from workflow.records.checkpoints import export_checkpoints

    lines = export_checkpoints(_db(ctx), _public_keys(public_keys), with_lists=with_lists)
    if out is None:
        for line in lines:
            click.echo(line, nl=False)
        return
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.writelines(lines)
    tmp.replace(out)  # a reader (or a sync job) never sees half a file
    click.echo(f"checkpoints written to {out}")


_ADVANCE = re.compile(r"^(\d{1,4})(wd|d|h)$")


def _advanced(db: Database, now: datetime, text: str) -> datetime:
    """``now`` moved on by ``text``: ``5d`` calendar days, ``36h`` hours, or ``5wd`` working days — the moment a
    period of five working days begun now runs out, as the notice periods count them (holidays and adjusted
    working days included)."""
    match = _ADVANCE.match(text.strip().lower())
    if match is None:
        raise click.BadParameter("use a number and a unit: 5d (days), 5wd (working days) or 36h (hours)",
                                 param_hint="--advance")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "d":
        return now + timedelta(days=n)
    if unit == "h":
        return now + timedelta(hours=n)
    from workflow.time.workdays import calendar_from_db

    with db.read() as conn:
        return calendar_from_db(conn).period_end(now, n)


@main.command()
@click.option("--now", "now_text", default=None,
              help="Pretend it is this ISO time (testing, catch-up); Beijing time unless an offset is given.")
@click.option("--advance", "advance_text", default=None,
              help="Pretend time has moved on from now (or --now): 5d, 36h, or 5wd for five working days.")
@click.pass_context
def tick(ctx: click.Context, now_text: str | None, advance_text: str | None) -> None:
    """Fire due deadlines, send reminders and deliver the outbox (safe to run from several hosts)."""
    from workflow.engine.timers import tick as run_tick
    from workflow.models import utcnow
    from workflow.records.mailer import SmtpSettings, send_pending
    from workflow.records.notify import dispatch
    from workflow.time.calendar import CHINA_TZ

    now = utcnow()
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("use ISO 8601, e.g. 2026-12-01T09:00 (Beijing time) or with an offset",
                                     param_hint="--now") from None
        if now.tzinfo is None:  # the people running the demo and the deadlines both live in Beijing time
            now = now.replace(tzinfo=CHINA_TZ)
    db = _db(ctx)
    if advance_text:
        now = _advanced(db, now, advance_text)
        click.echo(f"pretending it is {now.astimezone(CHINA_TZ).isoformat(timespec='minutes')} (Beijing time)")
    report = run_tick(db, now=now)
    delivered = dispatch(db)
    mail = ""
    smtp = SmtpSettings.from_env()
    if smtp is not None:
        sent, failed = send_pending(db, smtp)
        mail = f", e-mails sent {sent}" + (f" ({failed} failed, will retry)" if failed else "")
    click.echo(f"fired {len(report.fired)}, reminders {len(report.reminded)}, waiting {report.waiting}, "
               f"failed {len(report.failed)}, messages delivered {delivered}{mail}")
    for case_id, why in report.failed:
        click.echo(f"  case {case_id}: {why}", err=True)
    _checkpoint_after_sign_off(db)


def _checkpoint_after_sign_off(db: Database) -> None:
    """Sign an audit checkpoint when a sitting was signed off since the last one and this host has the key."""
    key_path = os.environ.get("TITLEREVIEW_CHECKPOINT_KEY")
    if not key_path:
        return  # the key lives on one host only; the others' ticks leave checkpoints to it
    from workflow.records.checkpoints import (
        CheckpointError,
        CheckpointRefused,
        checkpoint_due,
        configured_public_keys,
        load_private_key,
        sign_checkpoint,
    )

    try:
        if not checkpoint_due(db):
            return
        cp = sign_checkpoint(db, load_private_key(key_path), public_keys=configured_public_keys())
    except CheckpointRefused as err:
        for finding in err.report.findings:
            click.echo(f"BROKEN {finding}", err=True)
        raise click.ClickException(f"audit checkpoint after the sign-off: {err}") from None
    except CheckpointError as err:
        raise click.ClickException(f"audit checkpoint after the sign-off: {err}") from None
    click.echo(f"audit checkpoint {cp.seq} signed after a sitting was signed off")


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it already exists.")
@click.pass_context
def backup_cmd(ctx: click.Context, path: Path, force: bool) -> None:
    """Write a consistent copy of the whole database to PATH (safe while the application runs).

    SQLite: a SQLite file (online backup API). PostgreSQL: a pg_dump custom-format archive.
    """
    from workflow.records.backup import BackupError, backup

    db = _db(ctx)
    try:
        info = backup(db, path, force=force)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.dispose()
    click.echo(f"备份完成 / backup written: {info.path} ({info.backend}, {info.size:,} bytes, "
               f"schema revision {info.revision})")


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@click.pass_context
def restore_cmd(ctx: click.Context, path: Path, force: bool) -> None:
    """Replace the configured database with the backup at PATH, then verify every audit chain.

    Stop the application first. Refuses a file that is not a titlereview backup, and a database that already
    holds data unless --force. Exits 1 if anything fails or any restored hash chain is broken.
    """
    from workflow.records.backup import BackupError, restore

    db = _db(ctx)
    try:
        report = restore(db, path, force=force)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    finally:
        db.dispose()
    migrated = "" if report.revision == report.backup_revision else \
        f", migrated {report.backup_revision} -> {report.revision}"
    click.echo(f"恢复完成 / restored {path} ({report.backend}, schema revision {report.backup_revision}{migrated})")
    if not report.ok:
        for b in report.breaks:
            click.echo(f"BROKEN {b}", err=True)
        raise click.ClickException(f"审计链校验失败：{len(report.breaks)} / {report.cases} 个案件的审计链断裂 / "
                                   f"{len(report.breaks)} of {report.cases} restored case chains are broken")
    click.echo(f"审计链全部校验通过 / all {report.cases} case chains verify")
