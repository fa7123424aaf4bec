namespace Natter.Server.Storage.Sqlite;

/// <summary>
/// Numbered migrations; each runs once, in its own transaction, recorded in schema_migrations. A migration never drops
/// what a database holds (migration 9 copies a table before it replaces it): a database of an earlier version is
/// migrated in place and keeps serving what it held.
/// </summary>
internal static partial class SqliteSchema
{
    public static readonly (int Version, string Description, string Sql)[] Migrations =
    [
        (1, "users, sessions, rooms, members, messages", """
            CREATE TABLE users (
                id INTEGER PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'active',
                created_at INTEGER NOT NULL
            );
            CREATE TABLE sessions (
                id INTEGER PRIMARY KEY,
                token_hash BLOB NOT NULL UNIQUE,
                user_id INTEGER NOT NULL REFERENCES users(id),
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            );
            CREATE INDEX sessions_by_user ON sessions(user_id);
            CREATE TABLE rooms (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                user_a INTEGER NULL REFERENCES users(id),
                user_b INTEGER NULL REFERENCES users(id),
                last_seq INTEGER NOT NULL DEFAULT 0,
                created_by INTEGER NULL,
                created_at INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX rooms_direct_pair ON rooms(user_a, user_b);
            CREATE TABLE members (
                room_id TEXT NOT NULL REFERENCES rooms(id),
                user_id INTEGER NOT NULL REFERENCES users(id),
                read_seq INTEGER NOT NULL DEFAULT 0,
                joined_at INTEGER NOT NULL,
                PRIMARY KEY (room_id, user_id)
            ) WITHOUT ROWID;
            CREATE INDEX members_by_user ON members(user_id);
            CREATE TABLE messages (
                room_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                sender_id INTEGER NOT NULL,
                text TEXT NOT NULL,
                ts INTEGER NOT NULL,
                client_id TEXT NOT NULL,
                PRIMARY KEY (room_id, seq)
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX messages_client_id ON messages(room_id, sender_id, client_id);
            """),

        // The messages table becomes the room log: one row per event of any kind, seq and client_id shared by all
        // kinds. A message row keeps what it said when sent (sync replays it) and carries its current state beside
        // it (edited_*, deleted). Every new column is NULL in a plain message's row (kind NULL is a message,
        // deleted NULL is not deleted) and the log table gets no new index: a plain message is inserted with v1's
        // six columns and costs the group commit what it did in v1. (Measured: materialized defaults and a partial
        // index on kind cost plain messages about a fifth more CPU per insert.) Edits are found by their target
        // through a small table of their own. Adding NULL columns changes the schema only, not the rows.
        (2, "room log: edits, deletions, reactions, replies, mentions", """
            ALTER TABLE messages ADD COLUMN kind TEXT NULL;
            ALTER TABLE messages ADD COLUMN target INTEGER NULL;
            ALTER TABLE messages ADD COLUMN reply_to INTEGER NULL;
            ALTER TABLE messages ADD COLUMN mentions TEXT NULL;
            ALTER TABLE messages ADD COLUMN emoji TEXT NULL;
            ALTER TABLE messages ADD COLUMN reaction_on INTEGER NULL;
            ALTER TABLE messages ADD COLUMN deleted INTEGER NULL;
            ALTER TABLE messages ADD COLUMN edited_ts INTEGER NULL;
            ALTER TABLE messages ADD COLUMN edited_text TEXT NULL;
            ALTER TABLE messages ADD COLUMN edited_mentions TEXT NULL;
            CREATE TABLE edits (
                room_id TEXT NOT NULL,
                target INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                PRIMARY KEY (room_id, target, seq)
            ) WITHOUT ROWID;
            CREATE TABLE reactions (
                room_id TEXT NOT NULL,
                target INTEGER NOT NULL,
                emoji TEXT NOT NULL,
                user_id INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                PRIMARY KEY (room_id, target, emoji, user_id)
            ) WITHOUT ROWID;
            CREATE TABLE mentions (
                user_id INTEGER NOT NULL,
                room_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                PRIMARY KEY (user_id, room_id, seq)
            ) WITHOUT ROWID;
            CREATE INDEX mentions_by_message ON mentions(room_id, seq);
            """),

        // Search (protocol v2 §2). search_docs numbers each message that can be found, in the order it was stored
        // (newest first = highest id); search_index is a contentless FTS5 index of its words. Words are normalised in
        // C# (SearchWords, registered on every connection as natter_words) so both stores agree on what a word is;
        // unicode61 then only splits them at the spaces (every category but Z* is a token character, so a letter its
        // Unicode 6.1 tables do not know never splits a word). detail=none: only which messages hold a word, no
        // positions (no phrase queries are needed), and prefix indexes for the lengths most query words have, so
        // a prefix query reads one doclist newest first and stops at the page's end instead of merging every
        // term it starts (docs/search.md has the measurements). Triggers keep the index in the transaction that
        // changes the message (the group commit): a message is indexed when inserted, re-indexed when edited and
        // leaves the index when deleted (its row blanked) or removed. secure-delete makes a removal take the
        // words out of the index's pages (with PRAGMA secure_delete the freed bytes are zeroed), not merely mask
        // them. Existing messages are indexed by SqliteChatStore.AfterMigrationAsync, in this migration's transaction.
        (3, "search: full-text index of messages", """
            CREATE TABLE search_docs (
                id INTEGER PRIMARY KEY,
                room_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                sender_id INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX search_docs_by_message ON search_docs(room_id, seq);
            CREATE VIRTUAL TABLE search_index USING fts5(words, content='', detail=none, prefix='1 2 3 4 5 6 7 8 9 10',
                tokenize="unicode61 remove_diacritics 2 categories 'L* M* N* P* S* C*'");
            INSERT INTO search_index(search_index, rank) VALUES ('secure-delete', 1);
            CREATE TRIGGER search_message_stored AFTER INSERT ON messages WHEN NEW.kind IS NULL BEGIN
                INSERT INTO search_docs (room_id, seq, sender_id) VALUES (NEW.room_id, NEW.seq, NEW.sender_id);
                INSERT INTO search_index (rowid, words) VALUES (last_insert_rowid(), natter_words(NEW.text));
            END;
            CREATE TRIGGER search_message_changed AFTER UPDATE OF text, edited_text, deleted ON messages WHEN NEW.kind IS NULL BEGIN
                INSERT INTO search_index (search_index, rowid, words)
                    SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs WHERE room_id = OLD.room_id AND seq = OLD.seq;
                DELETE FROM search_docs WHERE room_id = OLD.room_id AND seq = OLD.seq AND COALESCE(NEW.deleted, 0) <> 0;
                INSERT INTO search_index (rowid, words)
                    SELECT id, natter_words(COALESCE(NEW.edited_text, NEW.text)) FROM search_docs WHERE room_id = NEW.room_id AND seq = NEW.seq;
            END;
            CREATE TRIGGER search_message_removed AFTER DELETE ON messages WHEN OLD.kind IS NULL BEGIN
                INSERT INTO search_index (search_index, rowid, words)
                    SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs WHERE room_id = OLD.room_id AND seq = OLD.seq;
                DELETE FROM search_docs WHERE room_id = OLD.room_id AND seq = OLD.seq;
            END;
            """),
        (4, "files and the messages that list them", FilesMigration),
        // Protocol v2 §4: a role per membership (the creator of a group room becomes its owner), topic and
        // visibility per room, a deleted marker (a deleted room's row stays so its id is never reused and a racing
        // send finds it), bans, and the membership change log that nodes cut off from the bus replay.
        (5, "rooms: roles, topic, visibility, bans, deletion, membership change log", """
            ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
            ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
            ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
            ALTER TABLE rooms ADD COLUMN deleted_at INTEGER NULL;
            UPDATE members SET role = 'owner'
            WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.id = members.room_id AND r.kind = 'group' AND r.created_by = members.user_id);
            CREATE TABLE room_bans (
                room_id TEXT NOT NULL,
                user_id INTEGER NOT NULL,
                banned_by INTEGER NOT NULL,
                banned_at INTEGER NOT NULL,
                PRIMARY KEY (room_id, user_id)
            ) WITHOUT ROWID;
            CREATE TABLE room_changes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                room_id TEXT NOT NULL,
                payload TEXT NOT NULL,
                ts INTEGER NOT NULL
            );
            CREATE INDEX room_changes_by_ts ON room_changes(ts);
            """),

        // Accounts (protocol v2 §5): a display name (NULL shows the username) and an avatar file id per user, when a
        // session was last used and by which client, and who blocks whom.
        (6, "accounts: display names, avatars, session details, blocks", """
            ALTER TABLE users ADD COLUMN display_name TEXT NULL;
            ALTER TABLE users ADD COLUMN avatar_file TEXT NULL;
            CREATE INDEX users_by_avatar ON users(avatar_file);
            ALTER TABLE sessions ADD COLUMN last_seen INTEGER NULL;
            ALTER TABLE sessions ADD COLUMN user_agent TEXT NULL;
            CREATE TABLE blocks (
                blocker_id INTEGER NOT NULL REFERENCES users(id),
                blocked_id INTEGER NOT NULL REFERENCES users(id),
                created_at INTEGER NOT NULL,
                PRIMARY KEY (blocker_id, blocked_id)
            ) WITHOUT ROWID;
            """),

        // Search indexing moves out of the insert trigger into the group commit (SqliteChatStore.SearchIndexWriter),
        // and a message row names its search_docs row (doc) instead of an index on search_docs(room_id, seq):
        // - a statement with a trigger that writes to FTS5 opens a statement savepoint, and FTS5 flushes its pending
        //   terms to a new segment at every savepoint, so each message was a one-row segment, merged over and over;
        //   from the group commit's own statements the batch's terms become one segment at the commit;
        // - the (room_id, seq) index put one more page per room into every commit's WAL; the edit and removal
        //   triggers (rare) now find the search row by its id, checked against room and seq.
        // Existing rows get their doc in AfterMigrationAsync (chunked, logged); a row whose message cannot be found
        // keeps doc NULL, as does every event that is not a message.
        (7, "search: new messages indexed by the group commit; messages name their search row", """
            DROP TRIGGER search_message_stored;
            DROP TRIGGER search_message_changed;
            DROP TRIGGER search_message_removed;
            DROP INDEX search_docs_by_message;
            ALTER TABLE messages ADD COLUMN doc INTEGER NULL;
            CREATE TRIGGER search_message_changed AFTER UPDATE OF text, edited_text, deleted ON messages WHEN NEW.kind IS NULL AND OLD.doc IS NOT NULL BEGIN
                INSERT INTO search_index (search_index, rowid, words)
                    SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
                DELETE FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq AND COALESCE(NEW.deleted, 0) <> 0;
                INSERT INTO search_index (rowid, words)
                    SELECT id, natter_words(COALESCE(NEW.edited_text, NEW.text)) FROM search_docs WHERE id = NEW.doc AND room_id = NEW.room_id AND seq = NEW.seq;
            END;
            CREATE TRIGGER search_message_removed AFTER DELETE ON messages WHEN OLD.kind IS NULL AND OLD.doc IS NOT NULL BEGIN
                INSERT INTO search_index (search_index, rowid, words)
                    SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
                DELETE FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
            END;
            """),

        // The dedupe index leads with client_id instead of room_id, so a commit's new entries share pages: keyed by
        // (room, sender, client_id) every message wrote its own (room, sender) leaf into the WAL (with random ids a
        // random leaf in it), ~1.4 page frames per message at 40 messages over 40 rooms per commit. Natter's clients
        // make time-ordered ids (UUIDv7), so keyed by client_id first the entries go to the index's right edge, a few
        // pages per commit (0.13 frames per message; bench/README.md, "Session 10, SQLite"). Random ids from other
        // clients cost what they did. Uniqueness is the same set of columns, so a repeat is still caught by the insert's
        // ON CONFLICT and answered with the first event, after any restart.
        (8, "messages: dedupe index keyed by client_id first", """
            DROP INDEX messages_client_id;
            CREATE UNIQUE INDEX messages_by_client_id ON messages(client_id, room_id, sender_id);
            """),

        // The room log becomes a rowid table, appended in commit order, with (room_id, seq) a unique index beside it.
        // Keyed by (room_id, seq), a commit inserted into the middle of the table, one leaf per room it wrote to, and a
        // full leaf was rebalanced with its siblings (several pages of whole rows into the WAL); appended by rowid, a
        // commit's rows fill the table's last pages, and only the small index entries land one leaf per room
        // (bench/README.md, "Session 11, SQLite ingest"). The columns keep their names, order and meaning; the copy
        // (AfterMigrationAsync, chunked, logged) goes room by room in seq order, so a room's existing history stays on
        // neighbouring pages. The search rows (search_docs, search_index) are not touched: each copied row keeps its
        // doc. MessagesSwap then replaces the old table and recreates its indexes and triggers as migrations 7 and 8
        // left them.
        (9, "messages: the room log appended in commit order, (room_id, seq) a unique index", """
            CREATE TABLE messages_v9 (
                room_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                sender_id INTEGER NOT NULL,
                text TEXT NOT NULL,
                ts INTEGER NOT NULL,
                client_id TEXT NOT NULL,
                kind TEXT NULL,
                target INTEGER NULL,
                reply_to INTEGER NULL,
                mentions TEXT NULL,
                emoji TEXT NULL,
                reaction_on INTEGER NULL,
                deleted INTEGER NULL,
                edited_ts INTEGER NULL,
                edited_text TEXT NULL,
                edited_mentions TEXT NULL,
                doc INTEGER NULL
            );
            """),

        // Messages indexed before the pairs rule (SearchWords: a run of Chinese, Japanese or Korean characters is
        // indexed as its overlapping pairs) get the words it gives now, so a word inside such a run finds them. No
        // schema change: SqliteChatStore.ReindexPairsAsync does it, in chunks with progress in the log.
        (10, "search: older Chinese, Japanese and Korean messages indexed as character pairs", """
            -- the rows are re-indexed by SqliteChatStore.ReindexPairsAsync
            """),

        // A new message's words wait in search_pending (a plain table, in the same transaction as the message) and move
        // into the full-text index many commits at a time (SqliteChatStore.FlushSearchIndex): FTS5 writes a new segment
        // for every transaction that adds to it, about 200 µs of CPU and 6-7 WAL pages for each of W1's dozen-message
        // commits (bench/README.md, "Session 12"). A search moves every waiting row first, so it finds every stored
        // message. The triggers take a waiting message's words out of search_pending instead of the index (where they
        // are not yet); an edit puts the new words straight into the index.
        (11, "search: new messages' words wait in search_pending and join the index in batches", """
            CREATE TABLE search_pending (
                id INTEGER PRIMARY KEY,
                words TEXT NOT NULL
            );
            DROP TRIGGER search_message_changed;
            DROP TRIGGER search_message_removed;
            """ + SearchTriggers),
    ];

