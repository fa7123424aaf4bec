using Natter.Server.Storage.Sqlite;

namespace Natter.Tests.Infrastructure;

/// <summary>
/// For tests that take a database of the current version back to an older one: undoes migration 11 first (the words
/// that wait join the index, search_pending goes, the triggers are those of migrations 7 to 10), so the older
/// migrations run again on the state they were written for.
/// </summary>
internal static class SqliteBeforeSearchWaiting
{
    public const string Sql = """
        INSERT INTO search_index (rowid, words) SELECT id, words FROM search_pending;
        DROP TABLE search_pending;
        DROP TRIGGER search_message_changed;
        DROP TRIGGER search_message_removed;
        """ + SqliteSchema.SearchTriggersBefore11 + """
        DELETE FROM schema_migrations WHERE version >= 11;
        """;
}
