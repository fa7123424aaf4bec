using Natter.TestSupport.Specs;

namespace Natter.ClusterTests;

/// <summary>The store spec on MariaDB (the SQLite half runs in Natter.Tests).</summary>
public sealed class MariaDbStoreTests : MariaDbStoreSpec;
