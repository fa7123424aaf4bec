namespace Natter.Server.Storage.Sqlite;

internal static partial class SqliteSchema
{
    // Migration 4. A file row is 'uploading', 'ready' or 'freed' (IFileStore); message_files says which message lists
    // which file, in order, and is kept by the group commit. The bytes live outside the database (IFileBytes).
    private const string FilesMigration = """
        CREATE TABLE files (
            id TEXT PRIMARY KEY,
            uploader_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL DEFAULT 0,
            content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
            is_image INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'uploading',
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX files_by_uploader ON files(uploader_id, state);
        CREATE INDEX files_by_state ON files(state, created_at);
        CREATE TABLE message_files (
            room_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            file_id TEXT NOT NULL,
            PRIMARY KEY (room_id, seq, position)
        ) WITHOUT ROWID;
        CREATE INDEX message_files_by_file ON message_files(file_id);
        """;
}
