"""The agent's database list, /* dmvlog:databases */ (sql/agent/databases.sql): sys.databases with
HAS_DBACCESS, ordered by database_id. Offline databases (the scenario's [server] databases.offline) show
state_desc OFFLINE and has_access 0 (HAS_DBACCESS returns 0 for an offline database), so the agent's
per-database collectors skip them. Every database is MULTI_USER. Reading sys.databases needs no VIEW SERVER
STATE (the engine does not apply that check to this tag).
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.results import Result, Session

TAGS = ("databases",)

COLUMNS = [("database_id", "int"), ("name", "nvarchar(128)"), ("state_desc", "nvarchar(60)"),
           ("user_access_desc", "nvarchar(60)"), ("has_access", "int")]


def rows(ctx: Ctx) -> list[tuple]:
    return [(d.database_id, d.name, d.state_desc, "MULTI_USER", 1 if d.online else 0)
            for d in sorted(ctx.server.databases, key=lambda d: d.database_id)]


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params)