    /// <summary>
    /// The edit and removal triggers since migration 11 (a message row names its search_docs row, doc; its words are
    /// either in the index or still in search_pending): the old words leave the index only if they are in it.
    /// </summary>
    private const string SearchTriggers = """
        CREATE TRIGGER search_message_changed AFTER UPDATE OF text, edited_text, deleted ON messages WHEN NEW.kind IS NULL AND OLD.doc IS NOT NULL BEGIN
            INSERT INTO search_index (search_index, rowid, words)
                SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs
                WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq AND NOT EXISTS (SELECT 1 FROM search_pending WHERE id = OLD.doc);
            DELETE FROM search_pending WHERE id = (SELECT id FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq);
            DELETE FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq AND COALESCE(NEW.deleted, 0) <> 0;
            INSERT INTO search_index (rowid, words)
                SELECT id, natter_words(COALESCE(NEW.edited_text, NEW.text)) FROM search_docs WHERE id = NEW.doc AND room_id = NEW.room_id AND seq = NEW.seq;
        END;
        CREATE TRIGGER search_message_removed AFTER DELETE ON messages WHEN OLD.kind IS NULL AND OLD.doc IS NOT NULL BEGIN
            INSERT INTO search_index (search_index, rowid, words)
                SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs
                WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq AND NOT EXISTS (SELECT 1 FROM search_pending WHERE id = OLD.doc);
            DELETE FROM search_pending WHERE id = (SELECT id FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq);
            DELETE FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
        END;
        """;

