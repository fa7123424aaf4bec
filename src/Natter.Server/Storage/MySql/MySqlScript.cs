using System.Text;
using MySqlConnector;

namespace Natter.Server.Storage.MySql;

/// <summary>
/// Several statements sent as one command, so they cost one round trip: the group commit's writes. Values are
/// positional parameters (<c>?</c>), which the driver substitutes without looking names up. The text is sent once it
/// and its values pass <see cref="MaxChars"/>, and the rest follows in another command (a command must fit max_allowed_packet,
/// 16 MiB by default; a row of text is at most a few KiB). A failing statement stops the command and throws; the
/// statements before it stay in the transaction, so the caller rolls back.
/// </summary>
internal sealed class MySqlScript(MySqlConnection conn, MySqlTransaction? tx = null)
{
    /// <summary>About 4 MiB of SQL text per command (each character of a value is at most 4 bytes on the wire).</summary>
    public const int MaxChars = 1 << 20;

    private readonly StringBuilder _sql = new();
    private readonly List<object?> _values = [];
    private int _valueChars;

    public int Statements { get; private set; }

    public int RoundTrips { get; private set; }

    public StringBuilder Sql => _sql;

    /// <summary>Appends a value as a parameter.</summary>
    public MySqlScript Value(object? value)
    {
        _sql.Append('?');
        _values.Add(value);
        _valueChars += value switch
        {
            string text => text.Length,
            byte[] bytes => bytes.Length,
            _ => 8,
        };
        return this;
    }

    public MySqlScript Text(string sql)
    {
        _sql.Append(sql);
        return this;
    }

    /// <summary>Ends a statement; sends what is queued when it has grown past <see cref="MaxChars"/>.</summary>
    public async Task EndAsync(CancellationToken ct)
    {
        _sql.Append(";\n");
        Statements++;
        if (_sql.Length + _valueChars >= MaxChars)
        {
            await FlushAsync(ct);
        }
    }

    private static MySqlDbType TypeOf(object? value) => value switch
    {
        string => MySqlDbType.VarChar,
        long => MySqlDbType.Int64,
        int => MySqlDbType.Int32,
        byte[] => MySqlDbType.VarBinary,
        null => MySqlDbType.Null,
        _ => throw new ArgumentException($"No SQL type for a {value.GetType().Name} in a script.", nameof(value)),
    };

    /// <summary>Sends every statement queued (one round trip); nothing when none is.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_sql.Length == 0)
        {
            return;
        }

        await using var cmd = new MySqlCommand(_sql.ToString(), conn, tx);
        foreach (var value in _values)
        {
            // The type is set before the value, so the driver does not infer it (a search through its type map per
            // parameter, a few thousand per group commit).
            cmd.Parameters.Add(new MySqlParameter { MySqlDbType = TypeOf(value), Value = value ?? DBNull.Value });
        }

        _sql.Clear();
        _values.Clear();
        _valueChars = 0;
        RoundTrips++;
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
