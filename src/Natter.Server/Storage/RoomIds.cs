using System.Security.Cryptography;

namespace Natter.Server.Storage;

/// <summary>Opaque room ids: "r" and 12 random base-32 characters, so ids reveal nothing and never collide in practice.</summary>
public static class RoomIds
{
    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    public static string New() => "r" + RandomNumberGenerator.GetString(Alphabet, 12);
}
