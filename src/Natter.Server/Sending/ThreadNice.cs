using System.Runtime.InteropServices;

namespace Natter.Server.Sending;

/// <summary>The calling thread's nice value on Linux (setpriority on its thread id); elsewhere nothing is done.</summary>
internal static class ThreadNice
{
    private const int PrioProcess = 0;

    /// <summary>True when the nice value was set (or 0 was asked for, or the system is not Linux).</summary>
    public static bool TrySet(int nice)
    {
        if (nice == 0 || !OperatingSystem.IsLinux())
        {
            return true;
        }

        try
        {
            return SetPriority(PrioProcess, GetTid(), nice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "setpriority")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetPriority(int which, int who, int prio);
}
