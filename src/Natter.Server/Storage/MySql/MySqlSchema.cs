namespace Natter.Server.Storage.MySql;

/// <summary>
/// Numbered migrations for MySQL 8 / MariaDB 10.6+, InnoDB, utf8mb4. DDL commits implicitly in MySQL, so a migration
/// is not atomic: each statement is written to be re-runnable (IF NOT EXISTS), and nodes starting together take a
/// named lock (GET_LOCK) so only one migrates at a time. Statements are separate entries because one command may
/// carry only one DDL statement portably. client_id is VARBINARY (its UTF-8 bytes): the utf8mb4 collations pad
/// trailing spaces, and two client_ids that differ only there must stay distinct, as in SQLite.
/// </summary>
internal static partial class MySqlSchema
{
    public const string Charset = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

    /// <summary>The longest search word kept whole (characters); a longer word is indexed and matched by its first WordMax.</summary>
    public const int WordMax = 255;

    public static readonly (int Version, string Description, string[] Statements)[] Migrations =
    [
        (1, "users, sessions, rooms, members, messages",
        [
            $"""
            CREATE TABLE IF NOT EXISTS users (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                username VARCHAR(32) NOT NULL,
                password_hash VARCHAR(512) NOT NULL,
                status VARCHAR(16) NOT NULL DEFAULT 'active',
                created_at BIGINT NOT NULL,
                UNIQUE KEY users_username (username)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS sessions (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                token_hash VARBINARY(64) NOT NULL,
                user_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                UNIQUE KEY sessions_token (token_hash),
                KEY sessions_by_user (user_id),
                CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users(id)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS rooms (
                id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
                name VARCHAR(64) NOT NULL,
                kind VARCHAR(8) NOT NULL,
                user_a BIGINT NULL,
                user_b BIGINT NULL,
                last_seq BIGINT NOT NULL DEFAULT 0,
                created_by BIGINT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE KEY rooms_direct_pair (user_a, user_b),
                KEY rooms_by_kind (kind, created_at),
                CONSTRAINT rooms_user_a FOREIGN KEY (user_a) REFERENCES users(id),
                CONSTRAINT rooms_user_b FOREIGN KEY (user_b) REFERENCES users(id)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS members (
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                user_id BIGINT NOT NULL,
                read_seq BIGINT NOT NULL DEFAULT 0,
                joined_at BIGINT NOT NULL,
                PRIMARY KEY (room_id, user_id),
                KEY members_by_user (user_id),
                CONSTRAINT members_room FOREIGN KEY (room_id) REFERENCES rooms(id),
                CONSTRAINT members_user FOREIGN KEY (user_id) REFERENCES users(id)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS messages (
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                seq BIGINT NOT NULL,
                sender_id BIGINT NOT NULL,
                text TEXT NOT NULL,
                ts BIGINT NOT NULL,
                client_id VARBINARY(256) NOT NULL,
                PRIMARY KEY (room_id, seq),
                UNIQUE KEY messages_client_id (room_id, sender_id, client_id)
            ) {Charset}
            """,
        ]),

        // The messages table becomes the room log (see SqliteSchema, migration 2). MySQL 8 has no ADD COLUMN IF NOT
        // EXISTS: the one ALTER is atomic, and a re-run that finds the columns is taken as done (MigrateAsync).
        // Edits are found by their target through a small table of their own: InnoDB has no partial indexes, and
        // an index on messages.target would cost every plain message an extra index entry.
        (2, "room log: edits, deletions, reactions, replies, mentions",
        [
            """
            ALTER TABLE messages
                ADD COLUMN kind VARCHAR(8) NOT NULL DEFAULT 'message',
                ADD COLUMN target BIGINT NULL,
                ADD COLUMN reply_to BIGINT NULL,
                ADD COLUMN mentions TEXT NULL,
                ADD COLUMN emoji VARCHAR(16) NULL,
                ADD COLUMN reaction_on TINYINT NULL,
                ADD COLUMN deleted TINYINT NOT NULL DEFAULT 0,
                ADD COLUMN edited_ts BIGINT NULL,
                ADD COLUMN edited_text TEXT NULL,
                ADD COLUMN edited_mentions TEXT NULL
            """,
            $"""
            CREATE TABLE IF NOT EXISTS edits (
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                target BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (room_id, target, seq)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS reactions (
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                target BIGINT NOT NULL,
                emoji VARCHAR(16) NOT NULL,
                user_id BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (room_id, target, emoji, user_id)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS mentions (
                user_id BIGINT NOT NULL,
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (user_id, room_id, seq),
                KEY mentions_by_message (room_id, seq)
            ) {Charset}
            """,
        ]),

        // Search (protocol v2 §2): a word table, not InnoDB FULLTEXT (docs/search.md says why). search_docs numbers
        // each message that can be found, in the order it was stored; message_words holds its distinct normalised
        // words (SearchWords, cut to WordMax characters), binary collation, so `word LIKE 'pre%'` is an index range.
        // The group commit keeps both in its transaction (MySqlChatStore.Search.cs); migration 9 drops the foreign
        // keys below. Existing messages are indexed by MySqlChatStore.AfterMigrationAsync.
        (3, "search: word index of messages",
        [
            $"""
            CREATE TABLE IF NOT EXISTS search_docs (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                seq BIGINT NOT NULL,
                sender_id BIGINT NOT NULL,
                UNIQUE KEY search_docs_by_message (room_id, seq),
                CONSTRAINT search_docs_message FOREIGN KEY (room_id, seq) REFERENCES messages(room_id, seq) ON DELETE CASCADE
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS message_words (
                word VARCHAR({WordMax}) NOT NULL,
                doc_id BIGINT NOT NULL,
                PRIMARY KEY (word, doc_id),
                KEY message_words_by_doc (doc_id),
                CONSTRAINT message_words_doc FOREIGN KEY (doc_id) REFERENCES search_docs(id) ON DELETE CASCADE
            ) {Charset}
            """,
        ]),
        (4, "files and the messages that list them", FilesMigration),
        // Protocol v2 §4 (see SqliteSchema, migration 5). One ALTER per table, each atomic; a re-run that finds the
        // columns is taken as done. The owner UPDATE is harmless to repeat.
        (5, "rooms: roles, topic, visibility, bans, deletion, membership change log",
        [
            "ALTER TABLE members ADD COLUMN role VARCHAR(16) NOT NULL DEFAULT 'member'",
            """
            ALTER TABLE rooms
                ADD COLUMN topic VARCHAR(1024) NOT NULL DEFAULT '',
                ADD COLUMN visibility VARCHAR(8) NOT NULL DEFAULT 'public',
                ADD COLUMN deleted_at BIGINT NULL
            """,
            """
            UPDATE members m JOIN rooms r ON r.id = m.room_id SET m.role = 'owner'
            WHERE r.kind = 'group' AND r.created_by = m.user_id
            """,
            $"""
            CREATE TABLE IF NOT EXISTS room_bans (
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                user_id BIGINT NOT NULL,
                banned_by BIGINT NOT NULL,
                banned_at BIGINT NOT NULL,
                PRIMARY KEY (room_id, user_id)
            ) {Charset}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS room_changes (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                room_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                payload MEDIUMTEXT NOT NULL,
                ts BIGINT NOT NULL,
                KEY room_changes_by_ts (ts)
            ) {Charset}
            """,
        ]),

        // Accounts (see SqliteSchema, migration 6). Each ALTER is atomic; a re-run that finds the columns is taken as done.
        (6, "accounts: display names, avatars, session details, blocks",
        [
            """
            ALTER TABLE users
                ADD COLUMN display_name VARCHAR(64) NULL,
                ADD COLUMN avatar_file VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL
            """,
            "CREATE INDEX users_by_avatar ON users (avatar_file)",
            """
            ALTER TABLE sessions
                ADD COLUMN last_seen BIGINT NULL,
                ADD COLUMN user_agent VARCHAR(256) NULL
            """,
            $"""
            CREATE TABLE IF NOT EXISTS blocks (
                blocker_id BIGINT NOT NULL,
                blocked_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (blocker_id, blocked_id),
                CONSTRAINT blocks_blocker FOREIGN KEY (blocker_id) REFERENCES users(id),
                CONSTRAINT blocks_blocked FOREIGN KEY (blocked_id) REFERENCES users(id)
            ) {Charset}
            """,
        ]),

        // The search index's foreign keys cost every stored message a parent lookup and a lock per row (one for its
        // search_docs row, one per distinct word): with ten-word messages a sixth to a quarter of what MariaDB spends
        // per message (bench/README.md, session 10). Nothing relied on them but the cascade from a deleted search_docs
        // row to its words, which the group commit now does itself (message rows are never deleted). Dropping a
        // foreign key changes only metadata; a re-run that finds one gone is taken as done (MigrateAsync).
        (9, "search index without foreign keys",
        [
            "ALTER TABLE message_words DROP FOREIGN KEY message_words_doc",
            "ALTER TABLE search_docs DROP FOREIGN KEY search_docs_message",
        ]),

        // Messages indexed before the pairs rule get the words SearchWords gives now (see SqliteSchema, migration
        // 10). No schema change: MySqlChatStore.ReindexPairsAsync replaces the words of the messages concerned.
        // First, the search rows and words that room deletions left behind since migration 9 (their messages are
        // gone; the deletion now removes them itself): harmless to repeat.
        (10, "search: older Chinese, Japanese and Korean messages indexed as character pairs",
        [
            """
            DELETE w FROM search_docs d LEFT JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq
            JOIN message_words w ON w.doc_id = d.id WHERE m.room_id IS NULL
            """,
            """
            DELETE d FROM search_docs d LEFT JOIN messages m ON m.room_id = d.room_id AND m.seq = d.seq WHERE m.room_id IS NULL
            """,
        ]),
    ];
}
