-- An upload's media duration, probed once (by the first transcode) and reused by the
-- next ones: ffprobe costs a few percent of a short clip's transcode.
ALTER TABLE uploads ADD COLUMN duration_ms INTEGER;
