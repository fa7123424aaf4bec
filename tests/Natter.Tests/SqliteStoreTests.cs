using Natter.TestSupport.Specs;

namespace Natter.Tests;

/// <summary>The store spec on SQLite (the MariaDB half runs in Natter.ClusterTests).</summary>
public sealed class SqliteStoreTests : SqliteStoreSpec;
