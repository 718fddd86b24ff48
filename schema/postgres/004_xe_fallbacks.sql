-- Fallback sources of blocking and deadlock events (docs/xe.md, "Fallbacks"). A ring_buffer target has no
-- file or offset: its bookmark is the newest event time read (UTC text) and the content hashes of the events
-- at that time (comma separated), and possible_losses counts the reads whose oldest buffered event was
-- already newer than the bookmark (the buffer wrapped past events never read).
ALTER TABLE xe_bookmarks ADD COLUMN event_time text COLLATE "C";
ALTER TABLE xe_bookmarks ADD COLUMN event_hashes text COLLATE "C";
ALTER TABLE xe_bookmarks ADD COLUMN possible_losses bigint NOT NULL DEFAULT 0;
-- Retention deletes an event's parsed rows with it, by event_id.
CREATE INDEX IF NOT EXISTS blocked_process_reports_by_event ON blocked_process_reports (event_id);
