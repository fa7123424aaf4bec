using System.Diagnostics;
using System.Globalization;

namespace Natter.LoadGen;

/// <summary>
/// Reads local servers' CPU time (utime+stime) and resident memory from /proc. With several pids (the nodes of a
/// cluster) the figures are their sums.
/// </summary>
internal sealed class ServerProbe(IReadOnlyList<int> pids)
{
    // USER_HZ is 100 on every mainstream Linux build; /proc/PID/stat counts in those ticks.
    private const double TicksPerSecond = 100;

    public ServerProbe(int? pid)
        : this(pid is { } p ? [p] : [])
    {
    }

    public bool Enabled => pids.Count > 0 && pids.All(p => File.Exists($"/proc/{p}/stat"));

    /// <summary>Server CPU seconds so far (summed over the pids), or null without pids.</summary>
    public double? CpuSeconds()
    {
        if (!Enabled)
        {
            return null;
        }
        long ticks = 0;
        foreach (var pid in pids)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        return ticks / TicksPerSecond;
    }

    /// <summary>Server VmRSS in KiB (summed over the pids), or null without pids.</summary>
    public long? RssKiB()
    {
        if (!Enabled)
        {
            return null;
        }
        long total = 0;
        foreach (var pid in pids)
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    total += long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                    break;
                }
            }
        }
        return total;
    }

    public static double OwnCpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }
}
