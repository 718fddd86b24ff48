/* dmvlog:store */
-- Fallback sources of blocking and deadlock events (docs/xe.md, "Fallbacks"). A ring_buffer target has no
-- file or offset: its bookmark is the newest event time read and the content hashes of the events at that
-- time (comma separated), and possible_losses counts the reads whose oldest buffered event was already newer
-- than the bookmark (the buffer wrapped past events never read).
IF COL_LENGTH(N'dbo.xe_bookmarks', N'event_time') IS NULL
ALTER TABLE dbo.xe_bookmarks ADD event_time datetime2(7) NULL;

IF COL_LENGTH(N'dbo.xe_bookmarks', N'event_hashes') IS NULL
ALTER TABLE dbo.xe_bookmarks ADD event_hashes nvarchar(max) COLLATE Latin1_General_BIN2 NULL;

IF COL_LENGTH(N'dbo.xe_bookmarks', N'possible_losses') IS NULL
ALTER TABLE dbo.xe_bookmarks ADD possible_losses bigint NOT NULL CONSTRAINT xe_bookmarks_possible_losses DEFAULT 0;

-- Retention deletes an event's parsed rows with it, by event_id.
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.blocked_process_reports') AND name = N'blocked_process_reports_by_event')
CREATE INDEX blocked_process_reports_by_event ON dbo.blocked_process_reports (event_id);
