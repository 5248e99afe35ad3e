"""`syncer init`: a starter syncer.yaml, a publisher key, the channels on the ledger."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from syncer.commands import common
from syncer.config import CONFIG_FILE, parse_config

if TYPE_CHECKING:
    from syncer import channels, keys

__all__ = ["add_parser"]


def add_parser(sub: common.Subparsers) -> None:
    p = sub.add_parser("init", help="start a repository: syncer.yaml, a key, channels",
                       description="Write a commented starter syncer.yaml when the repository "
                       "has none, create the publisher key under $SYNCER_HOME/keys when there "
                       "is none and the profile names no other key ($SYNCER_KEY, "
                       "ledger.keystore, ledger.key_file), and register every channel of "
                       "syncer.yaml on the profile's ledger with that key as admin and "
                       "publisher.")
    common.repo_arg(p)
    p.add_argument("--channel", help="channel name for a new syncer.yaml (default: the "
                   "directory name + '-dev')")
    p.add_argument("--namespace", help="namespace for a new syncer.yaml (default: the "
                   "channel, as a DNS label)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from syncer import channels  # noqa: PLC0415
    from syncer.backends import (  # noqa: PLC0415
        open_backends,
        publisher_key_or_new,
        select_profile,
    )
    from syncer.gitsource import open_repo  # noqa: PLC0415

    home = common.home(args)
    config_path = Path(open_repo(args.repo).working_dir) / CONFIG_FILE
    if not config_path.exists():
        channel = args.channel or channels.default_channel(config_path.parent)
        namespace = args.namespace or channels.default_namespace(channel)
        config_path.write_text(channels.starter_config(channel, namespace))
        print(f"wrote {config_path}")
    config = parse_config(config_path.read_bytes(), where=str(config_path))
    profile = select_profile(args.profile, home=home, repo=config)
    key, created = publisher_key_or_new(profile, home=home)
    if created:
        print(f"created publisher key {home.key_file} (address {key.address})")
    backends = open_backends(profile, home=home)
    for done in channels.register(config, ledger=backends.ledger, key=key, home=home,
                                  profile=backends.profile.name):
        print(_line(done, key, profile=backends.profile.name))
    return 0


def _line(done: channels.Registered, key: keys.Keypair, *, profile: str) -> str:
    if not done.created:
        return f"channel {done.channel}: already registered"
    line = f"channel {done.channel}: registered (admin and publisher {key.address})"
    if done.record_id is not None:
        line += (f"\nchannel {done.channel}: Registry {done.record_id} recorded in "
                 f"{done.recorded_in} (profiles.{profile}.ledger.registries)")
    return line
