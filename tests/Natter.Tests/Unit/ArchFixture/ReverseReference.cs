// A deliberate violation of the folder rules, for ArchitectureTests.A_reverse_reference_is_reported.
namespace Natter.Tests.Unit.ArchFixture.Entry
{
    public sealed class Acceptor
    {
        public static int Accept() => 1;
    }
}

namespace Natter.Tests.Unit.ArchFixture.Storage
{
    public static class ReachesBack
    {
        public static int Use() => Entry.Acceptor.Accept();
    }
}

namespace Natter.Tests.Unit.ArchFixture.Delivery
{
    public static class UsesStorage
    {
        public static int Use() => Storage.ReachesBack.Use();
    }
}
