"""Entry point of the simulator.

    sqlserver-sim --port N [--scenario FILE] [--speed X] [--seed S] [--control-port M] [--log FILE]
                  [--engine selftest | sim | MODULE:NAME] [--tls-dir DIR | --tls-cert FILE --tls-key FILE]

Prints `listening on N` (the real port; --port 0 picks a free one) once it accepts clients, then
`control on M` when a control port was asked for, and `tls ca FILE` when TLS is on with a certificate
made by the simulator (--tls-dir: a test CA and a server certificate for localhost / 127.0.0.1, made in DIR
with the openssl command line unless already there). Without --tls-* the simulator answers PRELOGIN with
encryption "not supported". Each answered query is logged as one line (time, spid,
first 200 characters, outcome) to --log or stderr. SIGTERM and SIGINT stop it with exit status 0.

Engines: `sim` (the default when --scenario is given) is sim.engine.SimEngine(scenario, speed=, seed=);
`selftest` (the default without --scenario) is the minimal sim.selftest.BasicEngine; MODULE:NAME imports
NAME from MODULE (relative to this folder) and calls it with scenario=, speed=, seed=. Whatever the engine,
it is wrapped by sim.selftest.SelfTest, so the /* dmvlog:selftest_* */ queries always work.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Any, Optional, TextIO

from .selftest import BasicEngine, SelfTest
from .tds.server import Server


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sqlserver-sim", description="SQL Server wire-level simulator (TDS 7.4)")
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--scenario", help="scenario file for the simulation engine")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--seed", type=int, default=None, help="random seed of the simulation (engine default)")
    p.add_argument("--control-port", type=int, default=None, help="JSON-lines control port (0 = free one)")
    p.add_argument("--log", help="query log file (default: stderr)")
    p.add_argument("--engine", default=None,
                   help="'sim' (default with --scenario), 'selftest' (default without), or MODULE:NAME")
    p.add_argument("--tls-dir", help="offer TLS with a test CA and server certificate kept in (or made in) DIR")
    p.add_argument("--tls-cert", help="offer TLS with this server certificate (PEM; needs --tls-key)")
    p.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.tls_dir and args.tls_cert:
        p.error("--tls-dir and --tls-cert/--tls-key exclude each other")
    return args


def make_engine(args: argparse.Namespace) -> Any:
    kind = args.engine or ("sim" if args.scenario else "selftest")
    if kind == "selftest":
        inner: Any = BasicEngine()
    elif kind == "sim":
        if not args.scenario:
            raise SystemExit("sqlserver-sim: --engine sim needs --scenario")
        from .engine import SimEngine
        kwargs: dict[str, Any] = {"speed": args.speed}
        if args.seed is not None:
            kwargs["seed"] = args.seed
        inner = SimEngine(args.scenario, **kwargs)
    elif ":" in kind:
        module, name = kind.split(":", 1)
        factory = getattr(importlib.import_module(module), name)
        inner = factory(scenario=args.scenario, speed=args.speed, seed=args.seed)
    else:
        raise SystemExit(f"sqlserver-sim: unknown engine {kind!r}")
    return SelfTest(inner)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    log: TextIO = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
    engine = make_engine(args)
    server = Server(engine, log)

    def on_signal(signum: int, _frame: Any) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ca_file = None
    if args.tls_dir:
        from .tds.tls import ensure_certificates
        files = ensure_certificates(args.tls_dir)
        server.enable_tls(files["server_pem"], files["server_key"])
        ca_file = files["ca_pem"]
    elif args.tls_cert:
        server.enable_tls(args.tls_cert, args.tls_key)

    port = server.bind(args.port)
    control = None
    if args.control_port is not None:
        from .control import ControlServer
        control = ControlServer(server)
        control_port = control.bind(args.control_port)
        control.start()
    print(f"listening on {port}", flush=True)
    if control is not None:
        print(f"control on {control_port}", flush=True)
    if ca_file is not None:
        print(f"tls ca {ca_file}", flush=True)
    server.log_text(f"simulator started on port {port}"
                    + (f", control port {control_port}" if control is not None else "")
                    + (", TLS offered" if server.tls_context is not None else ", no TLS"))
    try:
        server.serve()
    finally:
        if control is not None:
            control.close()
        n = server.kill_connections()
        server.log_text(f"simulator stopping ({n} connection(s) closed)")
        try:
            server.engine_call("close")
        except Exception as e:  # leaving matters more than a tidy temporary folder
            server.log_text(f"engine close failed: {e}")
        try:
            log.flush()
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    # daemon threads may still be blocked on sockets; leave without waiting for them
    os._exit(0)
