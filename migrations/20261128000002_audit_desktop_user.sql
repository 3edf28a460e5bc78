-- Who at the booth laptop: for an action taken in the desktop app (client `app`), the
-- operating-system account the app runs under. NULL for browsers, the API and the node.
ALTER TABLE audit ADD COLUMN desktop_user TEXT;
