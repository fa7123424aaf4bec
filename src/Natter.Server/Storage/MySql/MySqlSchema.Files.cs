namespace Natter.Server.Storage.MySql;

internal static partial class MySqlSchema
{
    // Migration 4 (see SqliteSchema.Files); a property, so it exists whenever Migrations (in the other file) is built. file_chunks holds the bytes in cluster mode (MySqlFileBytes): one row per
    // chunk, keyed by the file's key (its id, or its thumbnail's), so every node reads every file.
    private static string[] FilesMigration =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS files (
            id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
            uploader_id BIGINT NOT NULL,
            name VARCHAR(1024) NOT NULL,
            size BIGINT NOT NULL DEFAULT 0,
            content_type VARCHAR(255) NOT NULL DEFAULT 'application/octet-stream',
            is_image TINYINT NOT NULL DEFAULT 0,
            state VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'uploading',
            created_at BIGINT NOT NULL,
            KEY files_by_uploader (uploader_id, state),
            KEY files_by_state (state, created_at)
        ) {Charset}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS message_files (
            room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            seq BIGINT NOT NULL,
            position INT NOT NULL,
            file_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            PRIMARY KEY (room_id, seq, position),
            KEY message_files_by_file (file_id)
        ) {Charset}
        """,
        $"""
        CREATE TABLE IF NOT EXISTS file_chunks (
            file_key VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
            idx INT NOT NULL,
            size INT NOT NULL,
            data LONGBLOB NOT NULL,
            PRIMARY KEY (file_key, idx)
        ) {Charset}
        """,
    ];
}
