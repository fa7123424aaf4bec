using System.Diagnostics;
using System.Globalization;

namespace Natter.LoadGen;

/// <summary>Reads a local server's CPU time (utime+stime) and resident memory from /proc.</summary>
internal sealed class ServerProbe(int? pid)
{
    // USER_HZ is 100 on every mainstream Linux build; /proc/PID/stat counts in those ticks.
    private const double TicksPerSecond = 100;

    public bool Enabled => pid is not null && File.Exists($"/proc/{pid}/stat");

    /// <summary>Server CPU seconds so far, or null without a pid.</summary>
    public double? CpuSeconds()
    {
        if (!Enabled)
        {
            return null;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    /// <summary>Server VmRSS in KiB, or null without a pid.</summary>
    public long? RssKiB()
    {
        if (!Enabled)
        {
            return null;
        }
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    public static double OwnCpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }
}
