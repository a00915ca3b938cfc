"""``zwilling privacy report [--json]``: what leaves this node for each peer, counted."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections.abc import Mapping

from node.cli._common import add_command, config_from, database
from node.runtime.config import Config
from node.vectors.privacy_report import PeerPrivacy, PrivacyReport, privacy_report

REPORT_HELP = """\
For each peer: how many residents it holds a vector of, how many are withheld
(their combination would be shared by fewer than k residents even with nothing left
in it) and how many vectors had to be coarsened; how many residents share each
combination of kind, occupation, age band and languages, and each whole vector
(equivalence classes: size: residents); and every published value fewer than k
residents of a kind hold (there should be none)."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = add_command(commands, "privacy", "what leaves for each peer, and how well it hides")
    actions = group.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    report = add_command(actions, "report", "k-anonymity figures of each peer's copy", REPORT_HELP)
    report.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    report.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    config = config_from(args)
    report = asyncio.run(_report(config))
    print(json.dumps(dataclasses.asdict(report), sort_keys=True) if args.json else render(report))
    return 0


async def _report(config: Config) -> PrivacyReport:
    async with database(config) as db, db.read() as session:
        return await privacy_report(session, config.matching.k_anonymity)


def _sizes(classes: Mapping[int, int]) -> str:
    return ", ".join(f"{size}: {residents}" for size, residents in classes.items()) or "-"


def _peer(entry: PeerPrivacy) -> list[str]:
    f = entry.figures
    lines = [
        f"peer {entry.peer}",
        f"  published            {f.published}",
        f"  withheld             {f.withheld}",
        f"  generalised          {f.generalised} ({f.generalised_share:.1%} of published)",
        f"  combination classes  {_sizes(f.combination_classes)}"
        f"  (below k: {f.below_k_by_combination})",
        f"  whole-vector classes {_sizes(f.vector_classes)}  (unique: {f.unique_vectors})",
    ]
    if f.rare_values:
        lines.append(f"  values held by fewer than {f.k}:")
        lines += [
            f"    {v.kind:<13} {v.field:<19} {v.value:<24} {v.holders}" for v in f.rare_values
        ]
    else:
        lines.append(f"  values held by fewer than {f.k}: none")
    return lines


def render(report: PrivacyReport) -> str:
    """The readable table: one block per peer, class sizes as ``size: residents``."""
    lines = [f"k = {report.k}; {report.residents} residents take part"]
    if not report.peers:
        lines.append("no peers: nothing leaves this node")
    for entry in report.peers:
        lines += ["", *_peer(entry)]
    return "\n".join(lines)
