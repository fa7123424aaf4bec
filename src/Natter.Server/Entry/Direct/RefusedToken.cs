namespace Natter.Server.Entry.Direct;

/// <summary>
/// A connection feature left by <see cref="DirectUpgrade"/> when the token of a connection's first request named no
/// live session: the request goes on to Kestrel's HTTP as before, and <see cref="SocketAcceptor.HandleAsync"/>
/// answers its 401 without looking the same token up again (a refused token costs one store lookup, not two).
/// It holds for that one request only, and only for the same token.
/// </summary>
public sealed class RefusedToken(string token)
{
    private string? _token = token;

    /// <summary>True once, when <paramref name="token"/> is the token the direct path found refused.</summary>
    public bool Take(string? token)
    {
        if (token is null || !string.Equals(token, _token, StringComparison.Ordinal))
        {
            return false;
        }

        _token = null;
        return true;
    }
}
