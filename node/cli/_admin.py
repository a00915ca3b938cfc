"""``zwilling admin grant | revoke | list | reset-two-factor``: who may use the admin
pages, and help for a resident who lost the device of their two-factor sign-in.

The role is given on the command line only, by whoever runs the node: no page can
make anyone an admin, so a stolen session cannot create another admin either.
Switching someone's two-factor sign-in off is a command-line matter for the same
reason; city IT runs it once they have made sure who is asking.
"""

from __future__ import annotations

import argparse
import asyncio

from node.accounts import two_factor
from node.admin import overview as admin
from node.cli._common import CommandError, add_command, config_from, database


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = add_command(commands, "admin", "give or take the admin role")
    actions = group.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    grant = add_command(
        actions,
        "grant",
        "make a registered resident an admin",
        "Gives the account with this e-mail address the admin role: its pages then\n"
        "show peers, the delivery queue, counts and reports. The resident must have\n"
        "registered first.",
    )
    grant.add_argument("email", metavar="EMAIL")
    grant.set_defaults(handler=cmd_grant)

    revoke = add_command(actions, "revoke", "take the admin role away again")
    revoke.add_argument("email", metavar="EMAIL")
    revoke.set_defaults(handler=cmd_revoke)

    listing = add_command(actions, "list", "show the accounts with the admin role")
    listing.set_defaults(handler=cmd_list)

    reset = add_command(
        actions,
        "reset-two-factor",
        "switch off a resident's two-factor sign-in (lost device)",
        "Removes the two-factor secret and the recovery codes of the account with\n"
        "this e-mail address and logs out all its sessions: the next login needs\n"
        "the password only. An admin is asked to set two-factor sign-in up again\n"
        "before the admin pages open. Make sure first that the request comes from\n"
        "the account's owner.",
    )
    reset.add_argument("email", metavar="EMAIL")
    reset.set_defaults(handler=cmd_reset_two_factor)


def cmd_grant(args: argparse.Namespace) -> int:
    return _set(args, True)


def cmd_revoke(args: argparse.Namespace) -> int:
    return _set(args, False)


def _set(args: argparse.Namespace, grant: bool) -> int:
    config = config_from(args)

    async def run() -> str | None:
        async with database(config) as db, db.write() as session:
            resident = await admin.set_role(session, args.email, grant)
            return None if resident is None else resident.email

    email = asyncio.run(run())
    if email is None:
        raise CommandError(f"no account with the e-mail address {args.email!r}")
    print(f"{email}: {'is now an admin' if grant else 'is no longer an admin'}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    config = config_from(args)

    async def run() -> list[tuple[str, str]]:
        async with database(config) as db, db.read() as session:
            return [(r.email, r.status) for r in await admin.admins(session)]

    rows = asyncio.run(run())
    for email, status in rows:
        print(f"{email}{'' if status == 'active' else f' ({status})'}")
    if not rows:
        print("no admins yet: zwilling admin grant EMAIL")
    return 0


def cmd_reset_two_factor(args: argparse.Namespace) -> int:
    config = config_from(args)

    async def run() -> str | None:
        async with database(config) as db, db.write() as session:
            resident = await two_factor.reset(session, args.email)
            return None if resident is None else resident.email

    email = asyncio.run(run())
    if email is None:
        raise CommandError(f"no account with the e-mail address {args.email!r}")
    print(f"{email}: two-factor sign-in switched off, every session logged out")
    return 0
