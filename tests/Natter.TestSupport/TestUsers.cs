namespace Natter.TestSupport;

/// <summary>Lets a test name the users it registers at once: <c>var (amy, ben, cal) = await server.UsersNamedAsync("amy", "ben", "cal");</c></summary>
public static class TestUsers
{
    public static void Deconstruct(this TestUser[] users, out TestUser first, out TestUser second)
    {
        Expect(users, 2);
        (first, second) = (users[0], users[1]);
    }

    public static void Deconstruct(this TestUser[] users, out TestUser first, out TestUser second, out TestUser third)
    {
        Expect(users, 3);
        (first, second, third) = (users[0], users[1], users[2]);
    }

    public static void Deconstruct(this TestUser[] users, out TestUser first, out TestUser second, out TestUser third, out TestUser fourth)
    {
        Expect(users, 4);
        (first, second, third, fourth) = (users[0], users[1], users[2], users[3]);
    }

    private static void Expect(TestUser[] users, int count)
    {
        if (users.Length != count)
        {
            throw new ArgumentException($"{users.Length} users for {count} names", nameof(users));
        }
    }
}
