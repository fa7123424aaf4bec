namespace Natter.Protocol;

/// <summary>The value rules of protocol v1, shared by the server and clients.</summary>
public static class Validation
{
    /// <summary>Shortest username.</summary>
    public const int UsernameMin = 3;
    /// <summary>Longest username.</summary>
    public const int UsernameMax = 32;
    /// <summary>Shortest password.</summary>
    public const int PasswordMin = 8;
    /// <summary>Longest password.</summary>
    public const int PasswordMax = 1024;
    /// <summary>Longest room name, in code points after trimming.</summary>
    public const int RoomNameMax = 64;
    /// <summary>Longest client_id, in characters.</summary>
    public const int ClientIdMax = 64;
    /// <summary>Longest message text, in code points after trimming (the server's default limit).</summary>
    public const int TextMax = 4000;
    /// <summary>
    /// The username rule as a regular expression over the lower-cased name (what <see cref="NormalizeUsername"/> accepts),
    /// for clients that check a name before sending it.
    /// </summary>
    public const string UsernamePattern = "^[a-z0-9_.-]{3,32}$";

    /// <summary>Returns the lower-case username, or null when it breaks the rules.</summary>
    public static string? NormalizeUsername(string? input)
    {
        if (input is null || input.Length < UsernameMin || input.Length > UsernameMax)
        {
            return null;
        }

        var lower = input.ToLowerInvariant();
        foreach (var c in lower)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.' or '-';
            if (!ok)
            {
                return null;
            }
        }

        return lower;
    }

    /// <summary>True when the password's length is within the rules.</summary>
    public static bool IsValidPassword(string? password) =>
        password is not null && password.Length >= PasswordMin && password.Length <= PasswordMax;

    /// <summary>Number of Unicode code points (a surrogate pair counts once).</summary>
    public static int CodePoints(string s)
    {
        var n = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    /// <summary>Trims and checks a room name; null when empty or longer than the limit.</summary>
    public static string? NormalizeRoomName(string? input)
    {
        if (input is null)
        {
            return null;
        }

        var trimmed = input.Trim();
        var n = CodePoints(trimmed);
        return n is >= 1 and <= RoomNameMax ? trimmed : null;
    }

    /// <summary>True when a client_id has 1–64 characters.</summary>
    public static bool IsValidClientId(string? clientId) =>
        clientId is { Length: >= 1 and <= ClientIdMax };
}
