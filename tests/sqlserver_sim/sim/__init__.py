"""dmvlog's wire-level SQL Server simulator."""
