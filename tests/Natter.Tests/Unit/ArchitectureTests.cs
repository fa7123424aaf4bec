using System.Reflection;
using NetArchTest.Rules;
using Natter.Server;

namespace Natter.Tests.Unit;

/// <summary>
/// Dependencies point one way along the path of a message (docs/architecture.md): a stage never reaches back into
/// an earlier one. Checked over the compiled IL (NetArchTest reads method bodies too, not only signatures).
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>Each folder under Natter.Server and the folders it may use besides itself (Common sits beneath all).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        ["Common"] = [],
        ["Api"] = ["Common"],
        ["Storage"] = ["Common"],
        ["Bus"] = ["Common", "Storage"],
        ["Accounts"] = ["Common", "Api", "Storage", "Bus"],
        ["Rooms"] = ["Common", "Api", "Storage", "Bus"],
        ["Files"] = ["Common", "Api", "Storage"],
        ["Sending"] = ["Common", "Storage", "Bus", "Rooms"],
        ["Delivery"] = ["Common", "Storage", "Bus", "Rooms"],
        ["Search"] = ["Common", "Api", "Storage", "Rooms"],
        ["Entry"] = ["Common", "Api", "Storage", "Bus", "Rooms", "Accounts", "Sending", "Delivery"],
        ["Hosting"] = ["Common", "Api", "Storage", "Bus", "Rooms", "Accounts", "Sending", "Delivery", "Entry", "Search", "Files"],
    };

    /// <summary>Types of <paramref name="root"/>.X that use a folder X may not use, as "Type -> Folder".</summary>
    public static IReadOnlyList<string> Violations(Assembly assembly, string root, IReadOnlyDictionary<string, string[]> allowed)
    {
        var violations = new List<string>();
        foreach (var (folder, uses) in allowed)
        {
            foreach (var other in allowed.Keys.Where(k => k != folder && !uses.Contains(k)))
            {
                var result = Types.InAssembly(assembly)
                    .That().ResideInNamespace($"{root}.{folder}")
                    .Should().NotHaveDependencyOnAny($"{root}.{other}")
                    .GetResult();
                violations.AddRange((result.FailingTypes ?? []).Select(t => $"{t.FullName} -> {other}"));
            }
        }

        return violations;
    }

    [Fact]
    public void Every_folder_of_the_server_depends_only_on_the_folders_before_it()
    {
        Assert.Empty(Violations(typeof(NatterApp).Assembly, "Natter.Server", Allowed));
    }

    [Fact]
    public void Every_server_type_lives_in_a_folder_the_rules_name()
    {
        var unplaced = typeof(NatterApp).Assembly.GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith("Natter.Server.", StringComparison.Ordinal)
                && !Allowed.Keys.Any(k => ns == $"Natter.Server.{k}" || ns.StartsWith($"Natter.Server.{k}.", StringComparison.Ordinal)))
            .Select(t => t.FullName)
            .ToArray();
        Assert.Empty(unplaced);
    }

    [Fact]
    public void A_reverse_reference_is_reported()
    {
        // The fixture below plants one: a "Storage" type that reaches back into "Entry".
        var found = Violations(typeof(ArchitectureTests).Assembly, "Natter.Tests.Unit.ArchFixture", Allowed);
        Assert.Equal(["Natter.Tests.Unit.ArchFixture.Storage.ReachesBack -> Entry"], found);
    }
}