    /// <summary>The columns of the room log, in the table's order (migration 9 copies them all).</summary>
    public const string MessagesColumns =
        "room_id, seq, sender_id, text, ts, client_id, kind, target, reply_to, mentions, emoji, reaction_on, deleted, edited_ts, edited_text, edited_mentions, doc";

    /// <summary>Migration 9, after the copy: the new table takes the old one's place, with its indexes and triggers.</summary>
    public const string MessagesSwap = """
        DROP TABLE messages;
        ALTER TABLE messages_v9 RENAME TO messages;
        CREATE UNIQUE INDEX messages_by_seq ON messages(room_id, seq);
        CREATE UNIQUE INDEX messages_by_client_id ON messages(client_id, room_id, sender_id);
        """ + SearchTriggersBefore11;

    /// <summary>The edit and removal triggers of migrations 7 to 10 (every message's words in the index).</summary>
    internal const string SearchTriggersBefore11 = """
        CREATE TRIGGER search_message_changed AFTER UPDATE OF text, edited_text, deleted ON messages WHEN NEW.kind IS NULL AND OLD.doc IS NOT NULL BEGIN
            INSERT INTO search_index (search_index, rowid, words)
                SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
            DELETE FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq AND COALESCE(NEW.deleted, 0) <> 0;
            INSERT INTO search_index (rowid, words)
                SELECT id, natter_words(COALESCE(NEW.edited_text, NEW.text)) FROM search_docs WHERE id = NEW.doc AND room_id = NEW.room_id AND seq = NEW.seq;
        END;
        CREATE TRIGGER search_message_removed AFTER DELETE ON messages WHEN OLD.kind IS NULL AND OLD.doc IS NOT NULL BEGIN
            INSERT INTO search_index (search_index, rowid, words)
                SELECT 'delete', id, natter_words(COALESCE(OLD.edited_text, OLD.text)) FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
            DELETE FROM search_docs WHERE id = OLD.doc AND room_id = OLD.room_id AND seq = OLD.seq;
        END;
        """;
}
