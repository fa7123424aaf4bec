using Natter.LoadGen;

// Natter load generator: see bench/README.md. Exit status 0 = ran and checks passed, 1 = checks failed, 2 = usage.
Options options;
try
{
    options = Options.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
// A hard ceiling: no run outlives its own budget (preparation of many users included).
cts.CancelAfter(TimeSpan.FromSeconds(options.Warmup + options.Duration + options.Drain + (options.Scenario == "search" ? 7200 : 1800)));

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency * 2 }) { Timeout = TimeSpan.FromSeconds(120) };
var probe = new ServerProbe(options.ServerPids);
if (options.ServerPids.Count > 0 && !probe.Enabled)
{
    Console.Error.WriteLine($"no /proc/PID for one of {string.Join(", ", options.ServerPids)}: server CPU and RSS will be n/a");
}

var report = options.Scenario switch
{
    "fanout" or "direct" => await new TrafficScenario(options, http, probe).RunAsync(cts.Token),
    "idle" => await new IdleScenario(options, http, probe).RunAsync(cts.Token),
    "ingest" => await new IngestScenario(options, http, probe).RunAsync(cts.Token),
    "search" => await new SearchScenario(options, http, probe).RunAsync(cts.Token),
    _ => await new SyncScenario(options, http, probe).RunAsync(cts.Token),
};

Console.WriteLine(report.Markdown());
if (options.Out is { } path)
{
    await File.AppendAllTextAsync(path, report.Json() + Environment.NewLine, cts.Token);
    Console.Error.WriteLine($"appended to {path}");
}
return report.Failed ? 1 : 0;
