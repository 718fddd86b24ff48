"""The simulated SQL Server instance: SimServer (server.py) and the models it owns.

clock.py      simulated time (speed, pause, advance)
server.py     SimServer: databases, properties, stepping, restarts, executions, XE reports, truth
workload.py   sessions, requests, blocking chains, deadlocks, memory grants, runaway queries
activity.py   what SQLOS shows of the workload when read: sessions, tasks, waiting tasks, input buffers,
              memory grants, resource semaphores, tempdb use per session
truth.py      ground truth of what happened
queries.py, plancache.py, counters.py, xe.py   query catalog, plan cache, server counters, extended events
"""
