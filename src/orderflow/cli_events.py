"""``orderflow relay``: deliver the outbox to NATS JetStream, a webhook or a file (R6, R9)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from orderflow.exceptions import InputError

if TYPE_CHECKING:
    from orderflow.events import EventSink
    from orderflow.service import OrderService

__all__ = ["add_events_commands", "open_sink"]


def open_sink(target: str, *, secret_file: str | None = None) -> EventSink:
    """The sink a ``--to`` names: ``nats://host:port``, ``http(s)://...`` or ``file:PATH``."""
    if target.startswith(("nats://", "tls://")):
        from orderflow.events.jetstream import JetStreamSink

        return JetStreamSink(target)
    if target.startswith(("http://", "https://")):
        from orderflow.events.webhook import WebhookSink

        if not secret_file:
            raise InputError("a webhook needs --secret-file (the shared signing secret)")
        try:
            secret = Path(secret_file).read_bytes().strip()
        except OSError as exc:
            raise InputError(f"--secret-file {secret_file}: {exc.strerror}") from None
        return WebhookSink(target, secret)
    if target.startswith("file:"):
        from orderflow.events.files import FileSink

        return FileSink(target.removeprefix("file:"))
    raise InputError(f"--to {target!r}: use nats://host:4222, https://host/hook or file:PATH")


def cmd_relay(args: argparse.Namespace) -> int:
    """Deliver (or, with --status, describe) the outbox."""
    from orderflow.cli import open_service
    from orderflow.events import FanoutSink, Relay
    from orderflow.events.relay import outbox_status

    if args.max_seconds is not None and args.max_seconds <= 0:
        raise InputError(f"--max-seconds must be positive, got {args.max_seconds}")
    if not args.status and not args.to and not args.notify:
        raise InputError(
            "say where to: --to nats://127.0.0.1:4222 (or https://..., file:PATH) and/or "
            "--notify https://gateway/... (or file:PATH)"
        )
    svc = open_service(args.db)
    try:
        if args.status:
            status = outbox_status(svc.store)
            print(f"pending {status.pending}, retrying {status.retrying}, dead {status.dead}")
            for event_id, error in status.dead_letters:
                print(f"  dead: {event_id}: {error}")
            return 0
        sinks = [open_sink(args.to, secret_file=args.secret_file)] if args.to else []
        if args.notify:
            sinks.append(_notice_sink(svc, args))
        sink = sinks[0] if len(sinks) == 1 else FanoutSink(sinks)
        try:
            relay = Relay(svc.store, sink, max_attempts=args.max_attempts)
            if args.once:
                report = relay.run_once()
            else:
                report = relay.run(
                    max_seconds=args.max_seconds, until_idle=args.max_seconds is None
                )
        finally:
            sink.close()
    finally:
        svc.store.close()
    where = " and ".join(w for w in (args.to, args.notify and f"notices to {args.notify}") if w)
    print(
        f"delivered {report.delivered:,} event(s) to {where}; {report.failed} failed, "
        f"{report.dead} dead"
    )
    return 0


def _notice_sink(svc: OrderService, args: argparse.Namespace) -> EventSink:
    from orderflow.events.notify import FileNotifier, NoticeSink, NoticeTemplates, WebhookNotifier

    notifier: FileNotifier | WebhookNotifier
    if args.notify.startswith("file:"):
        notifier = FileNotifier(args.notify.removeprefix("file:"))
    else:
        if not args.secret_file:
            raise InputError("a notice gateway needs --secret-file (the shared signing secret)")
        notifier = WebhookNotifier(args.notify, Path(args.secret_file).read_bytes().strip())
    templates = NoticeTemplates(plant=args.plant, link_base=args.link_base)
    return NoticeSink(svc.store, notifier, svc.workflow.definition, templates=templates,
                      stages=svc.policy.notify_stages)  # fmt: skip


def add_events_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``orderflow relay``."""
    from orderflow.cli import DEMO_DB

    relay = sub.add_parser("relay", help="deliver the outbox to NATS, a webhook or a file")
    relay.add_argument("--db", default=DEMO_DB)
    relay.add_argument("--to", help="nats://127.0.0.1:4222, https://host/hook or file:PATH")
    relay.add_argument("--secret-file", help="the webhook signing secret (a file)")
    relay.add_argument("--once", action="store_true", help="one pass, then stop")
    relay.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="keep relaying this long (default: until idle)",
    )
    relay.add_argument("--max-attempts", type=int, default=8, help="failures before a dead letter")
    relay.add_argument("--status", action="store_true", help="show pending and dead events")
    relay.add_argument(
        "--notify", help="customer and purchasing notices: https://gateway/... or file:PATH"
    )
    relay.add_argument("--plant", default="恒锐机械", help="the plant's name in notices")
    relay.add_argument(
        "--link-base", default="https://track.example.com/t/", help="the customer link's start"
    )
    relay.set_defaults(func=cmd_relay)
