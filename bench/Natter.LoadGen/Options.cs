using System.Globalization;
using System.Net;

namespace Natter.LoadGen;

/// <summary>Command line: a scenario name then --key value pairs. Every knob has a ceiling so a typo cannot flood a machine.</summary>
internal sealed class Options
{
    public const string Usage = """
        usage: Natter.LoadGen <fanout|direct|idle|ingest|sync|search> [options]
          --url URL            server base URL (default http://127.0.0.1:5000); non-loopback needs --allow-remote.
                               Repeat it (or --urls URL,URL,...) to spread users over several nodes of a cluster,
                               round-robin per user (user i connects to URL i mod N)
          --rate N             total sends per second (fanout, direct; default 1000, max 200000)
          --rooms N            rooms (fanout; default 10)            --members N   members per room (fanout, idle; default 10)
          --pairs N            user pairs (direct; default 50)       --connections N  idle sockets (idle; default 1000, max 19500)
          --senders N          senders = rooms (ingest; default 100) --window N    outstanding sends per sender (ingest; default 16)
          --messages N         missed messages (sync) or messages to fill (search); default 10000, max 1000000
          --queries N          two-word queries (search; default 1000)  --vocabulary N  distinct words (search; default 20000)
          --db FILE            the server's SQLite file, to measure the search index (search; optional)
          --seed N             random seed for words and queries (search; default 1)
          (search uses --senders, default 100, as senders and --rooms as rooms; every sender is in every room)
          --duration S         measured seconds (default 10, max 600) --warmup S  unmeasured seconds first (default 2)
          --drain S            max seconds to wait for outstanding deliveries (default 10)
          --server-pid PID     read /proc/PID for server CPU per message and RSS per connection; repeat it (or
                               --server-pids PID,PID,...) for several nodes: their CPU and RSS are summed
          --store-pid PID      read /proc/PID for the database's CPU per message (ingest; e.g. mariadbd's pid)
          --out FILE           append the result as one JSON object per line
          --user-prefix P      user names are P.<scenario>.<i>, registered or reused (default lg)
          --password P         password of those users (default loadgen-password)
          --concurrency N      REST calls in flight while preparing (default 16)
          --token-cache FILE   where tokens are kept between runs (default: a file in the temp folder; none = off)
          --allow-remote       allow a non-loopback --url
        """;

    public string Scenario { get; private set; } = "";
    private readonly List<Uri> _urls = [];
    private readonly List<int> _serverPids = [];

    /// <summary>The first URL: the one single-node scenarios and the token cache use.</summary>
    public Uri Url => Urls[0];

    /// <summary>Every node's URL; user i connects to Urls[i % Urls.Count].</summary>
    public IReadOnlyList<Uri> Urls => _urls.Count > 0 ? _urls : [new Uri("http://127.0.0.1:5000/")];

    public Uri UrlOf(int user) => Urls[user % Urls.Count];

    public IReadOnlyList<int> ServerPids => _serverPids;
    public int? StorePid { get; private set; }
    public int Rate { get; private set; } = 1000;
    public int Rooms { get; private set; } = 10;
    public int Members { get; private set; } = 10;
    public int Pairs { get; private set; } = 50;
    public int Connections { get; private set; } = 1000;
    public int Senders { get; private set; } = 100;
    public int Window { get; private set; } = 16;
    public int Messages { get; private set; } = 10_000;
    public int Queries { get; private set; } = 1000;
    public int Vocabulary { get; private set; } = 20_000;
    public string? Db { get; private set; }
    public int Seed { get; private set; } = 1;
    public double Duration { get; private set; } = 10;
    public double Warmup { get; private set; } = 2;
    public double Drain { get; private set; } = 10;
    public string? Out { get; private set; }
    public string UserPrefix { get; private set; } = "lg";
    public string Password { get; private set; } = "loadgen-password";
    public int Concurrency { get; private set; } = 16;
    public string? TokenCache { get; private set; }
    public Dictionary<string, string> Raw { get; } = new(StringComparer.Ordinal);

    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("fanout" or "direct" or "idle" or "ingest" or "sync" or "search"))
        {
            throw new ArgumentException("unknown or missing scenario");
        }
        var o = new Options { Scenario = args[0] };
        var allowRemote = false;
        for (var i = 1; i < args.Length; i++)
        {
            var key = args[i];
            if (key == "--allow-remote")
            {
                allowRemote = true;
                continue;
            }
            if (!key.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"bad argument {key}");
            }
            var value = args[++i];
            o.Raw[key[2..]] = o.Raw.TryGetValue(key[2..], out var earlier) ? earlier + "," + value : value;
            switch (key)
            {
                case "--url": o._urls.Add(ParseUrl(value)); break;
                case "--urls": o._urls.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseUrl)); break;
                case "--rate": o.Rate = Int(value, 1, 200_000); break;
                case "--rooms": o.Rooms = Int(value, 1, 10_000); break;
                case "--members": o.Members = Int(value, 1, 1000); break;
                case "--pairs": o.Pairs = Int(value, 1, 10_000); break;
                case "--connections": o.Connections = Int(value, 1, 19_500); break;
                case "--senders": o.Senders = Int(value, 1, 5000); break;
                case "--window": o.Window = Int(value, 1, 1000); break;
                case "--messages": o.Messages = Int(value, 1, 1_000_000); break;
                case "--queries": o.Queries = Int(value, 1, 100_000); break;
                case "--vocabulary": o.Vocabulary = Int(value, 100, 1_000_000); break;
                case "--db": o.Db = value; break;
                case "--seed": o.Seed = Int(value, 0, int.MaxValue); break;
                case "--duration": o.Duration = Dbl(value, 0.5, 600); break;
                case "--warmup": o.Warmup = Dbl(value, 0, 120); break;
                case "--drain": o.Drain = Dbl(value, 0, 120); break;
                case "--server-pid": o._serverPids.Add(Int(value, 1, int.MaxValue)); break;
                case "--server-pids": o._serverPids.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Int(v, 1, int.MaxValue))); break;
                case "--store-pid": o.StorePid = Int(value, 1, int.MaxValue); break;
                case "--out": o.Out = value; break;
                case "--user-prefix": o.UserPrefix = value.ToLowerInvariant(); break;
                case "--password": o.Password = value; break;
                case "--concurrency": o.Concurrency = Int(value, 1, 256); break;
                case "--token-cache": o.TokenCache = value; break;
                default: throw new ArgumentException($"unknown option {key}");
            }
        }
        if (o._urls.Count > 64)
        {
            throw new ArgumentException("at most 64 URLs");
        }
        if (!allowRemote && o.Urls.FirstOrDefault(u => !IsLoopback(u)) is { } remote)
        {
            throw new ArgumentException($"{remote} is not loopback; pass --allow-remote to load a remote server");
        }
        if (o.Scenario is "fanout" && o.Rooms * o.Members > 19_500)
        {
            throw new ArgumentException("rooms x members is capped at 19500 connections");
        }
        return o;
    }

    private static Uri ParseUrl(string value) => new(value.EndsWith('/') ? value : value + "/");

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host, out var ip) && IPAddress.IsLoopback(ip));

    private static int Int(string value, int min, int max)
    {
        var v = int.Parse(value, CultureInfo.InvariantCulture);
        return v < min || v > max ? throw new ArgumentException($"{value} is outside {min}..{max}") : v;
    }

    private static double Dbl(string value, double min, double max)
    {
        var v = double.Parse(value, CultureInfo.InvariantCulture);
        return v < min || v > max ? throw new ArgumentException($"{value} is outside {min}..{max}") : v;
    }
}
