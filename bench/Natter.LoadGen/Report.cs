using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HdrHistogram;

namespace Natter.LoadGen;

/// <summary>One scenario's result: ordered metrics, printed as a markdown table and appended to --out as one JSON line.</summary>
internal sealed class Report(Options options)
{
    private readonly List<(string Key, string Label, double? Value, string Format)> _metrics = [];
    private readonly List<string> _warnings = [];

    public void Add(string key, string label, double? value, string format = "N0") => _metrics.Add((key, label, value, format));

    public void Warn(string warning) => _warnings.Add(warning);

    public bool Failed => _warnings.Count > 0;

    /// <summary>Adds p50/p90/p99/p99.9/max in milliseconds from a histogram recorded in microseconds.</summary>
    public void AddLatency(string key, string label, HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            Add(key + "_p50_ms", label + " p50 (ms)", null);
            return;
        }
        foreach (var (suffix, p) in new[] { ("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9) })
        {
            Add($"{key}_{suffix}_ms", $"{label} {suffix.Replace("p999", "p99.9", StringComparison.Ordinal)} (ms)",
                histogram.GetValueAtPercentile(p) / 1000.0, "N2");
        }
        Add(key + "_max_ms", label + " max (ms)", histogram.GetMaxValue() / 1000.0, "N2");
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"### {options.Scenario} — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {string.Join(", ", options.Urls)}\n\n");
        sb.Append("| metric | value |\n|---|---:|\n");
        foreach (var (_, label, value, format) in _metrics)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {label} | {(value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a")} |\n");
        }
        foreach (var w in _warnings)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n**warning:** {w}\n");
        }
        return sb.ToString();
    }

    public string Json()
    {
        var parameters = new JsonObject();
        foreach (var (k, v) in options.Raw)
        {
            parameters[k] = v;
        }
        var metrics = new JsonObject();
        foreach (var (key, _, value, _) in _metrics)
        {
            metrics[key] = value is { } v && double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 3)) : null;
        }
        var warnings = new JsonArray([.. _warnings.Select(w => (JsonNode?)JsonValue.Create(w))]);
        var root = new JsonObject
        {
            ["scenario"] = options.Scenario,
            ["date"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["url"] = string.Join(",", options.Urls),
            ["machine"] = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["parameters"] = parameters,
            ["metrics"] = metrics,
            ["warnings"] = warnings,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
