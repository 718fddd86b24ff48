"""server_info (sql/collectors/server_info.sql, and server_info_2016.sql for a 13.x server): one row of
SERVERPROPERTY + sys.dm_os_sys_info + sys.dm_os_host_info (2016: sys.dm_os_windows_info) +
sys.configurations.

Values: the scenario's [server] (version, levels, edition, engine edition, server name, host platform, CPUs,
memory, uptime) as the connect-time answers show them (sim/answers/connect.py: SERVERPROPERTY,
sys.dm_os_sys_info); the settings from sp_configure where the model keeps them ('blocked process threshold
(s)', changed by sp_configure + RECONFIGURE), else what the instance runs with: max server memory = the
scenario's memory, min 0, MAXDOP = [sessions] max_dop, cost threshold 50, optimize for ad hoc workloads 0,
max worker threads 0.

The variant is recognised by the view it reads: sys.dm_os_host_info does not exist before SQL Server 2017,
so server_info.sql sent to a 13.x server gets error 208, as there.
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.results import Error, Result, Session

TAGS = ("server_info",)

COLUMNS = [("server_name", "nvarchar(128)"), ("machine_name", "nvarchar(128)"), ("product_version", "nvarchar(128)"),
           ("product_major_version", "int"), ("product_level", "nvarchar(128)"),
           ("product_update_level", "nvarchar(128)"), ("edition", "nvarchar(128)"), ("engine_edition", "int"),
           ("is_clustered", "int"), ("is_hadr_enabled", "int"), ("host_platform", "nvarchar(256)"),
           ("host_distribution", "nvarchar(256)"), ("host_release", "nvarchar(256)"),
           ("sqlserver_start_time", "datetime"), ("cpu_count", "int"), ("hyperthread_ratio", "int"),
           ("scheduler_count", "int"), ("socket_count", "int"), ("cores_per_socket", "int"),
           ("numa_node_count", "int"), ("max_workers_count", "int"), ("physical_memory_kb", "bigint"),
           ("committed_kb", "int"), ("committed_target_kb", "int"), ("sql_memory_model_desc", "nvarchar(120)"),
           ("virtual_machine_type_desc", "nvarchar(60)"), ("max_server_memory_mb", "bigint"),
           ("min_server_memory_mb", "bigint"), ("max_degree_of_parallelism", "int"),
           ("cost_threshold_for_parallelism", "int"), ("blocked_process_threshold_s", "int"),
           ("optimize_for_ad_hoc_workloads", "int"), ("max_worker_threads", "int")]


def _reads(ctx: Ctx, view: str) -> bool:
    """Whether the query (comments aside) reads that view."""
    from sim.answers.connect import strip_comments
    return view in strip_comments(ctx.body).lower()


def _windows_variant(ctx: Ctx) -> bool:
    return _reads(ctx, "sys.dm_os_windows_info")


def _check(ctx: Ctx) -> Optional[Error]:
    if ctx.server.major < 14 and _reads(ctx, "sys.dm_os_host_info"):
        return Error(208, "Invalid object name 'sys.dm_os_host_info'.", state=1, severity=16)
    return None


def configuration(server, name: str) -> int:
    """value_in_use of a sys.configurations option."""
    cfg = getattr(server.xe, "config", {})
    if name in cfg:
        return int(cfg[name][1])
    spec = server.scenario
    return {"max server memory (MB)": spec.server.memory_mb, "min server memory (MB)": 0,
            "max degree of parallelism": spec.sessions.max_dop, "cost threshold for parallelism": 50,
            "optimize for ad hoc workloads": 0, "max worker threads": 0,
            "blocked process threshold (s)": 0}[name]


def rows(ctx: Ctx) -> list[tuple]:
    from sim.answers.connect import sys_info_values
    srv = ctx.server
    spec = srv.scenario.server
    prop = srv.server_property
    if _windows_variant(ctx):
        host = ("Windows", None, "10.0")
    elif spec.host_platform == "Windows":
        host = ("Windows", "Windows Server 2022 Datacenter", "10.0")
    else:
        host = ("Linux", "Ubuntu", "22.04")
    si = {c: v for c, _, v in sys_info_values(srv)}
    return [(prop("ServerName"), prop("MachineName"), prop("ProductVersion"), int(prop("ProductMajorVersion")),
             prop("ProductLevel"), prop("ProductUpdateLevel"), prop("Edition"), int(prop("EngineEdition")),
             int(prop("IsClustered")), int(prop("IsHadrEnabled"))) + host
            + (si["sqlserver_start_time"], si["cpu_count"], si["hyperthread_ratio"], si["scheduler_count"],
               si["socket_count"], si["cores_per_socket"], si["numa_node_count"], si["max_workers_count"],
               si["physical_memory_kb"], si["committed_kb"], si["committed_target_kb"], si["sql_memory_model_desc"],
               si["virtual_machine_type_desc"])
            + tuple(configuration(srv, n) for n in (
                "max server memory (MB)", "min server memory (MB)", "max degree of parallelism",
                "cost threshold for parallelism", "blocked process threshold (s)", "optimize for ad hoc workloads",
                "max worker threads"))]


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params, _check)
