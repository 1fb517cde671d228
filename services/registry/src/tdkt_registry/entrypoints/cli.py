"""`tdkt registry …`: the registry's operator commands.

tdkt registry import-admin-units     today's provinces, communes and wards (+ the seed's history)
tdkt registry import-units FILE      agencies and organisations from a CSV/XLSX file (dry run unless --apply)
tdkt registry seed-plan              the 2023 Tam Đường plan as a launched movement
tdkt registry verify-acts            re-hash the units' audit trail
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tdkt.errors import DomainError
from tdkt.operator import operator_store


def _store():
    from tdkt_registry.adapters.unit_store import UnitStore

    return UnitStore(operator_store("registry"), lock_wait_s=60)


@click.group(help=__doc__)
def registry() -> None:
    pass


@registry.command("import-admin-units", help="Load the 34 provinces and 3,321 communes/wards (vietnam-provinces) and the Tam Đường history; idempotent.")
def import_admin_units_command() -> None:
    from tdkt_registry.service_layer.admin_units import count_rows, import_admin_units

    store = _store()
    try:
        with click.progressbar(length=count_rows(), label="Đơn vị hành chính / administrative units", file=sys.stderr) as bar:
            summary = import_admin_units(store, "cli:import-admin-units", progress=bar.update)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(summary.sentence())
    if summary.history:
        click.echo(f"Lịch sử / history: {summary.history}")
    for line in summary.changes[:50]:
        click.echo(f"  changed: {line}")


@registry.command("import-units", help="Agencies and organisations from a .csv or .xlsx file: a dry run unless --apply; exit 1 if a row has an error.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Write the units (only if no row has an error).")
def import_units_command(file: Path, apply_: bool) -> None:
    from tdkt_registry.adapters.unit_files import read_rows
    from tdkt_registry.service_layer.unit_import import ImportRefused, apply_import, plan_import

    try:
        rows = read_rows(file.name, file.read_bytes())  # a bad file fails before connecting
        store = _store()
        plan = apply_import(store, rows, "cli:import-units", source=file.name) if apply_ else plan_import(store.directory(), rows)
    except ImportRefused as exc:
        plan = exc.plan
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    _print_plan(plan)
    summary = plan.summary()
    totals = ", ".join(f"{n} {action}" for action, n in summary.items())
    if plan.errors:
        click.echo(f"{totals}. Sửa các dòng lỗi; không ghi gì / fix the rows with errors: nothing was written", err=True)
        raise SystemExit(1)
    click.echo(f"{totals}. {'Đã ghi / applied' if apply_ else 'dry run: nothing written; run again with --apply'}")


def _print_plan(plan, limit: int = 50) -> None:
    """Rows that do something or fail, one line each (unchanged rows only counted)."""
    shown = [r for r in plan.rows if r.action != "unchanged"]
    if shown:
        click.echo(f"{'row':>6}  {'action':<9}  {'code':<10}  {'name':<50}  changes / errors")
    for r in shown[:limit]:
        what = "; ".join(f"{e['column'] or '-'}: {e['message']}" for e in r.errors) or ", ".join(c["field"] for c in r.changes)
        click.echo(f"{r.row:>6}  {r.action:<9}  {r.code or '':<10}  {(r.name or '')[:50]:<50}  {what}".rstrip())
    if len(shown) > limit:
        click.echo(f"  … {len(shown) - limit} more")


@registry.command("seed-plan", help="Load the 2023 Tam Đường plan (../seed) as a launched movement with its participants; idempotent.")
def seed_plan_command() -> None:
    from tdkt_registry.service_layer.seed_plan import load_seed_plan

    store = _store()
    try:
        outcome = load_seed_plan(store, "cli:seed-plan")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(outcome)


@registry.command("verify-acts", help="Re-hash the hash-chained trail of acts on units; exit 1 if it was tampered with.")
def verify_acts_command() -> None:
    checked, broken = _store().verify_chain()
    if broken:
        raise click.ClickException(f"{checked} act(s) check out, then the chain breaks at {broken}")
    click.echo(f"{checked} act(s) verified, the chain is intact")
